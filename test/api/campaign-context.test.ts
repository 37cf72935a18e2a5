import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionWorkflowId } from '../../workflows/workflow-ids';
import { heraldAs, withKey, type Requester } from '../support/api-keys';
import { emailCampaign, liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';

const run = promisify(execFile);
const KEY = 'context-suite-key';

const orderSchema = {
  type: 'object',
  required: ['code', 'order'],
  properties: {
    code: { type: 'string', pattern: '^[0-9]{4}$', examples: ['4711'] },
    order: {
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'integer', minimum: 1, examples: [42] }, total: { type: 'number' } },
      additionalProperties: false,
    },
  },
};
const orderContent = {
  subject: 'Order {{ context.order.id }} for {{ profile.firstName }}',
  html: '<p>Hi {{ profile.firstName }}, code <b>{{ context.code }}</b>, total {{ context.order.total }}</p>',
  text: 'Code {{ context.code }}',
};

describe('typed context, cURL and preview', () => {
  let herald: Herald;
  let api: Requester;

  beforeAll(async () => {
    herald = await startHerald({ env: { HERALD_API_KEYS: KEY } });
    api = withKey(herald, KEY);
    await api('PUT', '/v1/profiles/email/ada@example.com', { attributes: { firstName: 'Ada' } });
  });
  afterAll(() => herald.stop());

  const typedCampaign = (overrides: Record<string, unknown> = {}) =>
    liveCampaign(heraldAs(herald, KEY), { content: orderContent, contextSchema: orderSchema, ...overrides });

  async function waitForExecution(executionId: string) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { body } = await api('GET', `/v1/executions/${executionId}`);
      if (body?.status && body.status !== 'running') return body;
      if (Date.now() > deadline) throw new Error(`execution ${executionId} still running: ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function executionRows(requestId: string) {
    return herald.db.selectFrom('executions').select('id').where('request_id', '=', requestId).execute();
  }

  describe('contextSchema on save', () => {
    it('stores a schema that compiles and answers it back', async () => {
      const res = await api('POST', '/v1/campaigns', emailCampaign({ contextSchema: orderSchema }));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.contextSchema).toEqual(orderSchema);
      expect((await api('GET', `/v1/campaigns/${res.body.id}`)).body.contextSchema).toEqual(orderSchema);
      const removed = await api('PATCH', `/v1/campaigns/${res.body.id}`, { contextSchema: null });
      expect(removed.status).toBe(200);
      expect(removed.body.contextSchema).toBeUndefined();
    });

    it('refuses a schema that does not compile with a 400 problem saying why', async () => {
      const cases = [
        [{ type: 'objekt' }, 'contextSchema.type'],
        [{ type: 'object', colour: 'red' }, 'contextSchema'],
        [{ $ref: 'https://example.com/evil.json' }, 'contextSchema.$ref'],
        [{ type: 'object', properties: { a: { type: 'string', pattern: '(?=x)y' } } }, 'contextSchema'],
      ] as const;
      for (const [schema, field] of cases) {
        const res = await api('POST', '/v1/campaigns', emailCampaign({ contextSchema: schema }));
        expect(res.status, JSON.stringify(schema)).toBe(400);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(
          res.body.errors.map((e: { field: string }) => e.field),
          JSON.stringify(res.body),
        ).toContain(field);
      }
      const { body: draft } = await api('POST', '/v1/campaigns', emailCampaign());
      const patched = await api('PATCH', `/v1/campaigns/${draft.id}`, { contextSchema: { type: 'object', properties: { a: { minimum: 'one' } } } });
      expect(patched.status).toBe(400);
      expect(patched.body.errors[0].field).toMatch(/^contextSchema/);
    });
  });

  describe('triggers against the schema', () => {
    it('answers 400 listing every violation, shared and per recipient, and creates nothing', async () => {
      const campaign = await typedCampaign();
      const requestId = uniqueRequestId('typed');
      const res = await api('POST', '/v1/executions/unitary', {
        requestId,
        campaignId: campaign.id,
        context: { code: 'abcd', order: { id: 0, extra: true } },
        recipients: [
          { userId: 'ada@example.com', namespace: 'email' },
          { userId: 'bob@example.com', namespace: 'email', context: { order: { id: 'seven' } } },
        ],
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.type).toBe('validation-failed');
      expect(res.body.errors).toEqual(
        expect.arrayContaining([
          { field: 'context.code', message: 'must match pattern "^[0-9]{4}$"' },
          { field: 'context.order.extra', message: 'is not allowed by the schema' },
          { field: 'context.order.id', message: 'must be >= 1' },
          { field: 'recipients.1.context.order.id', message: 'must be integer' },
        ]),
      );
      // A shared violation is listed once, not once per recipient.
      expect(res.body.errors.filter((e: { field: string }) => e.field === 'context.code')).toHaveLength(1);
      expect(await executionRows(requestId)).toEqual([]);
      await expect(herald.client.workflow.getHandle(executionWorkflowId(campaign.id, requestId)).describe()).rejects.toThrow(/not found/i);

      const missing = await api('POST', '/v1/executions/unitary', {
        requestId: uniqueRequestId('typed'),
        campaignId: campaign.id,
        recipients: [{ userId: 'ada@example.com', namespace: 'email' }],
      });
      expect(missing.status).toBe(400);
      expect(missing.body.errors).toEqual([
        { field: 'context.code', message: 'is required' },
        { field: 'context.order', message: 'is required' },
      ]);
    });

    it('accepts a context that matches, merging shared and per-recipient context as preparation does', async () => {
      const campaign = await typedCampaign();
      const res = await api('POST', '/v1/executions/unitary', {
        requestId: uniqueRequestId('typed'),
        campaignId: campaign.id,
        context: { order: { id: 42, total: 9.5 } },
        recipients: [{ userId: 'ada@example.com', namespace: 'email', context: { code: '4711' } }],
      });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      const execution = await waitForExecution(res.body.executionId);
      expect(execution.recipients[0]).toMatchObject({ status: 'sent' });
    });
  });

  it('activation answers non-blocking warnings for context variables the schema does not declare', async () => {
    const typo = { ...orderContent, html: `${orderContent.html} {{ context.cuopon }} {{ profile.anything }}` };
    const campaign = await typedCampaign({ content: typo });
    expect(campaign.status).toBe('live');
    expect(campaign.warnings).toEqual([{ field: 'content.html', message: expect.stringContaining('context.cuopon') }]);
    const plain = await liveCampaign(heraldAs(herald, KEY));
    expect(plain.warnings).toEqual([]);
  });

  it('GET /curl returns a runnable request: run for real with $HERALD_API_KEY, it answers 202 and delivers', async () => {
    const campaign = await typedCampaign();
    const res = await api('GET', `/v1/campaigns/${campaign.id}/curl`);
    expect(res.status).toBe(200);
    expect(res.body.variables).toEqual({ profile: ['profile.firstName'], context: ['context.code', 'context.order.id', 'context.order.total'] });
    const { curl } = res.body as { curl: string };
    expect(curl).toContain(`${herald.baseUrl}/v1/executions/unitary`);
    expect(curl).toContain('$HERALD_API_KEY');
    expect(curl).not.toContain(KEY);

    const { stdout } = await run('sh', ['-c', `${curl} -w '\\n%{http_code}'`], { env: { ...process.env, HERALD_API_KEY: KEY } });
    const lines = stdout.trim().split('\n');
    expect(lines.at(-1), stdout).toBe('202');
    const accepted = JSON.parse(lines.slice(0, -1).join('\n'));
    expect(accepted.campaignId).toBe(campaign.id);
    const execution = await waitForExecution(accepted.executionId);
    expect(execution).toMatchObject({ status: 'completed', recipients: [{ userId: 'user@example.com', status: 'sent' }] });
    const outbox = await api('GET', `/v1/outbox?campaignId=${campaign.id}`);
    expect(outbox.body.items[0]).toMatchObject({ subject: 'Order 42 for', text: 'Code 4711' });

    // Without the key the same command is refused: it carries no secret of its own.
    const { stdout: refused } = await run('sh', ['-c', `${curl} -o /dev/null -w '%{http_code}'`], { env: { ...process.env, HERALD_API_KEY: 'wrong' } });
    expect(refused).toBe('401');
    expect((await api('GET', '/v1/campaigns/nope/curl')).status).toBe(404);
  });

  describe('preview', () => {
    async function sideEffects(campaignId: string) {
      const executions = await herald.db.selectFrom('executions').select('id').where('campaign_id', '=', campaignId).execute();
      const outbox = await herald.db.selectFrom('outbox').select('id').where('campaign_id', '=', campaignId).execute();
      const deliveries = await herald.db
        .selectFrom('deliveries')
        .select('user_id')
        .where('user_id', 'in', ['ghost@example.com', 'newbie@example.com', 'optout@example.com'])
        .execute();
      return { executions: executions.length, outbox: outbox.length, deliveries: deliveries.length };
    }

    it('renders the content for a stored profile, with the decisions and the address, and sends nothing', async () => {
      const { body: draft } = await api('POST', '/v1/campaigns', emailCampaign({ content: orderContent, contextSchema: orderSchema }));
      const before = await sideEffects(draft.id);
      const res = await api('POST', `/v1/campaigns/${draft.id}/preview`, {
        recipient: { userId: 'ada@example.com', namespace: 'email' },
        context: { code: '1234', order: { id: 7, total: 3 } },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({
        campaign: { id: draft.id, status: 'draft' },
        decision: { status: 'would-send' },
        exclusions: [],
        profile: { exists: true, wouldBeCreated: false },
        consent: { required: false, decision: 'allowed' },
        address: 'ada@example.com',
        locale: 'default',
        rendered: { subject: 'Order 7 for Ada', html: '<p>Hi Ada, code <b>1234</b>, total 3</p>', text: 'Code 1234' },
        contextViolations: [],
      });
      // Attributes given in the preview lay over the stored ones; a bad context is reported, not refused.
      const overlaid = await api('POST', `/v1/campaigns/${draft.id}/preview`, {
        recipient: { userId: 'ada@example.com', namespace: 'email', attributes: { firstName: 'Augusta' } },
        context: { code: 'x' },
      });
      expect(overlaid.body.rendered.subject).toBe('Order  for Augusta');
      expect(overlaid.body.contextViolations).toEqual(
        expect.arrayContaining([
          { field: 'context.code', message: 'must match pattern "^[0-9]{4}$"' },
          { field: 'context.order', message: 'is required' },
        ]),
      );
      expect(await sideEffects(draft.id)).toEqual(before);
    });

    it("renders the language variant of the recipient's locale, with the same fallback as a send", async () => {
      const content = {
        default: { subject: 'Hello {{ profile.firstName }}', html: '<p>Code {{ context.code }}</p>' },
        translations: { fr: { subject: 'Bonjour {{ profile.firstName }}', html: '<p>Code : {{ context.code }}</p>' } },
      };
      const { body: draft } = await api('POST', '/v1/campaigns', emailCampaign({ content }));
      const preview = (locale?: string) =>
        api('POST', `/v1/campaigns/${draft.id}/preview`, {
          recipient: { userId: 'ada@example.com', namespace: 'email', ...(locale && { locale }) },
          context: { code: '12' },
        });
      expect((await preview('fr-CA')).body).toMatchObject({
        locale: 'fr',
        profile: { locale: 'fr-CA' },
        rendered: { subject: 'Bonjour Ada', html: '<p>Code : 12</p>' },
      });
      expect((await preview('de')).body).toMatchObject({ locale: 'default', rendered: { subject: 'Hello Ada' } });
      expect((await preview()).body).toMatchObject({ locale: 'default', rendered: { subject: 'Hello Ada' } });
    });

    it('reports profile-not-found, consent and would-be-created profiles without creating or sending anything', async () => {
      const strict = await liveCampaign(heraldAs(herald, KEY), { audience: { namespace: 'email', createMissingProfiles: false } });
      const ghost = await api('POST', `/v1/campaigns/${strict.id}/preview`, {
        recipient: { userId: 'ghost@example.com', namespace: 'email', attributes: { firstName: 'Casper' } },
        context: { code: '1' },
      });
      expect(ghost.status).toBe(200);
      expect(ghost.body).toMatchObject({
        decision: { status: 'failed', reason: 'profile-not-found' },
        exclusions: ['profile-not-found'],
        profile: { exists: false, wouldBeCreated: false },
        rendered: { subject: 'Hello Casper' },
      });

      const open = await liveCampaign(heraldAs(herald, KEY));
      const newbie = await api('POST', `/v1/campaigns/${open.id}/preview`, { recipient: { userId: 'newbie@example.com', namespace: 'email' } });
      expect(newbie.body).toMatchObject({
        decision: { status: 'would-send' },
        profile: { exists: false, wouldBeCreated: true },
        address: 'newbie@example.com',
      });

      const marketing = await liveCampaign(heraldAs(herald, KEY), { type: 'marketing' });
      await api('PUT', '/v1/profiles/email/optout@example.com', { attributes: { firstName: 'Otto' }, consents: { email: 'out' } });
      const optout = await api('POST', `/v1/campaigns/${marketing.id}/preview`, {
        recipient: { userId: 'optout@example.com', namespace: 'email' },
        context: { code: '9' },
      });
      expect(optout.body).toMatchObject({
        decision: { status: 'excluded', reason: 'no-consent' },
        exclusions: ['no-consent'],
        consent: { required: true, value: 'out', decision: 'excluded' },
        address: 'optout@example.com',
        rendered: { subject: 'Hello Otto', text: 'Code 9' },
      });

      expect((await api('GET', '/v1/profiles/email/ghost@example.com')).status).toBe(404);
      expect((await api('GET', '/v1/profiles/email/newbie@example.com')).status).toBe(404);
      for (const id of [strict.id, open.id, marketing.id]) expect(await sideEffects(id)).toMatchObject({ executions: 0, outbox: 0 });
      expect((await sideEffects(open.id)).deliveries).toBe(0);

      const wrongNamespace = await api('POST', `/v1/campaigns/${open.id}/preview`, { recipient: { userId: '+15555550123', namespace: 'phone' } });
      expect(wrongNamespace.status).toBe(400);
      expect((await api('POST', '/v1/campaigns/nope/preview', { recipient: { userId: 'a@example.com', namespace: 'email' } })).status).toBe(404);
    });
  });
});
