import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openDatabase } from '../../src/db/database';
import { executionWorkflowId } from '../../workflows/workflow-ids';
import { createHeraldClient, type HeraldClient } from '../../sdk/typescript/src/index';
import { sleep, startProcessStack, waitFor, type ProcessStack } from '../support/process-stack';
import { startTcpProxy, type TcpProxy } from '../faults/support/tcp-proxy';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy';

/**
 * @herald/client's trigger retried across an API restart, against real processes (the way
 * `npm start` runs Herald): the API is killed with SIGKILL and started again on the same port
 * and data while the client retries with the requestId it made up for the first attempt. Either
 * way the API dies, there is one execution, one workflow run and one message.
 */
describe('@herald/client: a trigger whose retry crosses an API restart', () => {
  let temporalProxy: TcpProxy;
  let stack: ProcessStack;
  let proxy: FaultProxy;
  let client: HeraldClient;
  let connection: Connection;
  let campaignId: string;

  beforeAll(async () => {
    // The API reaches Temporal through a proxy that can hold its bytes (the second case).
    temporalProxy = await startTcpProxy(inject('temporalAddress'));
    // The worker bundles the workflows first: give a loaded machine time for it.
    stack = await startProcessStack({ temporalAddress: inject('temporalAddress'), apiTemporalAddress: temporalProxy.address, readyTimeoutMs: 180_000 });
    proxy = await startFaultProxy(stack.baseUrl);
    client = createHeraldClient({ baseUrl: proxy.baseUrl, retry: { deadlineMs: 90_000, initialDelayMs: 100, maxDelayMs: 1_000 } });
    connection = await Connection.connect({ address: inject('temporalAddress') });

    const created = await client.POST('/v1/campaigns', {
      body: {
        name: 'SDK restart',
        type: 'transactional',
        channel: 'email',
        content: { subject: 'Hi', html: '<p>Code {{ context.code }}</p>' },
        audience: { namespace: 'email', createMissingProfiles: true },
      },
    });
    if (!created.data) throw new Error(`create failed: ${JSON.stringify(created.error)}`);
    campaignId = created.data.id;
    const activated = await client.POST('/v1/campaigns/{id}/activate', { params: { path: { id: campaignId } } });
    if (!activated.data) throw new Error(`activate failed: ${JSON.stringify(activated.error)}`);
  }, 240_000);
  afterAll(async () => {
    await connection?.close();
    await proxy?.close();
    await stack?.stop();
    await temporalProxy?.close();
  });

  const triggerCalls = () => proxy.callsTo('POST', '/v1/executions/unitary');

  /** One execution row, one workflow run for the requestId, one message; the execution completed. */
  async function expectOneExecution(requestId: string, executionId: string, userId: string) {
    const execution = await waitFor(
      `execution ${executionId} to finish`,
      async () => {
        const { data } = await client.GET('/v1/executions/{executionId}', { params: { path: { executionId } } });
        return data && data.status !== 'running' ? data : undefined;
      },
      60_000,
    );
    expect(execution).toMatchObject({ status: 'completed', recipients: [{ userId, status: 'sent' }] });

    const db = openDatabase(stack.database);
    try {
      const rows = await db.selectFrom('executions').select(['id', 'campaign_id']).where('request_id', '=', requestId).execute();
      expect(rows).toEqual([{ id: executionId, campaign_id: campaignId }]);
    } finally {
      await db.destroy();
    }

    const temporal = new Client({ connection });
    const runs = await waitFor(
      `the workflow of ${requestId} in Temporal visibility, closed`,
      async () => {
        const found = [];
        for await (const run of temporal.workflow.list({ query: `RequestId = "${requestId}"` })) found.push(run);
        return found.length > 0 && found.every((run) => run.status.name !== 'RUNNING') ? found : undefined;
      },
      30_000,
    );
    expect(runs.map((run) => run.workflowId)).toEqual([executionWorkflowId(campaignId, requestId)]);

    const outbox = await client.GET('/v1/outbox', { params: { query: { campaignId, to: userId } } });
    expect(outbox.data!.items.map((message) => message.executionId)).toEqual([executionId]);
  }

  function expectNoCrash() {
    expect(stack.api.unexpectedExits(), stack.api.output()).toEqual([]);
    expect(stack.worker.unexpectedExits(), stack.worker.output()).toEqual([]);
  }

  it('the answer is lost and the API dies right after giving it: the retry gets that execution, as a repeat', async () => {
    let lost: { status: number; body: any } | undefined;
    let restarted: Promise<void> | undefined;
    proxy.inject('POST', '/v1/executions/unitary', {
      kind: 'lose-answer',
      // biome-ignore lint/suspicious/noThenProperty: the fake proxy's own option (what to do after losing the answer), never awaited
      then: async (answer) => {
        lost = answer;
        await stack.api.kill('SIGKILL');
        // Started again while the client is retrying against the dead port.
        restarted = stack.api.start();
      },
    });
    const seen = triggerCalls().length;

    const userId = 'lost-answer@example.com';
    const accepted = await client.trigger({ campaignId, recipients: [{ userId, namespace: 'email' }], context: { code: '4711' } });
    await restarted;

    expect(lost?.status, 'the first attempt reached the API and was answered').toBe(202);
    expect(accepted.executionId, 'the execution the lost answer named').toBe(lost!.body.executionId);
    expect(accepted.replayed).toBe(true);
    const attempts = triggerCalls().slice(seen);
    expect(attempts.length, 'the lost attempt, any the dead port refused, the answered one').toBeGreaterThanOrEqual(2);
    for (const attempt of attempts) expect(attempt.body.requestId).toBe(accepted.requestId);

    await expectOneExecution(accepted.requestId, accepted.executionId, userId);
    expectNoCrash();
  }, 150_000);

  it('the API dies while the call is in flight, its requestId claimed but its workflow not started: the retry starts that execution', async () => {
    const seen = triggerCalls().length;
    const userId = 'in-flight@example.com';
    temporalProxy.pause();
    const call = client.trigger({ campaignId, recipients: [{ userId, namespace: 'email' }], context: { code: '4712' } });
    call.catch(() => {}); // awaited below; a failure before then must not be an unhandled rejection

    // The requestId the client made up, as the API received it, and the execution it claimed for it.
    const requestId = await waitFor('the first attempt at the API', () => triggerCalls()[seen]?.body.requestId as string | undefined, 20_000);
    const claimed = await waitFor(
      'the requestId claimed in the database',
      async () => {
        const db = openDatabase(stack.database);
        try {
          return (await db.selectFrom('executions').select('id').where('request_id', '=', requestId).executeTakeFirst())?.id;
        } finally {
          await db.destroy();
        }
      },
      20_000,
    );
    // Still stuck on the workflow start when it dies.
    await sleep(300);
    await stack.api.kill('SIGKILL');
    await waitFor("the dead API's connections to Temporal to close", () => temporalProxy.connections() === 0, 5_000);
    temporalProxy.resume();
    await stack.api.start();

    const accepted = await call;
    expect(accepted.requestId).toBe(requestId);
    expect(accepted.executionId, 'the execution claimed before the crash').toBe(claimed);
    const attempts = triggerCalls().slice(seen);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    for (const attempt of attempts) expect(attempt.body.requestId).toBe(requestId);

    await expectOneExecution(requestId, claimed, userId);
    expectNoCrash();
  }, 150_000);
});
