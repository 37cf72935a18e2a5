import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/env';
import { senderEnvPresence } from '../../src/services/channel-configurations';
import { createApiKey, withKey } from '../support/api-keys';
import { emailCampaign, uniqueRequestId } from '../support/campaigns';
import { startFakeResend, type FakeResend } from '../support/fake-resend';
import { startHerald, type Herald } from '../support/herald-harness';

const SECRET = 're_acme_secret_value';

const resendConfiguration = (settings: Record<string, unknown> = {}) => ({
  name: 'Acme transactional',
  channel: 'email',
  provider: 'resend',
  settings: {
    from: 'Acme <no-reply@acme.example>',
    replyTo: 'support@acme.example',
    headers: { 'X-Entity-Ref-ID': 'acme-1', 'List-Unsubscribe': '<mailto:unsubscribe@acme.example>' },
    apiKeyEnv: 'ACME_RESEND_KEY',
    ...settings,
  },
});

describe('channel configurations', () => {
  let fake: FakeResend;
  let herald: Herald;

  beforeAll(async () => {
    fake = await startFakeResend({ apiKey: SECRET });
    // No RESEND_API_KEY: the email channel's default stays the outbox. The configuration's key
    // lives in ACME_RESEND_KEY, which HERALD_SENDER_ENV lets the worker read; the API is told
    // only its name (HERALD_SENDER_ENV_PRESENT), as `npm start` does.
    herald = await startHerald({
      env: { HERALD_SENDER_ENV: 'ACME_RESEND_KEY', ACME_RESEND_KEY: SECRET, RESEND_BASE_URL: fake.url, HERALD_SENDER_ENV_PRESENT: 'ACME_RESEND_KEY' },
    });
  });
  afterAll(async () => {
    await herald?.stop();
    await fake?.close();
  });

  async function create(body: unknown) {
    const res = await herald.request('POST', '/v1/channel-configurations', body);
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async function draftWith(channelConfigurationId: string | undefined, overrides: Record<string, unknown> = {}) {
    const res = await herald.request(
      'POST',
      '/v1/campaigns',
      emailCampaign({ ...(channelConfigurationId !== undefined && { channelConfigurationId }), ...overrides }),
    );
    expect(res.status).toBe(201);
    return res.body;
  }

  it('creates, reads, lists, changes and deletes a configuration, with audit entries', async () => {
    const created = await herald.request('POST', '/v1/channel-configurations', resendConfiguration());
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Acme transactional',
      channel: 'email',
      provider: 'resend',
      missingEnv: [],
      settings: { from: 'Acme <no-reply@acme.example>', apiKeyEnv: 'ACME_RESEND_KEY' },
    });
    const { id } = created.body;

    expect((await herald.request('GET', `/v1/channel-configurations/${id}`)).body).toEqual(created.body);
    const listed = await herald.request('GET', '/v1/channel-configurations?channel=email&limit=100');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((item: { id: string }) => item.id)).toContain(id);
    expect((await herald.request('GET', '/v1/channel-configurations?channel=sms&limit=100')).body.items.map((item: { id: string }) => item.id)).not.toContain(
      id,
    );

    const renamed = await herald.request('PATCH', `/v1/channel-configurations/${id}`, { name: 'Acme (renamed)', settings: { from: 'billing@acme.example' } });
    expect(renamed.status).toBe(200);
    // Settings are replaced whole; apiKeyEnv gets its default again.
    expect(renamed.body).toMatchObject({
      name: 'Acme (renamed)',
      settings: { from: 'billing@acme.example', apiKeyEnv: 'RESEND_API_KEY' },
      missingEnv: ['RESEND_API_KEY'],
    });
    expect(renamed.body.settings).not.toHaveProperty('replyTo');
    expect((await herald.request('PATCH', `/v1/channel-configurations/${id}`, { channel: 'sms' })).status).toBe(400);
    expect((await herald.request('PATCH', `/v1/channel-configurations/${id}`, {})).status).toBe(400);

    expect((await herald.request('DELETE', `/v1/channel-configurations/${id}`)).status).toBe(204);
    expect((await herald.request('GET', `/v1/channel-configurations/${id}`)).status).toBe(404);
    expect((await herald.request('DELETE', `/v1/channel-configurations/${id}`)).status).toBe(404);
    expect((await herald.request('PATCH', `/v1/channel-configurations/${id}`, { name: 'x' })).status).toBe(404);

    const audit = await herald.request('GET', `/v1/audit-log?resourceType=channel_configuration&resourceId=${id}`);
    expect(audit.body.items.map((entry: { action: string }) => entry.action)).toEqual([
      'channel_configuration.deleted',
      'channel_configuration.updated',
      'channel_configuration.created',
    ]);
    expect(audit.body.items[1]).toMatchObject({ before: { name: 'Acme transactional' }, after: { name: 'Acme (renamed)' } });
  });

  it('accepts the sms and push provider shapes and the outbox on every channel', async () => {
    const shapes = [
      { channel: 'sms', provider: 'twilio', settings: { from: '+14155550100', accountSidEnv: 'TWILIO_ACCOUNT_SID', authTokenEnv: 'TWILIO_AUTH_TOKEN' } },
      {
        channel: 'sms',
        provider: 'twilio',
        settings: { messagingServiceSid: `MG${'a'.repeat(32)}`, accountSidEnv: 'TWILIO_ACCOUNT_SID', authTokenEnv: 'TWILIO_AUTH_TOKEN' },
      },
      { channel: 'push', provider: 'fcm', settings: { projectId: 'acme-app-42', serviceAccountEnv: 'FCM_SERVICE_ACCOUNT' } },
      {
        channel: 'push',
        provider: 'apns',
        settings: { teamId: 'ABCDE12345', keyId: 'KEY1234567', bundleId: 'com.acme.app', privateKeyEnv: 'APNS_PRIVATE_KEY' },
      },
      {
        channel: 'push',
        provider: 'webpush',
        settings: { vapidSubject: 'mailto:ops@acme.example', vapidPublicKeyEnv: 'VAPID_PUBLIC_KEY', vapidPrivateKeyEnv: 'VAPID_PRIVATE_KEY' },
      },
      { channel: 'email', provider: 'outbox' },
      { channel: 'sms', provider: 'outbox', settings: {} },
      { channel: 'push', provider: 'outbox' },
    ];
    for (const shape of shapes) {
      const body = await create({ name: `${shape.channel} ${shape.provider}`, ...shape });
      expect(body).toMatchObject({ channel: shape.channel, provider: shape.provider });
    }
    const apns = (await herald.request('GET', '/v1/channel-configurations?channel=push&limit=100')).body.items.find(
      (item: { provider: string }) => item.provider === 'apns',
    );
    expect(apns.settings.production).toBe(false);
    expect(apns.missingEnv).toEqual(['APNS_PRIVATE_KEY']);
  });

  it('refuses invalid configurations with a 400 problem listing every issue', async () => {
    const expectIssues = async (body: unknown, fields: string[]) => {
      const res = await herald.request('POST', '/v1/channel-configurations', body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.type).toBe('validation-failed');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(fields));
      return res.body;
    };
    await expectIssues({ name: '', channel: 'fax', provider: 'pigeon', settings: {} }, ['name', 'channel', 'provider']);
    await expectIssues({ ...resendConfiguration(), secret: 'x' }, ['(body)']);
    await expectIssues({ name: 'x', channel: 'email', provider: 'twilio', settings: {} }, ['provider']);
    const resend = await expectIssues(
      resendConfiguration({
        from: 'Evil\r\nBcc: all@victim.example <a@acme.example>',
        replyTo: 'not an address',
        headers: { 'X-Ok': 'line\r\nBcc: x@y.z', Bcc: 'x@y.z', 'Bad Name': 'v' },
        apiKeyEnv: 'resend_api_key',
        extra: 1,
      }),
      ['settings.from', 'settings.replyTo', 'settings.headers.X-Ok', 'settings.headers.Bcc', 'settings.headers.Bad Name', 'settings.apiKeyEnv', 'settings'],
    );
    expect(resend.errors.find((e: { field: string }) => e.field === 'settings.apiKeyEnv').message).toMatch(/environment variable name/);
    // Herald's own variables can never be named: the worker would hand them to a provider.
    for (const name of ['HERALD_API_KEYS', 'DATABASE_URL', 'TEMPORAL_API_KEY', 'HERALD_PAYLOAD_KEYS', 'PATH']) {
      const body = await expectIssues(resendConfiguration({ apiKeyEnv: name }), ['settings.apiKeyEnv']);
      expect(body.errors[0].message).toMatch(/Herald's own or the runtime's/);
    }
    await expectIssues(
      {
        name: 'x',
        channel: 'sms',
        provider: 'twilio',
        settings: { from: '+14155550100', messagingServiceSid: `MG${'a'.repeat(32)}`, accountSidEnv: 'A', authTokenEnv: 'B' },
      },
      ['settings.from'],
    );
    await expectIssues({ name: 'x', channel: 'sms', provider: 'twilio', settings: { accountSidEnv: 'A' } }, ['settings.authTokenEnv']);
    await expectIssues(
      {
        name: 'x',
        channel: 'push',
        provider: 'apns',
        settings: { teamId: 'short', keyId: 'KEY1234567', bundleId: 'com.acme', privateKeyEnv: 'K', production: 'yes' },
      },
      ['settings.teamId', 'settings.production'],
    );
    await expectIssues(
      { name: 'x', channel: 'push', provider: 'webpush', settings: { vapidSubject: 'http://acme.example', vapidPublicKeyEnv: 'P', vapidPrivateKeyEnv: 'Q' } },
      ['settings.vapidSubject'],
    );
    await expectIssues({ name: 'x', channel: 'email', provider: 'outbox', settings: { from: 'a@b.example' } }, ['settings']);
  });

  it('never stores or returns a secret: settings name variables, and only names are shown', async () => {
    const created = await create(resendConfiguration());
    const texts = [
      JSON.stringify(created),
      JSON.stringify((await herald.request('GET', `/v1/channel-configurations/${created.id}`)).body),
      JSON.stringify((await herald.request('GET', '/v1/channel-configurations?limit=100')).body),
      JSON.stringify((await herald.request('GET', '/v1/audit-log?resourceType=channel_configuration&limit=500')).body),
      JSON.stringify(await herald.db.selectFrom('channel_configurations').selectAll().execute()),
    ];
    for (const text of texts) {
      expect(text).toContain('ACME_RESEND_KEY');
      expect(text).not.toContain(SECRET);
    }
  });

  it('review fails on an unknown configuration, another channel, or a variable missing for the worker', async () => {
    const sms = await create({
      name: 'sms',
      channel: 'sms',
      provider: 'twilio',
      settings: { from: '+14155550100', accountSidEnv: 'TWILIO_ACCOUNT_SID', authTokenEnv: 'TWILIO_AUTH_TOKEN' },
    });
    const mismatch = await herald.request('POST', `/v1/campaigns/${(await draftWith(sms.id)).id}/activate`);
    expect(mismatch.status).toBe(422);
    expect(mismatch.body.errors).toEqual(expect.arrayContaining([{ field: 'channelConfigurationId', message: expect.stringContaining('is for sms') }]));

    const missing = await create(resendConfiguration({ apiKeyEnv: 'NOT_SET_ANYWHERE_KEY' }));
    expect(missing.missingEnv).toEqual(['NOT_SET_ANYWHERE_KEY']);
    const draft = await draftWith(missing.id);
    const incomplete = await herald.request('POST', `/v1/campaigns/${draft.id}/activate`);
    expect(incomplete.status).toBe(422);
    expect(incomplete.headers.get('content-type')).toContain('application/problem+json');
    expect(incomplete.body.errors).toEqual([{ field: 'channelConfigurationId', message: expect.stringContaining('NOT_SET_ANYWHERE_KEY') }]);
    expect((await herald.request('GET', `/v1/campaigns/${draft.id}`)).body.status).toBe('draft');

    const unknown = await herald.request('POST', `/v1/campaigns/${(await draftWith('01NOSUCHCONFIGURATION00000')).id}/activate`);
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors).toEqual([{ field: 'channelConfigurationId', message: expect.stringContaining('does not exist') }]);

    // Fixed by pointing the draft at a complete configuration; null goes back to the default.
    const complete = await create(resendConfiguration());
    const edited = await herald.request('PATCH', `/v1/campaigns/${draft.id}`, { channelConfigurationId: complete.id });
    expect(edited.body.channelConfigurationId).toBe(complete.id);
    const cleared = await herald.request('PATCH', `/v1/campaigns/${draft.id}`, { channelConfigurationId: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body).not.toHaveProperty('channelConfigurationId');
  });

  it('a live campaign sends as its configuration says (from, replyTo, headers, its key) through Resend', async () => {
    const configuration = await create(resendConfiguration());
    const campaign = await draftWith(configuration.id);
    expect(campaign.channelConfigurationId).toBe(configuration.id);
    const activated = await herald.request('POST', `/v1/campaigns/${campaign.id}/activate`);
    expect(activated.status, JSON.stringify(activated.body)).toBe(200);

    const trigger = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('config'),
      campaignId: campaign.id,
      recipients: [{ userId: 'ada@example.com', namespace: 'email', context: { code: '4711' } }],
    });
    expect(trigger.status).toBe(202);
    const execution = await herald.waitForExecution(trigger.body.executionId);
    expect(execution.counts).toMatchObject({ sent: 1, failed: 0 });
    const delivery = fake.deliveries.find((d) => d.to.includes('ada@example.com') && d.tags?.some((tag) => tag.value === campaign.id));
    expect(delivery).toBeDefined();
    expect(delivery!.from).toBe('Acme <no-reply@acme.example>');
    expect(delivery!.body.reply_to).toBe('support@acme.example');
    expect(delivery!.body.headers).toEqual({ 'X-Entity-Ref-ID': 'acme-1', 'List-Unsubscribe': '<mailto:unsubscribe@acme.example>' });
    expect(delivery!.headers.authorization).toBe(`Bearer ${SECRET}`);

    // A campaign without a configuration still uses the channel's default: the outbox here.
    const plain = await draftWith(undefined);
    expect((await herald.request('POST', `/v1/campaigns/${plain.id}/activate`)).status).toBe(200);
    const plainTrigger = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('plain'),
      campaignId: plain.id,
      recipients: [{ userId: 'bob@example.com', namespace: 'email', context: { code: '1' } }],
    });
    expect((await herald.waitForExecution(plainTrigger.body.executionId)).counts).toMatchObject({ sent: 1 });
    expect(fake.deliveries.some((d) => d.to.includes('bob@example.com'))).toBe(false);
    expect((await herald.request('GET', `/v1/outbox?campaignId=${plain.id}`)).body.items).toHaveLength(1);

    // In use by a live campaign: no delete, and no change that names a variable the worker lacks.
    const refused = await herald.request('DELETE', `/v1/channel-configurations/${configuration.id}`);
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body).toMatchObject({ type: 'channel-configuration-in-use', detail: expect.stringContaining(campaign.id) });
    const incomplete = await herald.request('PATCH', `/v1/channel-configurations/${configuration.id}`, {
      settings: { from: 'a@acme.example', apiKeyEnv: 'NOT_SET_ANYWHERE_KEY' },
    });
    expect(incomplete.status).toBe(422);
    expect((await herald.request('PATCH', `/v1/channel-configurations/${configuration.id}`, { name: 'still fine' })).status).toBe(200);

    expect((await herald.request('POST', `/v1/campaigns/${campaign.id}/stop`)).status).toBe(200);
    expect((await herald.request('DELETE', `/v1/channel-configurations/${configuration.id}`)).status).toBe(204);
  });

  it('is for full-access keys only: a trigger key gets 403 on every route', async () => {
    const trigger = withKey(herald, (await createApiKey(herald.request, { scope: 'trigger' })).key);
    const existing = await create({ name: 'outbox', channel: 'email', provider: 'outbox' });
    const calls: [string, string, unknown?][] = [
      ['POST', '/v1/channel-configurations', resendConfiguration()],
      ['GET', '/v1/channel-configurations'],
      ['GET', `/v1/channel-configurations/${existing.id}`],
      ['PATCH', `/v1/channel-configurations/${existing.id}`, { name: 'x' }],
      ['DELETE', `/v1/channel-configurations/${existing.id}`],
    ];
    for (const [method, path, body] of calls) {
      const res = await trigger(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.type).toBe('forbidden');
    }
    expect((await herald.request('GET', `/v1/channel-configurations/${existing.id}`)).status).toBe(200);
  });

  it('without HERALD_SENDER_ENV_PRESENT the API checks its own environment; with it, only the names given', () => {
    const told = loadConfig({ HERALD_SENDER_ENV_PRESENT: 'ACME_KEY, OTHER_KEY' });
    expect(senderEnvPresence(told, { STRAY_KEY: 'x' })('ACME_KEY')).toBe(true);
    expect(senderEnvPresence(told, { STRAY_KEY: 'x' })('STRAY_KEY')).toBe(false);
    expect(senderEnvPresence(loadConfig({ HERALD_SENDER_ENV_PRESENT: '' }), { RESEND_API_KEY: 'x' })('RESEND_API_KEY')).toBe(false);
    const own = loadConfig({ RESEND_API_KEY: 're_x' });
    expect(senderEnvPresence(own, {})('RESEND_API_KEY')).toBe(true);
    expect(senderEnvPresence(own, { STRAY_KEY: 'x' })('STRAY_KEY')).toBe(true);
    expect(senderEnvPresence(own, {})('STRAY_KEY')).toBe(false);
    expect(() => loadConfig({ HERALD_SENDER_ENV: 'HERALD_API_KEYS' })).toThrow(/HERALD_SENDER_ENV lists "HERALD_API_KEYS"/);
    expect(loadConfig({ HERALD_SENDER_ENV: 'ACME_KEY', ACME_KEY: 'v' }).sender).toMatchObject({
      envNames: ['RESEND_API_KEY', 'ACME_KEY'],
      secrets: { ACME_KEY: 'v' },
    });
  });
});
