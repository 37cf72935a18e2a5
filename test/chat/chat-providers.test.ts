import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, ChatProvider } from '../../src/channels/chat/chat-provider';
import { DiscordWebhookProvider } from '../../src/channels/chat/discord-provider';
import { teamsWebhookProvider } from '../../src/channels/chat/msteams-provider';
import { SlackApiProvider } from '../../src/channels/chat/slack-api-provider';
import { slackWebhookProvider } from '../../src/channels/chat/slack-webhook-provider';
import { ProviderRejectedError, ProviderUnavailableError } from '../../src/channels/provider-errors';
import type { FakeChatServer } from '../support/fake-chat-server';
import { startFakeDiscord, type FakeDiscord } from '../support/fake-discord';
import { startFakeTeams, type FakeTeams } from '../support/fake-msteams';
import { startFakeSlack, WEBHOOK_CHANNEL, type FakeSlack } from '../support/fake-slack';

/**
 * Each chat provider against its fake on loopback: what it sends, and how it classifies every
 * answer: 429 (with its Retry-After), 5xx, a timeout and a refused connection are
 * ProviderUnavailableError (retried, or failed over); a permanent refusal is ProviderRejectedError.
 */

const TIMEOUT_MS = 300;
const message = (overrides: Partial<ChatMessage> = {}): ChatMessage => ({
  destination: 'C0123ABCD',
  text: 'Deploy 1.2.3 is live',
  idempotencyKey: 'herald-key',
  campaignId: 'c',
  executionId: 'e',
  userId: 'u',
  ...overrides,
});

let slack: FakeSlack;
let teams: FakeTeams;
let discord: FakeDiscord;
beforeAll(async () => {
  [slack, teams, discord] = await Promise.all([startFakeSlack(), startFakeTeams(), startFakeDiscord()]);
});
afterAll(async () => {
  await Promise.all([slack?.close(), teams?.close(), discord?.close()]);
});
afterEach(() => {
  for (const fake of [slack, teams, discord]) fake.reset();
});

/** The same classification, for every provider against its fake. */
const providers: { name: string; fake: () => FakeChatServer; provider: () => ChatProvider }[] = [
  { name: 'Slack chat.postMessage', fake: () => slack, provider: () => new SlackApiProvider(slack.botToken, slack.apiUrl, TIMEOUT_MS) },
  { name: 'Slack incoming webhook', fake: () => slack, provider: () => slackWebhookProvider(new URL(slack.webhookUrl), TIMEOUT_MS) },
  { name: 'Microsoft Teams', fake: () => teams, provider: () => teamsWebhookProvider(new URL(teams.webhookUrl), TIMEOUT_MS) },
  { name: 'Discord', fake: () => discord, provider: () => new DiscordWebhookProvider(new URL(discord.webhookUrl), TIMEOUT_MS) },
];

describe.each(providers)('$name classifies its answers', ({ fake, provider }) => {
  it('2xx: sent, with a message id', async () => {
    const { messageId } = await provider().send(message());
    expect(messageId).toMatch(/\S/);
    expect(fake().requests.map((r) => r.status)).toEqual([expect.any(Number)]);
  });

  it('429: unavailable, after the Retry-After it gave', async () => {
    fake().failNext([{ mode: 'rate-limited', retryAfterSeconds: 7 }]);
    const error = await provider()
      .send(message())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as ProviderUnavailableError).retryAfterMs).toBe(7000);
  });

  it('5xx: unavailable', async () => {
    fake().failNext([{ mode: 'unavailable' }]);
    await expect(provider().send(message())).rejects.toBeInstanceOf(ProviderUnavailableError);
  });

  it('no answer within the timeout: unavailable', async () => {
    fake().failNext([{ mode: 'timeout' }]);
    const started = Date.now();
    await expect(provider().send(message())).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a permanent refusal: rejected', async () => {
    fake().failNext([{ mode: 'rejected' }]);
    await expect(provider().send(message())).rejects.toBeInstanceOf(ProviderRejectedError);
  });
});

describe('what each provider sends', () => {
  it('Slack chat.postMessage: the bot token, the destination, the text and blocks; the id is channel/ts', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*live*' } }];
    const { messageId } = await new SlackApiProvider(slack.botToken, slack.apiUrl, TIMEOUT_MS).send(message({ destination: 'U0123ABCD', blocks }));
    expect(slack.messages).toEqual([{ via: 'api', channel: 'U0123ABCD', text: 'Deploy 1.2.3 is live', blocks, ts: expect.any(String) }]);
    expect(messageId).toBe(`U0123ABCD/${slack.messages[0]!.ts}`);
    expect(slack.requests[0]!.headers.authorization).toBe(`Bearer ${slack.botToken}`);
  });

  it("Slack chat.postMessage: Slack's refusals are permanent, its own failures are not; no destination is refused before any call", async () => {
    await expect(new SlackApiProvider('xoxb-wrong', slack.apiUrl, TIMEOUT_MS).send(message())).rejects.toThrow(new ProviderRejectedError('Slack invalid_auth'));
    await expect(new SlackApiProvider(slack.botToken, slack.apiUrl, TIMEOUT_MS).send(message({ destination: '' }))).rejects.toBeInstanceOf(
      ProviderRejectedError,
    );
    expect(slack.requests).toHaveLength(1);
    slack.failNext([{ mode: 'unavailable', status: 200 }]);
    await expect(new SlackApiProvider(slack.botToken, slack.apiUrl, TIMEOUT_MS).send(message())).rejects.toThrow(
      new ProviderUnavailableError('Slack internal_error'),
    );
  });

  it('a Slack incoming webhook posts to its own channel, whatever the destination', async () => {
    await slackWebhookProvider(new URL(slack.webhookUrl), TIMEOUT_MS).send(message({ destination: '' }));
    expect(slack.messages).toEqual([{ via: 'webhook', channel: WEBHOOK_CHANNEL, text: 'Deploy 1.2.3 is live', ts: expect.any(String) }]);
  });

  it('Teams: one Adaptive Card, the text as a TextBlock and its fallback, or the blocks as its body', async () => {
    const provider = teamsWebhookProvider(new URL(teams.webhookUrl), TIMEOUT_MS);
    await provider.send(message());
    const blocks = [{ type: 'TextBlock', text: 'Deployed', weight: 'Bolder' }];
    await provider.send(message({ blocks }));
    expect(teams.messages.map((m) => [m.card.body, m.card.fallbackText, m.card.version])).toEqual([
      [[{ type: 'TextBlock', text: 'Deploy 1.2.3 is live', wrap: true }], 'Deploy 1.2.3 is live', '1.4'],
      [blocks, 'Deploy 1.2.3 is live', '1.4'],
    ]);
  });

  it("Discord: content and embeds, waiting for the message's id; mentions never ping; its form errors are permanent", async () => {
    const provider = new DiscordWebhookProvider(new URL(discord.webhookUrl), TIMEOUT_MS, 'Herald');
    const { messageId } = await provider.send(message({ text: '@everyone deployed', blocks: [{ title: 'Deploy' }] }));
    expect(discord.messages).toEqual([
      { id: messageId, content: '@everyone deployed', embeds: [{ title: 'Deploy' }], username: 'Herald', allowedMentions: { parse: [] } },
    ]);
    expect(discord.requests[0]!.query.get('wait')).toBe('true');
    await expect(provider.send(message({ text: 'x'.repeat(2001) }))).rejects.toThrow(/Discord 400: .*50035/);
    await expect(provider.send(message({ text: 'x'.repeat(2001) }))).rejects.toBeInstanceOf(ProviderRejectedError);
  });

  it('a refused connection is unavailable, and the webhook URL (a secret) is not in the error', async () => {
    const closed = await startFakeDiscord();
    const url = new URL(closed.webhookUrl);
    await closed.close();
    const error = await new DiscordWebhookProvider(url, TIMEOUT_MS).send(message()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).not.toContain('webhook-token');
  });
});
