import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activationWorkflowId } from '../../workflows/workflow-ids';
import { liveCampaign, uniqueRequestId } from '../support/campaigns';
import { randomPayloadKeys, sameDatabaseEnv, startHerald, type Herald } from '../support/herald-harness';
import { waitFor } from '../support/process-stack';

const ada = { userId: 'ada@example.com', namespace: 'email' };
const v2Content = { subject: 'V2 for {{ profile.firstName }}', html: '<p>Version two, code {{ context.code }}</p>', text: 'v2 {{ context.code }}' };

interface OutboxMessage {
  subject: string;
  html: string;
  executionId: string;
}

describe('campaign versions', () => {
  let herald: Herald;
  beforeAll(async () => {
    herald = await startHerald();
    await herald.request('PUT', '/v1/profiles/email/ada@example.com', { attributes: { firstName: 'Ada' } });
  });
  afterAll(() => herald.stop());

  async function triggerAndWait(campaignId: string, extra: object = {}) {
    const res = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('ver'),
      campaignId,
      recipients: [{ ...ada, context: { code: '42' } }],
      ...extra,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return herald.waitForExecution(res.body.executionId);
  }

  async function messageOf(campaignId: string, executionId: string): Promise<OutboxMessage | undefined> {
    const { body } = await herald.request('GET', `/v1/outbox?campaignId=${campaignId}&limit=500`);
    return (body.items as OutboxMessage[]).find((m) => m.executionId === executionId);
  }

  it('PATCH on a live campaign creates a draft version; the live version keeps serving triggers', async () => {
    const campaign = await liveCampaign(herald);
    expect(campaign.version).toBe(1);
    const edited = await herald.request('PATCH', `/v1/campaigns/${campaign.id}`, { content: v2Content, description: 'second' });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect(edited.body).toMatchObject({ id: campaign.id, status: 'live', version: 1, draftVersion: 2, content: campaign.content });
    expect(edited.body.description).toBeUndefined();

    const fetched = await herald.request('GET', `/v1/campaigns/${campaign.id}`);
    expect(fetched.body).toMatchObject({ status: 'live', version: 1, draftVersion: 2, content: campaign.content });

    const execution = await triggerAndWait(campaign.id);
    expect(execution).toMatchObject({ status: 'completed', campaignVersion: 1 });
    expect(await messageOf(campaign.id, execution.executionId)).toMatchObject({ subject: 'Hello Ada', html: '<p>Hi Ada, your code is 42</p>' });

    // A second edit builds on the draft and supersedes it.
    const again = await herald.request('PATCH', `/v1/campaigns/${campaign.id}`, { name: 'Password reset v3' });
    expect(again.body).toMatchObject({ version: 1, draftVersion: 3, name: campaign.name });
    const versions = await herald.request('GET', `/v1/campaigns/${campaign.id}/versions`);
    expect(versions.status).toBe(200);
    expect(versions.body.items.map((v: { version: number; status: string }) => [v.version, v.status])).toEqual([
      [3, 'draft'],
      [2, 'superseded'],
      [1, 'live'],
    ]);
    expect(versions.body.items[0]).toMatchObject({ name: 'Password reset v3', description: 'second', content: v2Content, createdAt: expect.any(String) });
    expect(versions.body.items[0].activatedAt).toBeUndefined();
    expect(versions.body.items[2]).toMatchObject({ name: campaign.name, content: campaign.content, activatedAt: expect.any(String) });
  });

  it("activation switches to the draft version through the activation workflow's update; new triggers render it", async () => {
    const campaign = await liveCampaign(herald);
    const handle = herald.client.workflow.getHandle(activationWorkflowId(campaign.id));
    await waitFor('the workflow to be live', async () => (await handle.query<{ status: string }>('state')).status === 'live', 20_000);
    expect((await herald.request('PATCH', `/v1/campaigns/${campaign.id}`, { content: v2Content })).status).toBe(200);

    const activated = await herald.request('POST', `/v1/campaigns/${campaign.id}/activate`);
    expect(activated.status, JSON.stringify(activated.body)).toBe(200);
    expect(activated.body).toMatchObject({ status: 'live', version: 2, content: v2Content, warnings: [] });
    expect(activated.body.draftVersion).toBeUndefined();

    // The switch went through the workflow: its state and its history say so.
    expect(await handle.query<{ liveVersion?: number }>('state')).toMatchObject({ status: 'live', liveVersion: 2 });
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    expect(events.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'activateVersion')).toBe(true);
    expect(events.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'switchCampaignVersion')).toBe(true);
    expect(events.some((e) => e.workflowExecutionUpdateCompletedEventAttributes)).toBe(true);

    const execution = await triggerAndWait(campaign.id);
    expect(execution.campaignVersion).toBe(2);
    expect(await messageOf(campaign.id, execution.executionId)).toMatchObject({ subject: 'V2 for Ada', html: '<p>Version two, code 42</p>' });

    const versions = (await herald.request('GET', `/v1/campaigns/${campaign.id}/versions`)).body.items;
    expect(versions.map((v: { version: number; status: string }) => [v.version, v.status])).toEqual([
      [2, 'live'],
      [1, 'superseded'],
    ]);
    expect(versions[0].activatedAt).toEqual(expect.any(String));

    const audit = await herald.request('GET', `/v1/audit-log?resourceId=${campaign.id}`);
    const switched = audit.body.items.find((e: { action: string }) => e.action === 'campaign.version-activated');
    expect(switched).toMatchObject({ before: { version: 1 }, after: { version: 2 } });

    // Nothing waits now: a further activation is refused as before.
    const again = await herald.request('POST', `/v1/campaigns/${campaign.id}/activate`);
    expect(again.status).toBe(409);
    expect(again.body.type).toBe('campaign-not-draft');

    // Stopping still ends the workflow, at the version it switched to.
    expect((await herald.request('POST', `/v1/campaigns/${campaign.id}/stop`)).status).toBe(200);
    expect(await handle.result()).toMatchObject({ status: 'stopped', liveVersion: 2 });
    const ended = (await handle.fetchHistory()).events ?? [];
    // The version-switch-by-update patch marks the new path's end.
    expect(ended.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')).toBe(true);
  });

  it('pinning campaignVersion: the live version is accepted, any other answers 409 campaign-version-not-live', async () => {
    const campaign = await liveCampaign(herald);
    const pinned = await triggerAndWait(campaign.id, { campaignVersion: 1 });
    expect(pinned).toMatchObject({ status: 'completed', campaignVersion: 1 });

    await herald.request('PATCH', `/v1/campaigns/${campaign.id}`, { content: v2Content });
    // The draft version is not live yet.
    const draft = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('pin'),
      campaignId: campaign.id,
      recipients: [ada],
      campaignVersion: 2,
    });
    expect(draft.status).toBe(409);
    expect(draft.headers.get('content-type')).toContain('application/problem+json');
    expect(draft.body).toMatchObject({ status: 409, type: 'campaign-version-not-live' });

    expect((await herald.request('POST', `/v1/campaigns/${campaign.id}/activate`)).status).toBe(200);
    const old = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('pin'),
      campaignId: campaign.id,
      recipients: [ada],
      campaignVersion: 1,
    });
    expect(old.status).toBe(409);
    expect(old.body.type).toBe('campaign-version-not-live');
    const current = await triggerAndWait(campaign.id, { campaignVersion: 2 });
    expect(current.campaignVersion).toBe(2);
    expect(
      (
        await herald.request('POST', '/v1/executions/unitary', {
          requestId: uniqueRequestId('pin'),
          campaignId: campaign.id,
          recipients: [ada],
          campaignVersion: 0,
        })
      ).status,
    ).toBe(400);
  });

  it('refuses to change channel, schedule or channel configuration on a live campaign, and reviews a draft version', async () => {
    const campaign = await liveCampaign(herald);
    const schedule = await herald.request('PATCH', `/v1/campaigns/${campaign.id}`, { schedule: { endAt: new Date(Date.now() + 3_600_000).toISOString() } });
    expect(schedule.status).toBe(409);
    expect(schedule.body).toMatchObject({ type: 'campaign-field-fixed-while-active', errors: [{ field: 'schedule' }] });

    const broken = await herald.request('PATCH', `/v1/campaigns/${campaign.id}`, { content: { subject: '', html: '<p>{% if %}</p>' } });
    expect(broken.status).toBe(200);
    const refused = await herald.request('POST', `/v1/campaigns/${campaign.id}/activate`);
    expect(refused.status).toBe(422);
    expect(refused.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['content.subject', 'content.html']));
    expect((await herald.request('GET', `/v1/campaigns/${campaign.id}`)).body).toMatchObject({ version: 1, draftVersion: 2, content: campaign.content });

    expect((await herald.request('GET', '/v1/campaigns/nope/versions')).status).toBe(404);
    // Stopped: no more versions.
    await herald.request('POST', `/v1/campaigns/${campaign.id}/stop`);
    expect((await herald.request('PATCH', `/v1/campaigns/${campaign.id}`, { name: 'x' })).status).toBe(409);
  });
});

/**
 * Calls in flight at the switch. The triggers are accepted by an API whose task queue no worker
 * polls yet (so they are claimed, with the version they were accepted at, and their workflows
 * wait); the campaign's activation workflow, on the first Herald's queue, switches versions
 * meanwhile; more triggers come after the switch; only then does a worker take the queue. Every
 * execution renders the version it recorded, whatever is live when it runs.
 */
describe('a version switch while triggers are in flight', () => {
  let herald: Herald;
  let front: Herald;
  let late: Herald | undefined;
  const payloadKeys = randomPayloadKeys();

  beforeAll(async () => {
    herald = await startHerald();
    front = await startHerald({ withoutWorker: true, env: { ...sameDatabaseEnv(herald.config), HERALD_PAYLOAD_KEYS: payloadKeys } });
    await herald.request('PUT', '/v1/profiles/email/ada@example.com', { attributes: { firstName: 'Ada' } });
  });
  afterAll(async () => {
    await late?.stop();
    await front?.stop();
    await herald?.stop();
  });

  it('each execution renders the version it recorded', async () => {
    const campaign = await liveCampaign(herald);
    const handle = herald.client.workflow.getHandle(activationWorkflowId(campaign.id));
    await waitFor('the workflow to be live', async () => (await handle.query<{ status: string }>('state')).status === 'live', 20_000);
    const accept = async (code: string) => {
      const res = await front.request('POST', '/v1/executions/unitary', {
        requestId: uniqueRequestId('inflight'),
        campaignId: campaign.id,
        recipients: [{ ...ada, context: { code } }],
      });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      return res.body.executionId as string;
    };

    const before = await Promise.all(['b1', 'b2', 'b3'].map(accept));
    expect((await herald.request('PATCH', `/v1/campaigns/${campaign.id}`, { content: v2Content })).status).toBe(200);
    // Switch while more calls arrive.
    const [switched, ...during] = await Promise.all([herald.request('POST', `/v1/campaigns/${campaign.id}/activate`), accept('d1'), accept('d2')]);
    expect(switched.status, JSON.stringify(switched.body)).toBe(200);
    const after = await Promise.all(['a1', 'a2'].map(accept));

    // Nothing has run yet: every one is still waiting for a worker.
    for (const executionId of [...before, ...during, ...after])
      expect((await herald.request('GET', `/v1/executions/${executionId}`)).body.status).toBe('running');

    late = await startHerald({
      env: { ...sameDatabaseEnv(herald.config), HERALD_PAYLOAD_KEYS: payloadKeys, TEMPORAL_TASK_QUEUE: front.config.temporal.taskQueue },
    });
    const outbox = async () => (await herald.request('GET', `/v1/outbox?campaignId=${campaign.id}&limit=500`)).body.items as OutboxMessage[];
    const versions = new Map<string, number>();
    for (const executionId of [...before, ...during, ...after]) {
      const execution = await herald.waitForExecution(executionId);
      expect(execution.status).toBe('completed');
      versions.set(executionId, execution.campaignVersion);
    }
    expect(before.map((id) => versions.get(id))).toEqual([1, 1, 1]);
    expect(after.map((id) => versions.get(id))).toEqual([2, 2]);
    const messages = await outbox();
    for (const [executionId, version] of versions) {
      const message = messages.find((m) => m.executionId === executionId);
      expect(message, executionId).toBeDefined();
      if (version === 1) expect(message).toMatchObject({ subject: 'Hello Ada', html: expect.stringContaining('Hi Ada, your code is') });
      else expect(message).toMatchObject({ subject: 'V2 for Ada', html: expect.stringContaining('Version two, code') });
    }
  });
});
