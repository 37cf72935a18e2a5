import { describe, expect, it } from 'vitest';
import { blocksProblem, blocksTemplate, renderedBlocks } from '../../src/channels/chat/chat-blocks';
import { ChatContentSchema } from '../../src/channels/chat/chat-content-schema';
import { chatProviders, chatSenderOf, chatSenders } from '../../src/channels/chat/chat-senders';
import { webhookUrl } from '../../src/channels/chat/chat-webhook';
import { ProviderRejectedError, ProviderUnavailableError } from '../../src/channels/provider-errors';
import type { ChannelConfiguration } from '../../src/domain/channel-configuration';
import { templateSyntaxError } from '../../src/domain/template-renderer';
import { parseProviderSettings } from '../../src/domain/channel-configuration';
import type { ChannelConfigurationRepository } from '../../src/repositories/channel-configurations';
import type { OutboxRepository } from '../../src/repositories/outbox';

/** Chat's pure parts and its senders: blocks as templates, settings, and the configuration → sender of the failover contract. */

const deps = {
  outbox: {} as OutboxRepository,
  sender: { envNames: ['BOT', 'HOOK', 'PLAIN'], secrets: { BOT: 'xoxb-1', HOOK: 'https://hooks.slack.com/services/T/B/x', PLAIN: 'http://example.com/hook' } },
  chat: { providerTimeoutMs: 1000 },
} as Parameters<typeof chatProviders>[0];

const configuration = (provider: string, settings: Record<string, unknown>, channel = 'chat'): ChannelConfiguration =>
  ({ id: `cfg-${provider}`, name: provider, channel, provider, settings, fallback: [], createdAt: '', updatedAt: '' }) as unknown as ChannelConfiguration;

describe('blocks: JSON whose string values are templates', () => {
  it('renders every string through one template and puts each back where it was', () => {
    const blocks = [{ type: 'section', fields: [{ text: 'a {{ x }}' }, { n: 1 }] }];
    expect(blocksTemplate(blocks)).toBe('[{% filter dump %}section{% endfilter %},{% filter dump %}a {{ x }}{% endfilter %}]');
    expect(renderedBlocks(blocks, JSON.stringify(['section', 'a "}]'])) as unknown).toEqual([{ type: 'section', fields: [{ text: 'a "}]' }, { n: 1 }] }]);
  });

  it('bounds them and refuses keys that are not field names', () => {
    expect(blocksProblem(Array.from({ length: 51 }, () => ({})))).toEqual({ path: [], message: 'at most 50 blocks' });
    expect(blocksProblem([{ text: 'x'.repeat(17_000) }])).toEqual({ path: [], message: 'blocks are at most 16 KiB of JSON' });
    expect(blocksProblem([{ '{{ a }}': 'x' }])).toEqual({ path: [0, '{{ a }}'], message: expect.stringContaining('plain field name') });
    // Half-written on save; activation's review parses each string on its own.
    expect(blocksProblem([{ text: '{% endfilter %}' }])).toBeUndefined();
    expect(blocksProblem([{ text: '{% endfilter %}' }], templateSyntaxError)).toEqual({
      path: [0, 'text'],
      message: expect.stringContaining('template does not parse'),
    });
    expect(ChatContentSchema.safeParse({ text: 'hi', blocks: [{ type: 'divider' }] }).success).toBe(true);
    expect(ChatContentSchema.safeParse({ text: 'hi', body: 'x' }).success).toBe(false);
  });
});

describe('chat configurations', () => {
  it('Slack takes exactly one of a bot token and a webhook; a default destination only with the bot', () => {
    expect(parseProviderSettings('chat', 'slack', { botTokenEnv: 'BOT', defaultDestination: 'C0123ABCD' })).toEqual({
      settings: { botTokenEnv: 'BOT', defaultDestination: 'C0123ABCD' },
    });
    expect(parseProviderSettings('chat', 'slack', {})).toMatchObject({ issues: [{ field: 'settings.botTokenEnv' }] });
    expect(parseProviderSettings('chat', 'slack', { webhookUrlEnv: 'HOOK', defaultDestination: 'C0123ABCD' })).toMatchObject({
      issues: [{ field: 'settings.defaultDestination' }],
    });
    expect(parseProviderSettings('chat', 'msteams', { webhookUrlEnv: 'HOOK' })).toEqual({ settings: { webhookUrlEnv: 'HOOK' } });
    expect(parseProviderSettings('chat', 'twilio', {})).toMatchObject({ issues: [{ field: 'provider' }] });
  });

  it('webhook URLs are https, or http on loopback only', () => {
    expect(webhookUrl('c', 'HOOK', 'https://discord.com/api/webhooks/1/t').href).toBe('https://discord.com/api/webhooks/1/t');
    expect(webhookUrl('c', 'HOOK', 'http://127.0.0.1:9/x').host).toBe('127.0.0.1:9');
    expect(() => webhookUrl('c', 'HOOK', 'http://example.com/x')).toThrow(new ProviderUnavailableError('channel configuration c: HOOK must be an https URL'));
    expect(() => webhookUrl('c', 'HOOK', 'not a url')).toThrow(ProviderUnavailableError);
  });
});

describe('the sender of a configuration (the failover contract)', () => {
  const providers = chatProviders(deps);

  it('builds each provider from the configuration it is given, its credentials from the variables it names', () => {
    expect(chatSenderOf(configuration('slack', { botTokenEnv: 'BOT', defaultDestination: '#ops' }), providers)).toMatchObject({
      provider: { name: 'slack' },
      defaultDestination: '#ops',
    });
    expect(chatSenderOf(configuration('msteams', { webhookUrlEnv: 'HOOK' }), providers).provider.name).toBe('msteams');
    expect(chatSenderOf(configuration('discord', { webhookUrlEnv: 'HOOK' }), providers).provider.name).toBe('discord');
    expect(chatSenderOf(configuration('outbox', {}), providers).provider.name).toBe('outbox');
  });

  it('refuses another channel or provider for good; a missing variable or a plain-http webhook is retried', () => {
    expect(() => chatSenderOf(configuration('twilio', {}, 'sms'), providers)).toThrow(ProviderRejectedError);
    expect(() => chatSenderOf(configuration('resend', {}), providers)).toThrow(ProviderRejectedError);
    expect(() => chatSenderOf(configuration('discord', { webhookUrlEnv: 'UNLISTED' }), providers)).toThrow(ProviderUnavailableError);
    expect(() => chatSenderOf(configuration('discord', { webhookUrlEnv: 'PLAIN' }), providers)).toThrow(ProviderUnavailableError);
  });

  it("senderFor uses the configuration given, else the campaign's, else the outbox", async () => {
    const found = { kind: 'found', configuration: configuration('msteams', { webhookUrlEnv: 'HOOK' }) };
    const lookups: string[] = [];
    const forCampaign = async (id: string) => {
      lookups.push(id);
      return id === 'with' ? found : { kind: 'none' };
    };
    const senderFor = chatSenders({ ...deps, configurations: { forCampaign } as unknown as ChannelConfigurationRepository });
    expect((await senderFor('with', configuration('discord', { webhookUrlEnv: 'HOOK' }))).provider.name).toBe('discord');
    expect(lookups).toEqual([]);
    expect((await senderFor('with')).provider.name).toBe('msteams');
    expect((await senderFor('without')).provider.name).toBe('outbox');
  });
});
