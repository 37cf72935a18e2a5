import { describe, expect, it } from 'vitest';
import {
  envNameProblem,
  isSafeSender,
  namedEnvVariables,
  parseProviderSettings,
  reviewChannelConfiguration,
  type ChannelConfiguration,
} from '../../src/domain/channel-configuration';

describe('channel configuration rules', () => {
  it('accepts senders on one line only', () => {
    for (const ok of ['a@acme.example', 'Acme <a@acme.example>', 'Acme Billing <billing+eu@acme.example>']) expect(isSafeSender(ok), ok).toBe(true);
    for (const bad of [
      'Acme\r\nBcc: x@y.z <a@acme.example>',
      'a@acme.example\nBcc: x@y.z',
      'Acme <not-an-address>',
      '<a@b.example> <c@d.example>',
      '',
      'Acme <a@acme.example',
    ])
      expect(isSafeSender(bad), JSON.stringify(bad)).toBe(false);
  });

  it("takes environment variable names, never Herald's own", () => {
    expect(envNameProblem('ACME_RESEND_KEY')).toBeUndefined();
    expect(envNameProblem('RESEND_API_KEY')).toBeUndefined();
    for (const bad of [
      'acme',
      '1KEY',
      'A-B',
      'A'.repeat(129),
      'HERALD_API_KEYS',
      'HERALD_PAYLOAD_KEYS',
      'TEMPORAL_API_KEY',
      'DATABASE_URL',
      'PGPASSWORD',
      'NODE_OPTIONS',
      'PATH',
    ])
      expect(envNameProblem(bad), bad).toBeDefined();
  });

  it('validates settings per channel and provider, with defaults', () => {
    expect(parseProviderSettings('email', 'resend', { from: 'a@acme.example' })).toEqual({ settings: { from: 'a@acme.example', apiKeyEnv: 'RESEND_API_KEY' } });
    expect(parseProviderSettings('email', 'fcm', {})).toEqual({
      issues: [{ field: 'provider', message: expect.stringContaining('resend, smtp, ses, outbox') }],
    });
    const headers = parseProviderSettings('email', 'resend', { from: 'a@acme.example', headers: { 'X-A': 'one\r\nBcc: x@y.z', 'Reply-To': 'x@y.z' } });
    expect('issues' in headers && headers.issues.map((issue) => issue.field)).toEqual(['settings.headers.X-A', 'settings.headers.Reply-To']);
  });

  it('reviews a reference: exists, same channel, variables present', () => {
    const configuration: ChannelConfiguration = {
      id: 'c1',
      name: 'n',
      channel: 'sms',
      provider: 'twilio',
      settings: { from: '+14155550100', accountSidEnv: 'SID', authTokenEnv: 'TOKEN' },
      fallback: [],
      circuitBreaker: { failureThreshold: 5, openSeconds: 30 },
      createdAt: '',
      updatedAt: '',
    };
    expect(namedEnvVariables(configuration)).toEqual(['SID', 'TOKEN']);
    expect(reviewChannelConfiguration({ channel: 'email' }, undefined, () => false)).toEqual([]);
    expect(reviewChannelConfiguration({ channel: 'email', channelConfigurationId: 'gone' }, undefined, () => true)).toEqual([
      { field: 'channelConfigurationId', message: expect.stringContaining('does not exist') },
    ]);
    const issues = reviewChannelConfiguration({ channel: 'email', channelConfigurationId: 'c1' }, configuration, (name) => name === 'SID');
    expect(issues.map((issue) => issue.message)).toEqual([expect.stringContaining('is for sms'), expect.stringContaining('TOKEN')]);
  });
});
