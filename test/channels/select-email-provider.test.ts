import { describe, expect, it } from 'vitest';
import { selectEmailProvider } from '../../src/channels/email/select-email-provider';
import { ConfigError, loadConfig } from '../../src/config/env';
import type { OutboxRepository } from '../../src/repositories/outbox';

const outbox = {} as OutboxRepository;
const emailConfig = (env: Record<string, string>) => loadConfig({ HERALD_DATA_DIR: '/tmp/herald-unused', ...env }).email;

describe('email provider selection', () => {
  it('uses the outbox without RESEND_API_KEY, Resend with it, and what HERALD_EMAIL_PROVIDER names', () => {
    expect(selectEmailProvider(emailConfig({}), outbox).name).toBe('outbox');
    expect(selectEmailProvider(emailConfig({ RESEND_API_KEY: 're_x' }), outbox).name).toBe('resend');
    expect(selectEmailProvider(emailConfig({ RESEND_API_KEY: 're_x', HERALD_EMAIL_PROVIDER: 'outbox' }), outbox).name).toBe('outbox');
  });

  it('refuses to start a worker told to use Resend without its key, saying how to fix it', () => {
    expect(() => selectEmailProvider(emailConfig({ HERALD_EMAIL_PROVIDER: 'resend' }), outbox)).toThrow(ConfigError);
    expect(() => selectEmailProvider(emailConfig({ HERALD_EMAIL_PROVIDER: 'resend' }), outbox)).toThrow(/set RESEND_API_KEY/);
  });
});
