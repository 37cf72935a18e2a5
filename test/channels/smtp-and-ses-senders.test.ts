import { describe, expect, it } from 'vitest';
import { emailSenders } from '../../src/channels/email/email-senders';
import { OutboxEmailProvider } from '../../src/channels/email/outbox-provider';
import { SesEmailProvider } from '../../src/channels/email/ses-provider';
import { SmtpEmailProvider } from '../../src/channels/email/smtp-provider';
import { ProviderRejectedError, ProviderUnavailableError } from '../../src/channels/provider-errors';
import { parseProviderSettings, reviewChannelConfiguration, type ChannelConfiguration } from '../../src/domain/channel-configuration';
import type { ChannelConfigurationRepository } from '../../src/repositories/channel-configurations';
import type { OutboxRepository } from '../../src/repositories/outbox';

const smtpSettings = { host: 'smtp.acme.example', username: 'herald', passwordEnv: 'ACME_SMTP_PASSWORD', from: 'Acme <no-reply@acme.example>' };
const sesSettings = { region: 'eu-west-1', accessKeyIdEnv: 'ACME_SES_KEY_ID', secretAccessKeyEnv: 'ACME_SES_SECRET', from: 'no-reply@acme.example' };

describe('smtp and ses settings', () => {
  it('takes an SMTP server with defaults for port and TLS, and a password only with a username', () => {
    expect(parseProviderSettings('email', 'smtp', smtpSettings)).toEqual({ settings: { ...smtpSettings, port: 587, secure: false } });
    expect(parseProviderSettings('email', 'smtp', { host: '127.0.0.1', port: 2525, secure: false, from: 'a@example.com' })).toHaveProperty('settings');
    expect(parseProviderSettings('email', 'smtp', { ...smtpSettings, passwordEnv: undefined })).toEqual({
      issues: [{ field: 'settings.passwordEnv', message: expect.stringContaining('together') }],
    });
    const bad = parseProviderSettings('email', 'smtp', { ...smtpSettings, host: 'smtp acme', port: 70000, passwordEnv: 'HERALD_API_KEYS', extra: 1 });
    expect('issues' in bad && bad.issues.map((issue) => issue.field).sort()).toEqual(['settings', 'settings.host', 'settings.passwordEnv', 'settings.port']);
  });

  it('takes an SES account by region and the variables its keys live in', () => {
    expect(parseProviderSettings('email', 'ses', { ...sesSettings, configurationSet: 'acme-1', endpoint: 'http://127.0.0.1:4566' })).toHaveProperty('settings');
    const bad = parseProviderSettings('email', 'ses', { ...sesSettings, region: 'Europe', configurationSet: 'a b', endpoint: 'ftp://x' });
    expect('issues' in bad && bad.issues.map((issue) => issue.field).sort()).toEqual(['settings.configurationSet', 'settings.endpoint', 'settings.region']);
    expect(parseProviderSettings('sms', 'ses', sesSettings)).toEqual({ issues: [{ field: 'provider', message: expect.any(String) }] });
  });

  it('reviews the variables a configuration names: the SMTP password, both SES keys', () => {
    const configuration = (provider: 'smtp' | 'ses', settings: Record<string, unknown>) =>
      ({ id: 'cfg', name: 'x', channel: 'email', provider, settings, createdAt: '', updatedAt: '' }) as unknown as ChannelConfiguration;
    const present = new Set(['ACME_SES_KEY_ID']);
    const issuesOf = (c: ChannelConfiguration) =>
      reviewChannelConfiguration({ channel: 'email', channelConfigurationId: 'cfg' }, c, (name) => present.has(name)).map((issue) => issue.message);
    expect(issuesOf(configuration('smtp', smtpSettings))).toEqual([expect.stringContaining('ACME_SMTP_PASSWORD')]);
    expect(issuesOf(configuration('ses', sesSettings))).toEqual([expect.stringContaining('ACME_SES_SECRET')]);
  });
});

describe('the email sender of a given configuration (the failover loop’s senderFor)', () => {
  const configuration = (overrides: Partial<ChannelConfiguration>): ChannelConfiguration =>
    ({
      id: 'cfg-1',
      name: 'x',
      channel: 'email',
      provider: 'smtp',
      settings: { ...smtpSettings, port: 587, secure: false },
      createdAt: '',
      updatedAt: '',
      ...overrides,
    }) as ChannelConfiguration;
  const senderFor = emailSenders({
    // The configuration given is the one to use: the campaign's reference is not read.
    configurations: {
      forCampaign: () => {
        throw new Error('the campaign’s configuration was read although one was given');
      },
    } as unknown as ChannelConfigurationRepository,
    outbox: {} as OutboxRepository,
    defaultProvider: new OutboxEmailProvider({} as OutboxRepository),
    defaultFrom: 'Herald <herald@localhost.localdomain>',
    email: { providerTimeoutMs: 1_000 },
    sender: {
      envNames: ['RESEND_API_KEY', 'ACME_SMTP_PASSWORD', 'ACME_SES_KEY_ID', 'ACME_SES_SECRET', 'UNSET_PASSWORD'],
      secrets: { ACME_SMTP_PASSWORD: 'pw', ACME_SES_KEY_ID: 'AKIA1', ACME_SES_SECRET: 's3cret' },
    },
  });

  it('builds an SMTP or SES sender from that configuration, once per connection and credentials', async () => {
    const smtp = await senderFor(
      'campaign-1',
      configuration({ settings: { ...smtpSettings, port: 587, secure: false, replyTo: 'help@acme.example', headers: { 'X-A': '1' } } }),
    );
    expect(smtp.provider).toBeInstanceOf(SmtpEmailProvider);
    expect(smtp).toMatchObject({ from: 'Acme <no-reply@acme.example>', replyTo: 'help@acme.example', headers: { 'X-A': '1' } });
    expect((await senderFor('campaign-2', configuration({ id: 'cfg-2' }))).provider).toBe(smtp.provider);

    const ses = await senderFor('campaign-1', configuration({ provider: 'ses', settings: sesSettings }));
    expect(ses.provider).toBeInstanceOf(SesEmailProvider);
    expect(ses.from).toBe('no-reply@acme.example');
  });

  it('retries a credential this worker lacks, and refuses a configuration of another channel', async () => {
    const unset = senderFor('campaign-1', configuration({ settings: { ...smtpSettings, passwordEnv: 'UNSET_PASSWORD' } }));
    await expect(unset).rejects.toBeInstanceOf(ProviderUnavailableError);
    const notAllowed = senderFor('campaign-1', configuration({ provider: 'ses', settings: { ...sesSettings, secretAccessKeyEnv: 'AWS_SECRET_ACCESS_KEY' } }));
    await expect(notAllowed).rejects.toThrow(/HERALD_SENDER_ENV/);
    await expect(senderFor('campaign-1', configuration({ channel: 'sms', provider: 'twilio' }))).rejects.toBeInstanceOf(ProviderRejectedError);
  });
});
