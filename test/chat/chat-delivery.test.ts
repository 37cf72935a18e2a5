import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueRequestId } from '../support/campaigns';
import { startFakeDiscord, type FakeDiscord } from '../support/fake-discord';
import { startFakeTeams, type FakeTeams } from '../support/fake-msteams';
import { startFakeSlack, WEBHOOK_CHANNEL, type FakeSlack } from '../support/fake-slack';
import { startHerald, type Herald } from '../support/herald-harness';

/**
 * Chat end to end, per provider: a real Herald (API, Temporal worker, SQLite or PostgreSQL) with a
 * channel configuration of Slack (bot token, SLACK_BASE_URL), a Slack incoming webhook, Microsoft
 * Teams and Discord (webhook URLs named by webhookUrlEnv), each pointed at its fake on loopback:
 * a campaign is activated, triggered over HTTP, and the fake receives the rendered message.
 */

let slack: FakeSlack;
let teams: FakeTeams;
let discord: FakeDiscord;
let herald: Herald;

beforeAll(async () => {
  [slack, teams, discord] = await Promise.all([startFakeSlack(), startFakeTeams(), startFakeDiscord()]);
  herald = await startHerald({
    env: {
      SLACK_BASE_URL: slack.apiUrl,
      HERALD_SENDER_ENV: 'ACME_SLACK_BOT_TOKEN,ACME_SLACK_WEBHOOK_URL,ACME_TEAMS_WEBHOOK_URL,ACME_DISCORD_WEBHOOK_URL',
      ACME_SLACK_BOT_TOKEN: slack.botToken,
      ACME_SLACK_WEBHOOK_URL: slack.webhookUrl,
      ACME_TEAMS_WEBHOOK_URL: teams.webhookUrl,
      ACME_DISCORD_WEBHOOK_URL: discord.webhookUrl,
    },
  });
});
afterAll(async () => {
  await herald?.stop();
  await Promise.all([slack?.close(), teams?.close(), discord?.close()]);
});

/** A live chat campaign through a new configuration of the provider; its id. */
async function liveChatCampaign(provider: string, settings: Record<string, unknown>, content: Record<string, unknown>): Promise<string> {
  const configuration = await herald.request('POST', '/v1/channel-configurations', { name: `Ops ${provider}`, channel: 'chat', provider, settings });
  expect(configuration.status, JSON.stringify(configuration.body)).toBe(201);
  const created = await herald.request('POST', '/v1/campaigns', {
    name: `Deploys on ${provider}`,
    type: 'transactional',
    channel: 'chat',
    content,
    audience: { namespace: 'ops', createMissingProfiles: true },
    channelConfigurationId: configuration.body.id,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const activated = await herald.request('POST', `/v1/campaigns/${created.body.id}/activate`);
  expect(activated.status, JSON.stringify(activated.body)).toBe(200);
  return created.body.id as string;
}

async function trigger(campaignId: string, recipient: Record<string, unknown>, context: Record<string, unknown>) {
  const res = await herald.request('POST', '/v1/executions/unitary', { requestId: uniqueRequestId('chat'), campaignId, recipients: [recipient], context });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const execution = await herald.waitForExecution(res.body.executionId as string);
  return execution.recipients[0];
}

const content = {
  text: 'Deploy {{ context.version }} by {{ profile.name }}',
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*{{ context.version }}* is live "{{ context.note }}"' } }],
};

describe('chat through each provider', () => {
  it("Slack's bot: chat.postMessage to channelData.chat.destination, else the profile's slackUserId, else the configuration's default", async () => {
    const campaignId = await liveChatCampaign('slack', { botTokenEnv: 'ACME_SLACK_BOT_TOKEN', defaultDestination: '#deploys' }, content);
    expect((await herald.request('PUT', '/v1/profiles/ops/ada', { attributes: { name: 'Ada', slackUserId: 'U0ADA' } })).status).toBe(201);

    const given = await trigger(
      campaignId,
      { userId: 'ada', namespace: 'ops', channelData: { chat: { destination: 'C0DEPLOYS' } } },
      { version: '1.2.3', note: 'a "quoted" }] note' },
    );
    const fromProfile = await trigger(campaignId, { userId: 'ada', namespace: 'ops' }, { version: '1.2.4', note: '' });
    const byDefault = await trigger(campaignId, { userId: 'grace', namespace: 'ops' }, { version: '1.2.5', note: '' });

    expect(slack.messages.filter((m) => m.via === 'api').map((m) => [m.channel, m.text, m.blocks])).toEqual([
      ['C0DEPLOYS', 'Deploy 1.2.3 by Ada', [{ type: 'section', text: { type: 'mrkdwn', text: '*1.2.3* is live "a "quoted" }] note"' } }]],
      ['U0ADA', 'Deploy 1.2.4 by Ada', [{ type: 'section', text: { type: 'mrkdwn', text: '*1.2.4* is live ""' } }]],
      ['#deploys', 'Deploy 1.2.5 by ', [{ type: 'section', text: { type: 'mrkdwn', text: '*1.2.5* is live ""' } }]],
    ]);
    expect(given).toMatchObject({ status: 'sent', messageId: expect.stringMatching(/^C0DEPLOYS\//) });
    expect(fromProfile).toMatchObject({ status: 'sent', messageId: expect.stringMatching(/^U0ADA\//) });
    expect(byDefault).toMatchObject({ status: 'sent', messageId: expect.stringMatching(/^#deploys\//) });
  });

  it('a Slack incoming webhook posts to its own channel', async () => {
    const campaignId = await liveChatCampaign('slack', { webhookUrlEnv: 'ACME_SLACK_WEBHOOK_URL' }, { text: 'Webhook {{ context.version }}' });
    const outcome = await trigger(campaignId, { userId: 'ops-webhook', namespace: 'ops' }, { version: '2.0.0' });
    expect(slack.messages.filter((m) => m.via === 'webhook')).toEqual([
      { via: 'webhook', channel: WEBHOOK_CHANNEL, text: 'Webhook 2.0.0', ts: expect.any(String) },
    ]);
    expect(outcome).toMatchObject({ status: 'sent' });
  });

  it('Microsoft Teams: an Adaptive Card', async () => {
    const campaignId = await liveChatCampaign('msteams', { webhookUrlEnv: 'ACME_TEAMS_WEBHOOK_URL' }, { text: 'Teams {{ context.version }}' });
    const outcome = await trigger(campaignId, { userId: 'ops-teams', namespace: 'ops' }, { version: '3.0.0' });
    expect(teams.messages.map((m) => m.card.body)).toEqual([[{ type: 'TextBlock', text: 'Teams 3.0.0', wrap: true }]]);
    expect(outcome).toMatchObject({ status: 'sent' });
  });

  it("Discord: content and embeds, the message's id recorded; a 429 is retried after its Retry-After", async () => {
    const campaignId = await liveChatCampaign(
      'discord',
      { webhookUrlEnv: 'ACME_DISCORD_WEBHOOK_URL', username: 'Herald' },
      { text: 'Discord {{ context.version }}', blocks: [{ title: '{{ context.version }}' }] },
    );
    discord.failNext([{ mode: 'rate-limited', retryAfterSeconds: 1 }]);
    const outcome = await trigger(campaignId, { userId: 'ops-discord', namespace: 'ops' }, { version: '4.0.0' });
    expect(discord.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(discord.messages).toEqual([expect.objectContaining({ content: 'Discord 4.0.0', embeds: [{ title: '4.0.0' }], username: 'Herald' })]);
    expect(outcome).toMatchObject({ status: 'sent', messageId: discord.messages[0]!.id });
  });

  it('refuses a campaign whose blocks hold an unsafe template, and a configuration without its credential', async () => {
    const unsafe = await herald.request('POST', '/v1/campaigns', {
      name: 'Unsafe',
      type: 'transactional',
      channel: 'chat',
      content: { text: 'x', blocks: [{ type: 'section', text: { text: '{{ x.constructor }}' } }] },
      audience: { namespace: 'ops' },
    });
    expect(unsafe.status).toBe(400);
    expect(unsafe.body.errors).toEqual([{ field: 'content.blocks.0.text.text', message: expect.stringContaining('constructor') }]);
    const both = await herald.request('POST', '/v1/channel-configurations', {
      name: 'Both',
      channel: 'chat',
      provider: 'slack',
      settings: { botTokenEnv: 'ACME_SLACK_BOT_TOKEN', webhookUrlEnv: 'ACME_SLACK_WEBHOOK_URL' },
    });
    expect(both.status).toBe(400);
  });
});
