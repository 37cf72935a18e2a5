import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionWorkflowId } from '../../workflows/workflow-ids';
import { emailCampaign, liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';

const trigger = (campaignId: string, recipients: object[], extra: object = {}) => ({ requestId: uniqueRequestId(), campaignId, recipients, ...extra });
const ada = { userId: 'ada@example.com', namespace: 'email' };

describe('unitary trigger', () => {
  let herald: Herald;
  let transactional: { id: string };

  beforeAll(async () => {
    herald = await startHerald();
    transactional = await liveCampaign(herald);
    await herald.request('PUT', '/v1/profiles/email/ada@example.com', { attributes: { firstName: 'Ada' } });
  });
  afterAll(() => herald.stop());

  async function send(body: object) {
    const res = await herald.request('POST', '/v1/executions/unitary', body);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return herald.waitForExecution(res.body.executionId);
  }

  async function outboxFor(campaignId: string, to?: string) {
    const res = await herald.request('GET', `/v1/outbox?campaignId=${campaignId}${to ? `&to=${encodeURIComponent(to)}` : ''}`);
    return res.body.items as { to: string; subject: string; html: string; text: string | null; executionId: string; userId: string }[];
  }

  it('accepts with 202, renders profile and context, and delivers to the outbox', async () => {
    const body = trigger(transactional.id, [{ ...ada, context: { code: '4711' } }]);
    const res = await herald.request('POST', '/v1/executions/unitary', body);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ executionId: expect.any(String), requestId: body.requestId, campaignId: transactional.id });
    const execution = await herald.waitForExecution(res.body.executionId);
    expect(execution).toMatchObject({
      status: 'completed',
      recipients: [{ userId: 'ada@example.com', status: 'sent', profileCreated: false, messageId: expect.any(String) }],
    });
    const [message] = (await outboxFor(transactional.id, 'ada@example.com')).filter((m) => m.executionId === res.body.executionId);
    expect(message).toMatchObject({ subject: 'Hello Ada', html: '<p>Hi Ada, your code is 4711</p>', text: 'Code 4711', userId: 'ada@example.com' });
  });

  it('tags the workflow with search attributes and a summary operators can find', async () => {
    const body = trigger(transactional.id, [ada]);
    const res = await herald.request('POST', '/v1/executions/unitary', body);
    await herald.waitForExecution(res.body.executionId);
    const handle = herald.client.workflow.getHandle(executionWorkflowId(transactional.id, body.requestId));
    const description = await handle.describe();
    expect(description.searchAttributes).toMatchObject({
      CampaignId: [transactional.id],
      RequestId: [body.requestId],
      Channel: ['email'],
      CampaignType: ['transactional'],
    });
    const summary = await description.staticSummary();
    const details = await description.staticDetails();
    expect(summary).toBe(`email "Password reset" to 1 recipient (request ${body.requestId})`);
    expect(details).toContain(res.body.executionId);
    // Ids and counts only: no address or userId in what the UI shows.
    expect(`${summary} ${details}`).not.toContain('ada@example.com');
  });

  it('is idempotent: the same requestId and body give the same execution and one message', async () => {
    const body = trigger(transactional.id, [{ ...ada, context: { code: 'idem' } }]);
    const first = await herald.request('POST', '/v1/executions/unitary', body);
    const reordered = { recipients: body.recipients, campaignId: body.campaignId, requestId: body.requestId };
    const second = await herald.request('POST', '/v1/executions/unitary', reordered);
    expect(second.status).toBe(202);
    expect(second.body.executionId).toBe(first.body.executionId);
    await herald.waitForExecution(first.body.executionId);
    const third = await herald.request('POST', '/v1/executions/unitary', body);
    expect(third.body.executionId).toBe(first.body.executionId);
    const messages = (await outboxFor(transactional.id)).filter((m) => m.executionId === first.body.executionId);
    expect(messages).toHaveLength(1);

    const changed = await herald.request('POST', '/v1/executions/unitary', { ...body, context: { code: 'other' } });
    expect(changed.status).toBe(409);
    expect(changed.body.type).toBe('request-id-conflict');
  });

  it('answers a repeat of a finished execution from its database, never starting the workflow again', async () => {
    const body = trigger(transactional.id, [{ ...ada, context: { code: 'once' } }]);
    const first = await herald.request('POST', '/v1/executions/unitary', body);
    await herald.waitForExecution(first.body.executionId);
    // Temporal forgets closed workflows after its retention period. Stand in for that: the stored
    // execution now names a workflow ID Temporal has never seen, so a start would go through.
    const forgotten = `${executionWorkflowId(transactional.id, body.requestId)}-forgotten`;
    await herald.db.updateTable('executions').set({ workflow_id: forgotten }).where('id', '=', first.body.executionId).execute();

    const repeat = await herald.request('POST', '/v1/executions/unitary', body);
    expect(repeat.status).toBe(202);
    expect(repeat.body.executionId).toBe(first.body.executionId);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await expect(herald.client.workflow.getHandle(forgotten).describe()).rejects.toThrow(/not found/i);
    expect((await outboxFor(transactional.id)).filter((m) => m.executionId === first.body.executionId)).toHaveLength(1);
    expect((await herald.request('GET', `/v1/executions/${first.body.executionId}`)).body).toMatchObject({ status: 'completed', counts: { sent: 1 } });
  });

  it('auto-creates missing profiles and reports profileCreated', async () => {
    const execution = await send(trigger(transactional.id, [{ userId: 'new-user@example.com', namespace: 'email' }]));
    expect(execution.recipients[0]).toMatchObject({ status: 'sent', profileCreated: true });
    const profile = await herald.request('GET', '/v1/profiles/email/new-user@example.com');
    expect(profile.body).toMatchObject({ autoCreated: true });
    const again = await send(trigger(transactional.id, [{ userId: 'new-user@example.com', namespace: 'email' }]));
    expect(again.recipients[0].profileCreated).toBe(false);
  });

  it('fails a recipient with profile-not-found when profiles are not auto-created', async () => {
    const strict = await liveCampaign(herald, { audience: { namespace: 'email', createMissingProfiles: false } });
    const execution = await send(trigger(strict.id, [{ userId: 'ghost@example.com', namespace: 'email' }, ada]));
    expect(execution.recipients).toEqual([
      expect.objectContaining({ userId: 'ghost@example.com', status: 'failed', reason: 'profile-not-found', profileCreated: false }),
      expect.objectContaining({ userId: 'ada@example.com', status: 'sent' }),
    ]);
    expect((await herald.request('GET', '/v1/profiles/email/ghost@example.com')).status).toBe(404);
  });

  it('excludes marketing recipients without email consent', async () => {
    const marketing = await liveCampaign(herald, { type: 'marketing' });
    await herald.request('PUT', '/v1/profiles/email/optin@example.com', { attributes: {}, consents: { email: 'in' } });
    await herald.request('PUT', '/v1/profiles/email/optout@example.com', { attributes: {}, consents: { email: 'out' } });
    const execution = await send(
      trigger(marketing.id, [
        { userId: 'optin@example.com', namespace: 'email' },
        { userId: 'optout@example.com', namespace: 'email' },
        { userId: 'unknown@example.com', namespace: 'email' },
      ]),
    );
    expect(execution.recipients.map((r: { status: string; reason?: string }) => [r.status, r.reason])).toEqual([
      ['sent', undefined],
      ['excluded', 'no-consent'],
      ['excluded', 'no-consent'],
    ]);
    expect((await outboxFor(marketing.id)).map((m) => m.to)).toEqual(['optin@example.com']);
  });

  it('escapes HTML in context and never evaluates context as a template', async () => {
    const execution = await send(trigger(transactional.id, [{ ...ada, context: { code: '<script>alert(1)</script> {{ 7*7 }} {% include "/etc/passwd" %}' } }]));
    const [message] = (await outboxFor(transactional.id)).filter((m) => m.executionId === execution.executionId);
    expect(message!.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(message!.html).toContain('{{ 7*7 }}');
    expect(message!.html).not.toContain('<script>');
    expect(message!.html).not.toContain('49');
  });

  it('uses channelData.emailAddress, then the profile email, then the userId', async () => {
    const crm = await liveCampaign(herald, { audience: { namespace: 'crm', createMissingProfiles: true } });
    await herald.request('PUT', '/v1/profiles/crm/c-1', { attributes: { email: 'profile@example.com' } });
    const execution = await send(
      trigger(crm.id, [
        { userId: 'c-1', namespace: 'crm' },
        { userId: 'c-2', namespace: 'crm', channelData: { emailAddress: 'given@example.com' } },
        { userId: 'c-3', namespace: 'crm' },
      ]),
    );
    expect(execution.recipients.map((r: { status: string; reason?: string }) => r.reason ?? r.status)).toEqual(['sent', 'sent', 'no-email-address']);
    expect((await outboxFor(crm.id)).map((m) => m.to).sort()).toEqual(['given@example.com', 'profile@example.com']);
  });

  it('fails a recipient whose template cannot render, with a clear reason', async () => {
    const broken = await liveCampaign(herald, { content: { subject: 'Hi', html: '<p>{{ profile.name.first.toUpperCase() }}</p>' } });
    const execution = await send(trigger(broken.id, [ada]));
    expect(execution.recipients[0]).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^render-error: .*undefined/) });
  });

  it('strips CR/LF from rendered subjects so context cannot inject mail headers', async () => {
    const headerCampaign = await liveCampaign(herald, { content: { subject: 'Hi {{ context.name }}', html: '<p>x</p>' } });
    const execution = await send(trigger(headerCampaign.id, [{ ...ada, context: { name: 'Ada\r\nBcc: evil@example.com' } }]));
    const [message] = (await outboxFor(headerCampaign.id)).filter((m) => m.executionId === execution.executionId);
    expect(message!.subject).toBe('Hi Ada Bcc: evil@example.com');
  });

  describe('rejections', () => {
    const expectProblem = async (body: unknown, status: number, type?: string) => {
      const res = await herald.request('POST', '/v1/executions/unitary', body);
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.status).toBe(status);
      if (type) expect(res.body.type).toBe(type);
      return res.body;
    };

    it('400 for schema violations, with the offending fields', async () => {
      const problem = await expectProblem({ campaignId: transactional.id, recipients: [] }, 400, 'validation-failed');
      expect(problem.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['requestId', 'recipients']));
      await expectProblem({ requestId: 'x'.repeat(129), campaignId: transactional.id, recipients: [ada] }, 400);
      await expectProblem('{"requestId": ', 400, 'malformed-request');
    });

    it('400 for more than 20 recipients and for a duplicate userId', async () => {
      const many = Array.from({ length: 21 }, (_, i) => ({ userId: `u${i}@example.com`, namespace: 'email' }));
      await expectProblem(trigger(transactional.id, many), 400);
      const duplicate = await expectProblem(trigger(transactional.id, [ada, ada]), 400);
      expect(JSON.stringify(duplicate.errors)).toContain('duplicate userId');
    });

    it('400 for a context.system key, shared or per recipient', async () => {
      await expectProblem(trigger(transactional.id, [ada], { context: { system: {} } }), 400);
      await expectProblem(trigger(transactional.id, [{ ...ada, context: { system: 1 } }]), 400);
    });

    it('400 for a namespace other than the campaign audience namespace', async () => {
      const problem = await expectProblem(trigger(transactional.id, [{ userId: 'x', namespace: 'crm' }]), 400);
      expect(problem.errors[0].field).toBe('recipients.0.namespace');
    });

    it('404 for an unknown campaign', async () => {
      await expectProblem(trigger('no-such-campaign', [ada]), 404, 'not-found');
    });

    it('409 for a campaign that is not live', async () => {
      const draft = await herald.request('POST', '/v1/campaigns', emailCampaign());
      await expectProblem(trigger(draft.body.id, [ada]), 409, 'campaign-not-live');
    });

    it('413 for context over 200 KB', async () => {
      await expectProblem(trigger(transactional.id, [ada], { context: { blob: 'x'.repeat(201 * 1024) } }), 413, 'context-too-large');
    });

    it('413 for a body over the limit', async () => {
      await expectProblem(trigger(transactional.id, [ada], { context: { blob: 'x'.repeat(2 * 1024 * 1024) } }), 413, 'payload-too-large');
    });

    it('422 campaign-outside-schedule before startAt and after endAt, 202 inside', async () => {
      const startAt = new Date(Date.now() + 2500).toISOString();
      const endAt = new Date(Date.now() + 5000).toISOString();
      const windowed = await liveCampaign(herald, { schedule: { startAt, endAt } });
      expect(windowed.status).toBe('scheduled');
      await expectProblem(trigger(windowed.id, [ada]), 422, 'campaign-outside-schedule');
      await new Promise((r) => setTimeout(r, Date.parse(startAt) - Date.now() + 300));
      const inside = await herald.request('POST', '/v1/executions/unitary', trigger(windowed.id, [ada]));
      expect(inside.status).toBe(202);
      expect((await herald.waitForExecution(inside.body.executionId)).status).toBe('completed');
      await new Promise((r) => setTimeout(r, Date.parse(endAt) - Date.now() + 100));
      const after = await herald.request('POST', '/v1/executions/unitary', trigger(windowed.id, [ada]));
      expect([409, 422]).toContain(after.status);
    });

    it('404 for an unknown execution', async () => {
      const res = await herald.request('GET', '/v1/executions/nope');
      expect(res.status).toBe(404);
    });
  });
});
