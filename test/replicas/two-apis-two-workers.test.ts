import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openDatabase } from '../../src/db/database';
import { migrationProvider } from '../../src/db/migrations/index';
import type { OrphanSweepTotals } from '../../workflows/sweep-orphaned-executions';
import { housekeepingScheduleIds } from '../../workflows/workflow-ids';
import { startProviderProxy, type ProviderProxy } from '../faults/support/provider-proxy';
import { startTcpProxy, type TcpProxy } from '../faults/support/tcp-proxy';
import { claimedExecutions, createLiveCampaign, expectEveryMessageDeliveredOnce, keyFor, planTriggers, type PlannedTrigger } from '../faults/support/triggers';
import { startFakeResend, type FakeResend } from '../support/fake-resend';
import { requestJson } from '../support/http-json';
import { createTestDatabase, startPostgresServer, type PostgresServer } from '../support/postgres-server';
import { sleep, waitFor } from '../support/process-stack';
import { replicaAttemptSummary, startReplicaStack, triggerViaReplicas, type ReplicaAcceptedTrigger, type ReplicaStack } from '../support/replica-stack';

/**
 * The multi-process layout of docs/operations.md ("Running several APIs and workers"): two API processes
 * and two worker processes, real children (`node --import tsx src/entry/…`), against one
 * PostgreSQL database and one Temporal dev server, with the same task queue and payload keys. It
 * runs in both suites: on the SQLite suite it starts a PostgreSQL server of its own.
 *
 * The tests build on each other, in order: the four processes start at once on an empty database;
 * the same requestId reaches both APIs at the same moment; a claim answered but never started is
 * started by the sweep; then a load
 * spread over both APIs loses one API and one worker to SIGKILL. Every message of every test is
 * checked against the fake provider at the end of each test: exactly one delivery per
 * (execution, recipient), and nothing else.
 */
const SWEEP_INTERVAL_SECONDS = 2;
const GRACE_SECONDS = 10;

describe('two APIs and two workers on one PostgreSQL and one Temporal', () => {
  let ownServer: PostgresServer | undefined;
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let fake: FakeResend;
  let providerProxy: ProviderProxy;
  /** The first API talks to Temporal through this proxy, so that it can be killed between a claim and its workflow start. */
  let apiTemporalProxy: TcpProxy;
  let stack: ReplicaStack;
  let campaignId: string;
  /** Every execution that must have delivered each of its recipients exactly once, across tests. */
  const delivered: { executionId: string; trigger: PlannedTrigger }[] = [];
  const executions = new Map<string, any>();

  const urls = () => stack.apis.map((api) => api.baseUrl);
  const expectAllDeliveredOnce = () => expectEveryMessageDeliveredOnce(fake, delivered, executions);
  const messageCount = () => delivered.reduce((n, d) => n + d.trigger.recipients.length, 0);
  const expectNoCrash = () => {
    for (const p of [...stack.apis.map((a) => a.process), ...stack.workers]) expect(p.unexpectedExits(), `${p.name}:\n${p.output()}`).toEqual([]);
  };

  beforeAll(async () => {
    let adminUrl = inject('postgresAdminUrl');
    if (!adminUrl) {
      ownServer = await startPostgresServer();
      adminUrl = ownServer.adminUrl;
    }
    database = await createTestDatabase(adminUrl);
    fake = await startFakeResend();
    providerProxy = await startProviderProxy(fake.url);
    apiTemporalProxy = await startTcpProxy(inject('temporalAddress'));
    stack = await startReplicaStack({
      temporalAddress: inject('temporalAddress'),
      databaseUrl: database.url,
      apis: 2,
      workers: 2,
      start: false,
      apiEnv: (i) => (i === 0 ? { TEMPORAL_ADDRESS: apiTemporalProxy.address } : undefined),
      env: {
        RESEND_API_KEY: fake.apiKey,
        RESEND_BASE_URL: providerProxy.url,
        HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS: String(SWEEP_INTERVAL_SECONDS),
        HERALD_ORPHAN_GRACE_SECONDS: String(GRACE_SECONDS),
        // Two cores for four processes and the rest of the suite.
        HERALD_RENDER_PROCESSES: '1',
      },
    });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await providerProxy?.close();
    await apiTemporalProxy?.close();
    await fake?.close();
    await database?.drop();
    await ownServer?.teardown();
  }, 120_000);

  it('all four processes start at the same moment on an empty database, and none fails', async () => {
    const startedAt = Date.now();
    // No `npm run migrate` first: all four migrate at startup and queue on the advisory lock.
    await stack.start();
    console.info(`[replicas] 2 APIs and 2 workers ready ${Date.now() - startedAt} ms after starting together`);
    expectNoCrash();

    const db = openDatabase(stack.database);
    try {
      const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
      expect(applied.rows.map((r) => r.name)).toEqual(Object.keys(await migrationProvider.getMigrations()).sort());
    } finally {
      await db.destroy();
    }

    // One of each housekeeping schedule for the deployment (sweep, retention, report fold), whichever worker made them.
    const client = await stack.temporalClient();
    try {
      for (const scheduleId of housekeepingScheduleIds(stack.taskQueue)) {
        const description = await client.schedule.getHandle(scheduleId).describe();
        expect(description.action).toMatchObject({ type: 'startWorkflow', taskQueue: stack.taskQueue });
      }
    } finally {
      await client.connection.close();
    }

    // A campaign created through one API is live for the other.
    campaignId = await createLiveCampaign(stack.apis[0]!.request);
    const seen = await stack.apis[1]!.request('GET', `/v1/campaigns/${campaignId}`);
    expect(seen.status).toBe(200);
    expect(seen.body.status).toBe('live');
  }, 240_000);

  it('the same requestId sent to both APIs at the same moment gives one execution and one email per recipient', async () => {
    const rollbacks = async () => {
      const db = openDatabase(stack.database);
      try {
        await sql`select pg_stat_clear_snapshot()`.execute(db);
        const { rows } = await sql<{ n: string }>`select xact_rollback as n from pg_stat_database where datname = current_database()`.execute(db);
        return Number(rows[0]!.n);
      } finally {
        await db.destroy();
      }
    };
    const rollbacksBefore = await rollbacks();
    const planned = planTriggers(campaignId, 'twin', 10, 3);
    const accepted: { executionId: string; trigger: PlannedTrigger }[] = [];
    for (const trigger of planned) {
      const answers = await Promise.all(stack.apis.map((api) => requestJson(api.baseUrl, 'POST', '/v1/executions/unitary', trigger, {}, 30_000)));
      expect(
        answers.map((a) => a.status),
        JSON.stringify(answers.map((a) => a.body)),
      ).toEqual([202, 202]);
      expect(answers[0]!.body.executionId).toBe(answers[1]!.body.executionId);
      accepted.push({ executionId: answers[0]!.body.executionId, trigger });
    }

    // The same requestId with two different bodies, one to each API at once: one wins, the other is a conflict.
    const conflicting = planTriggers(campaignId, 'clash', 4, 2);
    for (const trigger of conflicting) {
      const other: PlannedTrigger = { ...trigger, context: { code: `${trigger.context.code}-other` } };
      const answers = await Promise.all(
        [trigger, other].map((body, i) => requestJson(stack.apis[i]!.baseUrl, 'POST', '/v1/executions/unitary', body, {}, 30_000)),
      );
      expect(answers.map((a) => a.status).sort(), JSON.stringify(answers.map((a) => a.body))).toEqual([202, 409]);
      const winner = answers.findIndex((a) => a.status === 202);
      expect(answers[1 - winner]!.body.type).toMatch(/request-id-conflict/);
      accepted.push({ executionId: answers[winner]!.body.executionId, trigger: winner === 0 ? trigger : other });
    }

    // A claim that loses the insert race to the other API is a rolled-back transaction (statistics are approximate).
    await sleep(1_000);
    console.info(`[replicas] ${(await rollbacks()) - rollbacksBefore} transactions rolled back while both APIs claimed the same requestIds`);
    for (const { executionId } of accepted) executions.set(executionId, await stack.waitForExecution(executionId, 90_000));
    delivered.push(...accepted);
    expectAllDeliveredOnce();
    // The winning body is the one rendered.
    for (const { executionId, trigger } of accepted.slice(planned.length)) {
      for (const { userId } of trigger.recipients) expect(fake.deliveriesFor(keyFor(executionId, userId))[0]!.html).toContain(trigger.context.code);
    }

    // Exactly one row per requestId in the shared database, the one both APIs answered.
    const claimed = await claimedExecutions(stack.database);
    for (const { executionId, trigger } of accepted) expect(claimed.get(trigger.requestId), trigger.requestId).toBe(executionId);
    expect(claimed.size).toBe(accepted.length);

    // Both APIs again, at once, after completion: same executions, nothing sent again.
    for (const { executionId, trigger } of accepted) {
      const answers = await Promise.all(stack.apis.map((api) => requestJson(api.baseUrl, 'POST', '/v1/executions/unitary', trigger, {}, 30_000)));
      expect(answers.map((a) => [a.status, a.body.executionId])).toEqual([
        [202, executionId],
        [202, executionId],
      ]);
    }
    await sleep(1_000);
    expect(fake.deliveries).toHaveLength(messageCount());
    expectNoCrash();
  }, 240_000);

  it('the orphan sweep starts, once, a trigger an API answered from its claim but never started, and a repeat at the other API is that execution', async () => {
    // A third API whose Temporal goes away: its claim is written and answered (ADR 0011), its workflow never starts.
    const temporalProxy: TcpProxy = await startTcpProxy(inject('temporalAddress'));
    const stranded = await stack.addApi('api-stranded', { TEMPORAL_ADDRESS: temporalProxy.address, HERALD_START_WAIT_MS: '50' });
    let orphanId: string;
    const [orphanCall] = planTriggers(campaignId, 'orphan', 1, 2, 1) as [PlannedTrigger];
    try {
      await stranded.process.start();
      await temporalProxy.close();
      const answered = await stranded.request('POST', '/v1/executions/unitary', orphanCall);
      expect(answered.status, JSON.stringify(answered.body)).toBe(202);
      orphanId = (await claimedExecutions(stack.database)).get(orphanCall.requestId)!;
      expect(answered.body.executionId).toBe(orphanId);
    } finally {
      // It stops with its start still failing: only the sweep can start it now.
      await stranded.process.stop();
      await temporalProxy.close().catch(() => {});
    }
    expect(stranded.process.unexpectedExits(), stranded.process.output()).toEqual([]);
    expect((await stack.apis[0]!.request('GET', `/v1/executions/${orphanId}`)).body.status).toBe('running');

    const completed = await waitFor(
      `the sweep to start ${orphanId} and its workflow to complete it`,
      async () => {
        const { body } = await stack.apis[1]!.request('GET', `/v1/executions/${orphanId}`);
        return body.status !== 'running' && body;
      },
      (GRACE_SECONDS + 90) * 1000,
      500,
    );
    expect(completed).toMatchObject({
      status: 'completed',
      recipients: orphanCall.recipients.map(({ userId }) => ({ userId, status: 'sent' })),
    });
    expect(Date.parse(completed.completedAt) - Date.parse(completed.createdAt), 'started by the sweep, past the grace period').toBeGreaterThanOrEqual(
      GRACE_SECONDS * 1000,
    );
    executions.set(orphanId, completed);
    delivered.push({ executionId: orphanId, trigger: orphanCall });
    expectAllDeliveredOnce();

    // The client repeats the call at the other API: the same execution, nothing sent again.
    const retried = await triggerViaReplicas(urls(), orphanCall, { first: 1 });
    expect(retried.executionId).toBe(orphanId);

    // No sweep run, whichever worker ran it, failed an execution: the one it found, it started.
    const client = await stack.temporalClient();
    try {
      const runs: Promise<OrphanSweepTotals>[] = [];
      for await (const run of client.workflow.list({
        query: `WorkflowType = 'sweepOrphanedExecutions' AND TaskQueue = '${stack.taskQueue}' AND ExecutionStatus = 'Completed'`,
      })) {
        runs.push(client.workflow.getHandle(run.workflowId, run.runId).result());
      }
      const totals = await Promise.all(runs);
      console.info(`[replicas] ${totals.length} sweep runs, ${totals.reduce((sum, t) => sum + t.checked, 0)} executions checked`);
      expect(totals.reduce((sum, t) => sum + t.marked, 0)).toBe(0);
    } finally {
      await client.connection.close();
    }

    // A second repeat, at the first API, changes nothing.
    expect((await triggerViaReplicas(urls(), orphanCall, { first: 0 })).executionId).toBe(orphanId);
    await sleep(SWEEP_INTERVAL_SECONDS * 1000 * 2);
    expect((await stack.apis[1]!.request('GET', `/v1/executions/${orphanId}`)).body).toEqual(completed);
    expectAllDeliveredOnce();
    expectNoCrash();
  }, 300_000);

  it('under load spread over both APIs, one API and one worker die (SIGKILL) and every message is still delivered exactly once', async () => {
    const before = planTriggers(campaignId, 'load-before', 20, 3);
    const atKill = planTriggers(campaignId, 'load-at-kill', 8, 3, 20);
    const after = planTriggers(campaignId, 'load-after', 20, 3, 28);
    const [deadApi, deadWorker] = [stack.apis[0]!, stack.workers[0]!];
    const calls: Promise<ReplicaAcceptedTrigger<PlannedTrigger>>[] = [];
    const send = (triggers: PlannedTrigger[], spacingMs: number, offset: number) =>
      triggers.map((trigger, i) => sleep(i * spacingMs).then(() => triggerViaReplicas(urls(), trigger, { first: (offset + i) % 2, deadlineMs: 120_000 })));

    // Sends reach the provider and are accepted, but their answers are held: activities in flight on both workers.
    providerProxy.holdAnswers(true);
    const deliveriesBefore = fake.deliveries.length;
    calls.push(...send(before, 100, 0));
    await Promise.all(calls);
    await waitFor(
      () => `sends in flight (${providerProxy.heldCount()} held)`,
      () => providerProxy.heldCount() >= 10,
      60_000,
    );
    // A burst, half of it at the API about to die, which is caught between its claims and their
    // workflow starts: its Temporal connection holds every byte. The kill comes once all of its
    // calls are claimed in the database and none has been answered.
    apiTemporalProxy.pause();
    calls.push(...send(atKill, 0, 0));
    const caughtInGap = atKill.filter((_, i) => i % 2 === 0);
    // One connection polls, so the kill follows the last claim within a few tens of milliseconds,
    // far inside the API's 5 s wait for Temporal.
    const poller = openDatabase(stack.database);
    let claimedBeforeKill: Map<string, string>;
    try {
      claimedBeforeKill = await waitFor(
        'the calls at the API about to die to be claimed',
        async () => {
          const rows = await poller
            .selectFrom('executions')
            .select(['request_id', 'id'])
            .where(
              'request_id',
              'in',
              caughtInGap.map((t) => t.requestId),
            )
            .execute();
          return rows.length === caughtInGap.length && new Map(rows.map((row) => [row.request_id, row.id]));
        },
        20_000,
        25,
      );
    } finally {
      await poller.destroy();
    }
    await Promise.all([deadApi.process.kill('SIGKILL'), deadWorker.kill('SIGKILL')]);
    const acceptedBeforeKill = fake.deliveries.length - deliveriesBefore;
    // Only then let bytes through again, so none of the dead API's held starts reaches Temporal.
    await waitFor("the dead API's connections to Temporal to close", () => apiTemporalProxy.connections() === 0, 5_000);
    apiTemporalProxy.resume();
    // The answers to the dead worker go nowhere. Its sends ran as local activities inside workflow
    // tasks; those tasks time out and the other worker runs them again, with the same idempotency keys.
    providerProxy.releaseHeld();
    // Half of these go to the dead API first, get a connection error, and are retried at the other one.
    calls.push(...send(after, 100, 0));
    const accepted = await Promise.all(calls);

    for (const { executionId } of accepted) executions.set(executionId, await stack.waitForExecution(executionId, 150_000));
    const goneClients = providerProxy.attempts.filter((a) => a.clientGone).length;
    console.info(
      `[replicas] ${acceptedBeforeKill} messages accepted by the provider before the SIGKILL, ${goneClients} provider calls whose caller died; ${fake.requests.length} provider requests for ${fake.deliveries.length} deliveries`,
    );
    console.info(`[replicas] attempts (api:status) of the calls at and after the kill: ${replicaAttemptSummary(accepted.slice(before.length))}`);

    delivered.push(...accepted.map(({ executionId, trigger }) => ({ executionId, trigger })));
    expectAllDeliveredOnce();
    expect(accepted.reduce((n, a) => n + a.trigger.recipients.length, 0)).toBe(96);

    // The kill really was mid-load: sends were in flight, and calls met the dead API and moved on.
    expect(acceptedBeforeKill).toBeGreaterThanOrEqual(10);
    expect(goneClients, 'some send was in flight on the killed worker').toBeGreaterThanOrEqual(1);
    const failedOver = accepted.filter((a) => a.attempts.some((attempt) => attempt.api === 0 && attempt.status === 0));
    expect(failedOver.length, 'calls that met the dead API').toBeGreaterThanOrEqual(after.length / 2);
    for (const call of failedOver) expect(call.attempts.at(-1), call.trigger.requestId).toMatchObject({ api: 1, status: 202 });
    // A call the dead API had claimed, but whose workflow it never started, is taken over by the
    // other API on the client's retry: same executionId, started and delivered once.
    for (const trigger of caughtInGap) {
      const call = accepted.find((a) => a.trigger.requestId === trigger.requestId)!;
      expect(call.executionId, trigger.requestId).toBe(claimedBeforeKill.get(trigger.requestId));
      expect(
        call.attempts.map((a) => [a.api, a.status]),
        trigger.requestId,
      ).toEqual([
        [0, 0],
        [1, 202],
      ]);
    }

    // The database agrees: one execution per requestId, every delivery row sent with the provider's id.
    const claimed = await claimedExecutions(stack.database);
    expect(claimed.size).toBe(delivered.length);
    for (const { executionId, trigger } of delivered) expect(claimed.get(trigger.requestId), trigger.requestId).toBe(executionId);
    const db = openDatabase(stack.database);
    try {
      const rows = await db.selectFrom('deliveries').select(['execution_id', 'user_id', 'status', 'message_id']).execute();
      expect(rows).toHaveLength(messageCount());
      const providerIds = new Map(fake.deliveries.map((d) => [d.idempotencyKey!, d.id]));
      for (const row of rows) {
        expect(row.status, `${row.execution_id} ${row.user_id}`).toBe('sent');
        expect(row.message_id, `${row.execution_id} ${row.user_id}`).toBe(providerIds.get(keyFor(row.execution_id, row.user_id)));
      }
    } finally {
      await db.destroy();
    }

    // The same calls once more, at the API still up: same executions, nothing sent again.
    const repeats = await Promise.all(accepted.map(({ trigger }) => triggerViaReplicas([stack.apis[1]!.baseUrl], trigger)));
    expect(repeats.map((r) => r.executionId)).toEqual(accepted.map((a) => a.executionId));
    await sleep(1_000);
    expect(fake.deliveries).toHaveLength(messageCount());

    expect(deadApi.process.running || deadWorker.running).toBe(false);
    expect(stack.apis[1]!.process.running && stack.workers[1]!.running).toBe(true);
    expectNoCrash();
  }, 420_000);
});
