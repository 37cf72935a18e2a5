import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import proto from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { triggerExecution } from '../../workflows/trigger-execution';
import { executionWorkflowId } from '../../workflows/workflow-ids';
import { liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';

interface PayloadJson {
  metadata?: Record<string, string>;
  data?: string;
}

/** Every payload in a proto-JSON history with where it was, except search attributes (the server indexes them: plain by design). */
function payloadsOf(node: unknown, path = '', found: Array<{ path: string; payload: PayloadJson }> = []) {
  if (Array.isArray(node)) for (const [i, item] of node.entries()) payloadsOf(item, `${path}[${i}]`, found);
  else if (node && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (record.metadata && typeof record.metadata === 'object' && 'encoding' in (record.metadata as object))
      found.push({ path, payload: record as PayloadJson });
    else for (const [key, value] of Object.entries(record)) if (key !== 'searchAttributes') payloadsOf(value, `${path}.${key}`, found);
  }
  return found;
}

/**
 * What Temporal's Core SDK writes itself, without the codec: a local activity marker's bookkeeping
 * (sequence, attempt, activity id and type, times) and a patch marker's patch id. No user data.
 */
const CORE_MARKER_KEYS: Record<string, string[]> = {
  data: ['seq', 'attempt', 'activity_id', 'activity_type', 'complete_time', 'backoff', 'original_schedule_time'],
  'patch-data': ['id', 'deprecated'],
};
function isCoreMarkerBookkeeping(path: string, payload: PayloadJson): boolean {
  const field = /markerRecordedEventAttributes\.details\.([^.]+)\.payloads\[\d+\]$/.exec(path)?.[1];
  const allowed = field === undefined ? undefined : CORE_MARKER_KEYS[field];
  if (!allowed) return false;
  const value = JSON.parse(Buffer.from(payload.data ?? '', 'base64').toString('utf8')) as Record<string, unknown>;
  return Object.keys(value).every((key) => allowed.includes(key));
}

const encodingOf = (payload: PayloadJson) => Buffer.from(payload.metadata?.encoding ?? '', 'base64').toString();
const dataOf = (payload: PayloadJson) => Buffer.from(payload.data ?? '', 'base64').toString('utf8');

describe('Temporal history with payload encryption', () => {
  let herald: Herald;
  let raw: Client;
  const tag = randomBytes(6).toString('hex');
  const secrets = { userId: `ada.${tag}@example.com`, context: `code-${tag}`, firstName: `Zelda${tag}` };

  beforeAll(async () => {
    herald = await startHerald();
    // A client as anyone with access to the Temporal server has one: no codec.
    raw = new Client({ connection: await Connection.connect({ address: herald.config.temporal.address }), namespace: herald.config.temporal.namespace });
  });
  afterAll(async () => {
    await raw?.connection.close();
    await herald?.stop();
  });

  /** The whole history as the server stores it, in bytes and as proto JSON, for a search of plain text. */
  async function storedHistory(workflowId: string) {
    const history = await raw.workflow.getHandle(workflowId).fetchHistory();
    const bytes = Buffer.from(proto.temporal.api.history.v1.History.encode(history).finish()).toString('latin1');
    const json = historyToJSON(history);
    return { history, bytes, json, parsed: JSON.parse(json) as unknown };
  }

  function expectNothingReadable(stored: { bytes: string; json: string }, values: string[]) {
    for (const value of values) {
      expect(stored.bytes, `"${value}" readable in the stored history`).not.toContain(value);
      expect(stored.json).not.toContain(value);
      expect(stored.json).not.toContain(Buffer.from(value).toString('base64').slice(0, 12));
    }
  }

  it("keeps recipients, context and rendered content out of a trigger's history, which decodes through the codec endpoint", async () => {
    const campaign = await liveCampaign(herald);
    await herald.request('PUT', `/v1/profiles/email/${encodeURIComponent(secrets.userId)}`, { attributes: { firstName: secrets.firstName } });
    const requestId = uniqueRequestId('enc');
    const accepted = await herald.request('POST', '/v1/executions/unitary', {
      requestId,
      campaignId: campaign.id,
      recipients: [{ userId: secrets.userId, namespace: 'email', context: { code: secrets.context } }],
    });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    const execution = await herald.waitForExecution(accepted.body.executionId);
    expect(execution.recipients[0]).toMatchObject({ status: 'sent' });
    // The message really carried the secrets: they were in the workflow's hands.
    const outbox = await herald.request('GET', `/v1/outbox?campaignId=${campaign.id}`);
    expect(outbox.body.items[0].html).toContain(secrets.firstName);
    expect(outbox.body.items[0].html).toContain(secrets.context);

    const workflowId = executionWorkflowId(campaign.id, requestId);
    // The execution is closed in Herald's database from inside the workflow's last step, a moment
    // before the workflow records that step and its own result: wait for the workflow itself.
    await herald.client.workflow.getHandle(workflowId).result();
    const stored = await storedHistory(workflowId);
    expectNothingReadable(stored, [secrets.userId, secrets.context, secrets.firstName, `ada.${tag}`]);

    const found = payloadsOf(stored.parsed);
    const plain = found.filter(({ path, payload }) => encodingOf(payload) !== 'binary/encrypted' && !isCoreMarkerBookkeeping(path, payload));
    expect(plain.map(({ path, payload }) => `${path}: ${encodingOf(payload)}`)).toEqual([]);
    const payloads = found.filter(({ payload }) => encodingOf(payload) === 'binary/encrypted').map(({ payload }) => payload);
    // Input, summary and details, activity inputs and results, local activity results ...
    expect(payloads.length).toBeGreaterThanOrEqual(4);
    expect(found.some(({ path }) => path.endsWith('.userMetadata.summary'))).toBe(true);

    const decoded = await herald.request('POST', '/v1/codec/decode', { payloads }, { 'x-namespace': herald.config.temporal.namespace });
    expect(decoded.status, JSON.stringify(decoded.body)).toBe(200);
    expect(decoded.body.payloads).toHaveLength(payloads.length);
    const decodedPayloads = decoded.body.payloads as PayloadJson[];
    expect(decodedPayloads.filter((payload) => encodingOf(payload) === 'binary/encrypted')).toEqual([]);
    const text = decodedPayloads.map(dataOf).join('\n');
    expect(text).toContain(accepted.body.executionId);
    expect(text).toContain(campaign.id);
  });

  it('encrypts what a client puts on a workflow start: input, memo, static summary and details (search attributes stay plain)', async () => {
    const marker = `memo-${tag}@example.com`;
    const workflowId = `codec-probe/${randomUUID()}`;
    // Nobody polls this task queue: the start is all there is to see.
    const handle = await herald.client.workflow.start('codecProbe', {
      taskQueue: `codec-probe-${randomUUID()}`,
      workflowId,
      args: [{ email: marker }],
      memo: { who: marker },
      staticSummary: `summary for ${marker}`,
      staticDetails: `details for ${marker}`,
      typedSearchAttributes: [],
    });
    try {
      const stored = await storedHistory(workflowId);
      expectNothingReadable(stored, [marker]);
      // What the server answers anyone who describes the workflow (the SDK's describe() would try to decode the memo).
      const rawDescription = await raw.workflowService.describeWorkflowExecution({ namespace: herald.config.temporal.namespace, execution: { workflowId } });
      const rawBytes = Buffer.from(proto.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse.encode(rawDescription).finish()).toString('latin1');
      expect(rawBytes).not.toContain(marker);
      expect(Buffer.from(rawDescription.workflowExecutionInfo!.memo!.fields!.who!.metadata!.encoding!).toString()).toBe('binary/encrypted');
      expect(Buffer.from(rawDescription.executionConfig!.userMetadata!.summary!.metadata!.encoding!).toString()).toBe('binary/encrypted');
      // Herald's own client reads them back.
      const description = await handle.describe();
      expect(description.memo).toEqual({ who: marker });
      expect(await description.staticSummary()).toBe(`summary for ${marker}`);
      expect(await description.staticDetails()).toBe(`details for ${marker}`);
    } finally {
      await handle.terminate('codec probe done');
    }
  });

  it('keeps a refused address out of history, and encrypts the failure messages and stack traces that reach it', async () => {
    const campaign = await liveCampaign(herald);
    const undeliverable = `undeliverable.${tag}@localhost`;
    await herald.request('PUT', `/v1/profiles/email/bad-${tag}`, { attributes: { email: undeliverable } });
    const requestId = uniqueRequestId('enc-fail');
    const accepted = await herald.request('POST', '/v1/executions/unitary', {
      requestId,
      campaignId: campaign.id,
      recipients: [{ userId: `bad-${tag}`, namespace: 'email' }],
    });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    const execution = await herald.waitForExecution(accepted.body.executionId);
    // The send activity refused the address (its failure message may name it) ...
    expect(execution.recipients[0]).toMatchObject({ status: 'failed', reason: expect.stringContaining('provider-rejected') });

    await herald.client.workflow.getHandle(executionWorkflowId(campaign.id, requestId)).result();
    const stored = await storedHistory(executionWorkflowId(campaign.id, requestId));
    // ... and nothing of it is readable in the history: the quick send in the workflow task
    // records a refusal as an outcome, with its words in Herald's database.
    expectNothingReadable(stored, [undeliverable, `undeliverable.${tag}`]);

    // A failure that does reach history (a trigger workflow that finds its campaign stopped)
    // carries its message and stack only in an encrypted payload.
    expect((await herald.request('POST', `/v1/campaigns/${campaign.id}/stop`)).status).toBe(200);
    const refusedId = executionWorkflowId(campaign.id, `${requestId}-refused`);
    const refusedRun = await herald.client.workflow.start(triggerExecution, {
      taskQueue: herald.config.temporal.taskQueue,
      workflowId: refusedId,
      args: [{ executionId: `exec-${requestId}-refused`, requestId: `${requestId}-refused`, campaignId: campaign.id }],
    });
    await expect(refusedRun.result()).rejects.toThrow();
    const refused = await storedHistory(refusedId);
    const failures: Array<{ message?: string; stackTrace?: string; encodedAttributes?: PayloadJson }> = [];
    const collect = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(collect);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if ((key === 'failure' || key === 'lastFailure' || key === 'cause') && value && typeof value === 'object') failures.push(value as never);
          collect(value);
        }
      }
    };
    collect(refused.parsed);
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      expect(failure.message).toBe('Encoded failure');
      expect(failure.stackTrace ?? '').toBe('');
      expect(encodingOf(failure.encodedAttributes!)).toBe('binary/encrypted');
    }
  });
});
