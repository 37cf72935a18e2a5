import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionWorkflowId } from '../../workflows/workflow-ids';
import { liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';

const ada = { userId: 'ada@example.com', namespace: 'email' };

/** Every run Temporal holds for a workflow id, open or closed. */
async function runsOf(herald: Herald, workflowId: string): Promise<number> {
  let count = 0;
  for await (const _ of herald.client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) count += 1;
  return count;
}

describe('idempotent replays', () => {
  let herald: Herald;
  let campaignId: string;

  beforeAll(async () => {
    herald = await startHerald();
    campaignId = (await liveCampaign(herald)).id;
  });
  afterAll(() => herald.stop());

  const outboxOf = async (executionId: string) =>
    ((await herald.request('GET', `/v1/outbox?campaignId=${campaignId}`)).body.items as { executionId: string }[]).filter((m) => m.executionId === executionId);

  it('marks a repeat with Idempotency-Replay: true, and only a repeat', async () => {
    const body = { requestId: uniqueRequestId('replay'), campaignId, recipients: [{ ...ada, context: { code: 'r1' } }] };
    const first = await herald.request('POST', '/v1/executions/unitary', body);
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotency-replay')).toBeNull();

    const running = await herald.request('POST', '/v1/executions/unitary', body);
    expect(running.status).toBe(202);
    expect(running.body).toEqual(first.body);
    expect(running.headers.get('idempotency-replay')).toBe('true');

    await herald.waitForExecution(first.body.executionId);
    const finished = await herald.request('POST', '/v1/executions/unitary', body);
    expect(finished.status).toBe(202);
    expect(finished.body).toEqual(first.body);
    expect(finished.headers.get('idempotency-replay')).toBe('true');

    // A different body under the same requestId is a conflict, not a replay.
    const changed = await herald.request('POST', '/v1/executions/unitary', { ...body, context: { other: true } });
    expect(changed.status).toBe(409);
    expect(changed.headers.get('idempotency-replay')).toBeNull();
    expect(await outboxOf(first.body.executionId)).toHaveLength(1);
  });

  it('answers a repeat from its first execution after the campaign stopped, and refuses a new call', async () => {
    // The checks run before the requestId is looked up: a repeat must still be answered when they refuse.
    const stopping = (await liveCampaign(herald)).id;
    const body = { requestId: uniqueRequestId('replay-stopped'), campaignId: stopping, recipients: [ada] };
    const first = await herald.request('POST', '/v1/executions/unitary', body);
    expect(first.status).toBe(202);
    await herald.waitForExecution(first.body.executionId);
    expect((await herald.request('POST', `/v1/campaigns/${stopping}/stop`)).status).toBe(200);

    const repeat = await herald.request('POST', '/v1/executions/unitary', body);
    expect(repeat.status).toBe(202);
    expect(repeat.body).toEqual(first.body);
    expect(repeat.headers.get('idempotency-replay')).toBe('true');
    const fresh = await herald.request('POST', '/v1/executions/unitary', { ...body, requestId: uniqueRequestId('replay-stopped') });
    expect(fresh.status).toBe(409);
    expect(fresh.body.type).toContain('campaign-not-live');
    // A changed body under the stopped call's requestId is still a conflict of ids, not a replay.
    const changed = await herald.request('POST', '/v1/executions/unitary', { ...body, context: { other: true } });
    expect(changed.status).toBe(409);
    expect(changed.body.type).toContain('request-id-conflict');
  });

  it('answers 20 simultaneous copies of a call with one execution, one workflow run and one message', async () => {
    const body = { requestId: uniqueRequestId('race'), campaignId, recipients: [{ ...ada, context: { code: 'race' } }] };
    const answers = await Promise.all(Array.from({ length: 20 }, () => herald.request('POST', '/v1/executions/unitary', body)));

    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(202));
    const executionIds = new Set(answers.map((a) => a.body.executionId));
    expect(executionIds.size).toBe(1);
    // The call that claimed the requestId is the first; every other copy, in flight or not, is a replay.
    expect(answers.filter((a) => a.headers.get('idempotency-replay') === null)).toHaveLength(1);
    expect(answers.filter((a) => a.headers.get('idempotency-replay') === 'true')).toHaveLength(19);

    const [executionId] = [...executionIds] as [string];
    // Each replay answered only once the workflow existed: it is there the moment the calls return.
    const handle = herald.client.workflow.getHandle(executionWorkflowId(campaignId, body.requestId));
    expect((await handle.describe()).status.name).toMatch(/RUNNING|COMPLETED/);
    await herald.waitForExecution(executionId);
    await expect.poll(() => runsOf(herald, executionWorkflowId(campaignId, body.requestId)), { timeout: 15_000 }).toBe(1);
    expect(await outboxOf(executionId)).toHaveLength(1);
  });
});
