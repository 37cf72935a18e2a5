/**
 * Records real histories of `campaignStepsExecution` (workflows/campaign-steps-execution.ts), one
 * or two per step type, for the replay test (`test/replay/replay.test.ts`).
 *
 *   npm run record-histories:steps                                          # every scenario
 *   npm run record-histories:steps -- campaign-steps-delay-then-send        # only the named ones
 *
 * Starts Temporal's time-skipping test server (the Java server of temporal/test-server-binary.ts)
 * and a full Herald on it: the real worker with Herald's activities, the HTTP API, a fresh SQLite
 * file and the outbox providers. Each scenario is driven over HTTP as a client would; a delay, a
 * digest's window or an event's timeout passes in workflow time while the script waits for the
 * run's result, so the whole recording takes seconds. Scenarios run one after the other: skipping
 * time for one must not close another's digest window or event wait. Each run's history goes to
 * `test/histories/<scenario>.json`.
 *
 * Every person in these scenarios is made of markers the replay test looks for in the decoded
 * histories (userIds `steps-person-…`, addresses `…@example.com` and `+1415555…`, context values
 * `ctx-value-…`, content `rendered-body`): a history that holds one of them breaks ADR 0001.
 *
 * Re-record only after an intentional, versioned change (`patched()`) to the workflow, never to
 * make a failing replay pass. test/histories/record.ts records the other workflows.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../../src/config/env';
import { openMigratedDatabase } from '../../src/db/database';
import { serveApi } from '../../src/entry/serve-api';
import { heraldDataConverter } from '../../src/temporal-client/data-converter';
import { bundleWorkflows, createWorker } from '../../src/worker/create-worker';
import { registerSearchAttributes } from '../../temporal/search-attributes';
import { resolveTestServerExecutable } from '../../temporal/test-server-binary';
import { executionWorkflowId } from '../../workflows/workflow-ids';
import { type ApiResponse, requestJson } from '../support/http-json';
import { TEST_START_WAIT_MS } from '../support/test-start-wait';

const historiesDir = fileURLToPath(new URL('.', import.meta.url));
const TASK_QUEUE = 'herald-record-steps-histories';
const NAMESPACE = 'crm';
/** The phone number of every recipient of an SMS step (the marker the replay test looks for is its prefix). */
const PHONE = '+14155550100';

type Request = (method: string, path: string, body?: unknown) => Promise<ApiResponse>;

interface Ctx {
  request: Request;
  env: TestWorkflowEnvironment;
  /** Collects `workflowId` under the scenario name, to be written once every scenario ran. */
  record(scenario: string, workflowId: string): void;
}

function log(line: string): void {
  console.log(`[record-steps-histories] ${line}`);
}

function expectStatus(res: ApiResponse, status: number, what: string): any {
  if (res.status !== status) throw new Error(`${what}: expected HTTP ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

function check(condition: boolean, message: string, detail?: unknown): void {
  if (!condition) throw new Error(`${message}${detail === undefined ? '' : `: ${JSON.stringify(detail, null, 2)}`}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A live campaign with steps; transactional email to `crm` unless `body` says otherwise. */
async function liveCampaign(ctx: Ctx, body: Record<string, unknown>): Promise<string> {
  const created = expectStatus(
    await ctx.request('POST', '/v1/campaigns', {
      type: 'transactional',
      channel: 'email',
      content: { subject: 'Hello {{ context.name }}', html: '<p>rendered-body</p>' },
      audience: { namespace: NAMESPACE, createMissingProfiles: true },
      ...body,
    }),
    201,
    `create campaign ${body.name}`,
  );
  expectStatus(await ctx.request('POST', `/v1/campaigns/${created.id}/activate`), 200, `activate ${body.name}`);
  return created.id;
}

const recipient = (userId: string) => ({ userId, namespace: NAMESPACE, channelData: { emailAddress: `${userId}@example.com`, mobilePhoneNumber: PHONE } });

/** Triggers over HTTP (the requestId names the scenario, never the person); answers the execution id and its workflow id. */
async function trigger(
  ctx: Ctx,
  campaignId: string,
  requestId: string,
  userId: string,
  context: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<{ executionId: string; workflowId: string }> {
  const accepted = expectStatus(
    await ctx.request('POST', '/v1/executions/unitary', { requestId, campaignId, recipients: [recipient(userId)], context, ...extra }),
    202,
    `trigger ${requestId}`,
  );
  return { executionId: accepted.executionId, workflowId: executionWorkflowId(campaignId, requestId) };
}

async function execution(ctx: Ctx, executionId: string): Promise<any> {
  return expectStatus(await ctx.request('GET', `/v1/executions/${executionId}`), 200, `get execution ${executionId}`);
}

/** Polls on the wall clock (workflow time stands still meanwhile) until the execution shows what `ready` wants. */
async function until(ctx: Ctx, executionId: string, what: string, ready: (execution: any) => boolean): Promise<any> {
  for (let i = 0; i < 300; i++) {
    const body = await execution(ctx, executionId);
    if (ready(body)) return body;
    await sleep(50);
  }
  throw new Error(`execution ${executionId} never showed ${what}: ${JSON.stringify(await execution(ctx, executionId))}`);
}

const waitingIn = (stepId: string) => (body: any) => body.recipients?.[0]?.steps?.some((s: any) => s.id === stepId && s.status === 'waiting');

/** Waits for the run's end, skipping workflow time meanwhile, and answers the execution as the API reports it. */
async function finish(ctx: Ctx, run: { executionId: string; workflowId: string }): Promise<any> {
  await ctx.env.client.workflow.getHandle(run.workflowId).result();
  return execution(ctx, run.executionId);
}

async function outbox(ctx: Ctx, campaignId: string): Promise<any[]> {
  return expectStatus(await ctx.request('GET', `/v1/outbox?campaignId=${campaignId}`), 200, 'outbox').items;
}

/** A PT1H delay, then the send: one timer, then the durable send. */
async function delayThenSend(ctx: Ctx): Promise<void> {
  const campaignId = await liveCampaign(ctx, {
    name: 'Delay then send (replay fixture)',
    steps: [
      { id: 'wait', type: 'delay', duration: 'PT1H' },
      { id: 'hello', type: 'send' },
    ],
  });
  const run = await trigger(ctx, campaignId, 'replay-campaign-steps-delay-then-send', 'steps-person-delay', { name: 'ctx-value-delay' });
  const done = await finish(ctx, run);
  check(done.status === 'completed' && done.counts.sent === 1, 'delay-then-send: one message sent after the delay', done);
  check((await outbox(ctx, campaignId)).length === 1, 'delay-then-send: one message in the outbox');
  ctx.record('campaign-steps-delay-then-send', run.workflowId);
}

/**
 * A PT10M digest: the first trigger opens it and waits out the window, two more for the same
 * person and thread join it (their runs end at once, `digested`), and one email counts all three.
 */
async function digest(ctx: Ctx): Promise<void> {
  const campaignId = await liveCampaign(ctx, {
    name: 'Digest (replay fixture)',
    content: { subject: '{{ digest.count }} new comments', html: '<p>rendered-body {% for e in digest.events %}{{ e.text }} {% endfor %}</p>' },
    steps: [
      { id: 'gather', type: 'digest', window: 'PT10M', key: '{{ context.threadId }}' },
      { id: 'email', type: 'send' },
    ],
  });
  const context = (n: number) => ({ threadId: 'ctx-value-thread', text: `ctx-value-comment-${n}` });
  const opened = await trigger(ctx, campaignId, 'replay-campaign-steps-digest-opened', 'steps-person-digest', context(1));
  // The first run opens the digest before the others arrive, so which one opens it is certain.
  await until(ctx, opened.executionId, 'the digest opened', (body) => body.digestExecutionId === opened.executionId);
  const joined = await trigger(ctx, campaignId, 'replay-campaign-steps-digest-joined', 'steps-person-digest', context(2));
  const third = await trigger(ctx, campaignId, 'replay-campaign-steps-digest-joined-too', 'steps-person-digest', context(3));
  for (const folded of [joined, third]) {
    const body = await finish(ctx, folded);
    check(body.status === 'digested' && body.digestExecutionId === opened.executionId, 'digest: the later triggers fold into the first', body);
  }
  const done = await finish(ctx, opened);
  check(done.status === 'completed' && done.digest?.count === 3 && done.counts.sent === 1, 'digest: one message for three triggers', done);
  const sent = await outbox(ctx, campaignId);
  check(sent.length === 1 && sent[0].subject === '3 new comments', 'digest: one email counting three', sent);
  ctx.record('campaign-steps-digest-opened', opened.workflowId);
  ctx.record('campaign-steps-digest-joined', joined.workflowId);
}

/** waitForEvent: ended by its event (ifEvent stop: nothing sent), and by its timeout (ifTimeout continue: sent). */
async function waitForEvent(ctx: Ctx): Promise<void> {
  const campaignId = await liveCampaign(ctx, {
    name: 'Abandoned cart (replay fixture)',
    steps: [
      { id: 'paid', type: 'waitForEvent', event: 'order.paid', timeout: 'PT1H', match: 'orderId', ifEvent: 'stop', ifTimeout: 'continue' },
      { id: 'remind', type: 'send' },
    ],
  });
  const paid = await trigger(ctx, campaignId, 'replay-campaign-steps-event-stops', 'steps-person-paid', {
    orderId: 'ctx-value-order-1',
    name: 'ctx-value-paid',
  });
  await until(ctx, paid.executionId, 'the event wait', waitingIn('paid'));
  const event = { name: 'order.paid', namespace: NAMESPACE, userId: 'steps-person-paid', data: { orderId: 'ctx-value-order-1' } };
  const matched = expectStatus(await ctx.request('POST', '/v1/events', event), 202, 'event');
  check(matched.matched === 1, 'event-stops: the event reaches the waiting run', matched);
  const stopped = await finish(ctx, paid);
  check(stopped.recipients[0].status === 'excluded' && stopped.recipients[0].reason === 'stopped-by-event', 'event-stops: nothing sent', stopped);

  const unpaid = await trigger(ctx, campaignId, 'replay-campaign-steps-event-timeout-continues', 'steps-person-unpaid', {
    orderId: 'ctx-value-order-2',
    name: 'ctx-value-unpaid',
  });
  const reminded = await finish(ctx, unpaid);
  check(reminded.status === 'completed' && reminded.counts.sent === 1, 'event-timeout-continues: the reminder is sent after the timeout', reminded);
  check((await outbox(ctx, campaignId)).length === 1, 'wait-for-event: one reminder in the outbox, none for the paid order');
  ctx.record('campaign-steps-event-stops', paid.workflowId);
  ctx.record('campaign-steps-event-timeout-continues', unpaid.workflowId);
}

/** A condition on the trigger's context: it holds for one run (sent) and stops the other (nothing sent). */
async function condition(ctx: Ctx): Promise<void> {
  const campaignId = await liveCampaign(ctx, {
    name: 'Big carts only (replay fixture)',
    steps: [
      { id: 'big-cart', type: 'condition', where: [{ context: 'cart.total', op: 'gte', value: 50 }] },
      { id: 'offer', type: 'send' },
    ],
  });
  const holds = await trigger(ctx, campaignId, 'replay-campaign-steps-condition-holds', 'steps-person-big', {
    cart: { total: 80, label: 'ctx-value-big-cart' },
    name: 'ctx-value-big',
  });
  const sent = await finish(ctx, holds);
  check(sent.status === 'completed' && sent.counts.sent === 1, 'condition-holds: sent', sent);
  const stops = await trigger(ctx, campaignId, 'replay-campaign-steps-condition-stops', 'steps-person-small', {
    cart: { total: 20, label: 'ctx-value-small-cart' },
    name: 'ctx-value-small',
  });
  const stopped = await finish(ctx, stops);
  check(stopped.recipients[0].status === 'excluded' && stopped.recipients[0].reason === 'stopped-by-condition', 'condition-stops: nothing sent', stopped);
  ctx.record('campaign-steps-condition-holds', holds.workflowId);
  ctx.record('campaign-steps-condition-stops', stops.workflowId);
}

/** Two send steps on two channels: an email, then an SMS with content of its own. */
async function emailThenSms(ctx: Ctx): Promise<void> {
  const campaignId = await liveCampaign(ctx, {
    name: 'Email then SMS (replay fixture)',
    steps: [
      { id: 'email', type: 'send' },
      { id: 'sms', type: 'send', channel: 'sms', content: { body: 'rendered-body {{ context.name }}' } },
    ],
  });
  const run = await trigger(ctx, campaignId, 'replay-campaign-steps-email-then-sms', 'steps-person-escalated', { name: 'ctx-value-escalated' });
  const done = await finish(ctx, run);
  check(done.status === 'completed' && done.counts.sent === 2, 'email-then-sms: both messages sent', done);
  const channels = (await outbox(ctx, campaignId)).map((m) => (m.to === PHONE ? 'sms' : 'email')).sort();
  check(JSON.stringify(channels) === '["email","sms"]', 'email-then-sms: one email, one SMS', channels);
  ctx.record('campaign-steps-email-then-sms', run.workflowId);
}

/** A run cancelled by its cancellationKey while it waits in a P3D delay: nothing is sent. */
async function cancelledInDelay(ctx: Ctx): Promise<void> {
  const campaignId = await liveCampaign(ctx, {
    name: 'Come back (replay fixture)',
    steps: [
      { id: 'wait', type: 'delay', duration: 'P3D' },
      { id: 'nudge', type: 'send' },
    ],
  });
  const run = await trigger(
    ctx,
    campaignId,
    'replay-campaign-steps-cancelled-in-delay',
    'steps-person-cancelled',
    { name: 'ctx-value-cancelled' },
    {
      cancellationKey: 'ctx-value-session',
    },
  );
  await until(ctx, run.executionId, 'the delay', waitingIn('wait'));
  const cancel = expectStatus(await ctx.request('POST', '/v1/executions/cancel', { campaignId, cancellationKey: 'ctx-value-session' }), 200, 'cancel');
  check(cancel.cancelled === 1, 'cancelled-in-delay: the waiting run is cancelled', cancel);
  const done = await finish(ctx, run);
  check(done.recipients[0].status === 'excluded' && done.recipients[0].reason === 'cancelled', 'cancelled-in-delay: nothing sent', done);
  check((await outbox(ctx, campaignId)).length === 0, 'cancelled-in-delay: the outbox stays empty');
  ctx.record('campaign-steps-cancelled-in-delay', run.workflowId);
}

/**
 * Quiet hours inside a send step: a marketing campaign whose UTC quiet hours hold the workflow's
 * now (the test server's clock, days ahead of the wall clock by then). The send step's message is
 * deferred; the run waits on a timer until the hours end, then sends it durably.
 */
async function quietHoursDeferred(ctx: Ctx): Promise<void> {
  const userId = 'steps-person-quiet';
  const profile = await ctx.request('PUT', `/v1/profiles/${NAMESPACE}/${userId}`, {
    attributes: { email: `${userId}@example.com` },
    consents: { email: 'in' },
  });
  check(profile.status === 200 || profile.status === 201, 'quiet-hours: profile', profile.body);
  const now = await ctx.env.currentTimeMs();
  const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
  const campaignId = await liveCampaign(ctx, {
    name: 'Quiet hours (replay fixture)',
    type: 'marketing',
    audience: { namespace: NAMESPACE, createMissingProfiles: false },
    quietHours: { from: hhmm(now - 3_600_000), to: hhmm(now + 2 * 3_600_000), timezone: 'UTC', action: 'defer' },
    steps: [{ id: 'offer', type: 'send' }],
  });
  const run = await trigger(ctx, campaignId, 'replay-campaign-steps-quiet-hours-deferred', userId, { name: 'ctx-value-quiet' });
  const done = await finish(ctx, run);
  check(done.status === 'completed' && done.counts.sent === 1, 'quiet-hours: sent once the hours ended', done);
  const events = (await ctx.env.client.workflow.getHandle(run.workflowId).fetchHistory()).events ?? [];
  check(
    events.some((e) => e.timerStartedEventAttributes),
    'quiet-hours: the send step waited on a timer',
  );
  ctx.record('campaign-steps-quiet-hours-deferred', run.workflowId);
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const executable = resolveTestServerExecutable(log);
  if (!executable) throw new Error("Temporal's time-skipping test server is not available (it needs java and mvn, see temporal/test-server-binary.ts)");
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // keep the existing runtime
  }
  log('starting the time-skipping test server and bundling workflows');
  const [env, workflowBundle] = await Promise.all([TestWorkflowEnvironment.createTimeSkipping({ server: { executable } }), bundleWorkflows()]);
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-record-steps-'));
  // No HERALD_PAYLOAD_KEYS: the committed histories stay readable, and the replay test needs no key.
  const config = loadConfig({
    HERALD_DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    PORT: '1',
    HERALD_SMS_PROVIDER: 'outbox',
    HERALD_START_WAIT_MS: TEST_START_WAIT_MS,
  });
  config.http.port = 0;
  const db = await openMigratedDatabase(config.database);
  await registerSearchAttributes(env.connection, config.temporal.namespace, console.warn);
  // The environment's connection: only calls through it let the test server skip time.
  const client = new Client({ connection: env.connection, namespace: config.temporal.namespace, dataConverter: heraldDataConverter(config.payloadKeys) });
  // The test server has no schedules: no housekeeping.
  const worker = await createWorker({ config, connection: env.nativeConnection, client, db, workflowBundle, housekeeping: false });
  const workerRun = worker.run();
  const server = await serveApi(config, db, client, () => {});
  const baseUrl = `http://127.0.0.1:${server.port}`;
  config.publicUrl = baseUrl;

  const recorded = new Map<string, string>();
  const ctx: Ctx = {
    request: (method, path, body) => requestJson(baseUrl, method, path, body),
    env,
    record(scenario, workflowId) {
      if (recorded.has(scenario)) throw new Error(`scenario ${scenario} recorded twice`);
      recorded.set(scenario, workflowId);
    },
  };

  // Each runs its campaign and records the scenarios named here.
  const allScenarios: Array<[string[], (ctx: Ctx) => Promise<void>]> = [
    [['campaign-steps-delay-then-send'], delayThenSend],
    [['campaign-steps-digest-opened', 'campaign-steps-digest-joined'], digest],
    [['campaign-steps-event-stops', 'campaign-steps-event-timeout-continues'], waitForEvent],
    [['campaign-steps-condition-holds', 'campaign-steps-condition-stops'], condition],
    [['campaign-steps-email-then-sms'], emailThenSms],
    [['campaign-steps-cancelled-in-delay'], cancelledInDelay],
    [['campaign-steps-quiet-hours-deferred'], quietHoursDeferred],
  ];
  let failure: unknown;
  let written = 0;
  try {
    const known = allScenarios.flatMap(([names]) => names);
    const unknown = only.filter((name) => !known.includes(name));
    if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
    const wanted = new Set(only.length === 0 ? known : only);
    // One after the other: a scenario waiting for its result skips the server's time for every run.
    for (const [names, run] of allScenarios.filter(([names]) => names.some((name) => wanted.has(name)))) {
      await run(ctx);
      log(`ran ${names.join(', ')}`);
    }
    for (const [scenario, workflowId] of [...recorded].filter(([scenario]) => wanted.has(scenario)).sort(([a], [b]) => a.localeCompare(b))) {
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      writeFileSync(join(historiesDir, `${scenario}.json`), `${historyToJSON(history)}\n`);
      log(`wrote ${scenario}.json (${history.events?.length ?? 0} events, ${workflowId})`);
      written += 1;
    }
  } catch (error) {
    failure = error;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    worker.shutdown();
    await workerRun;
    await db.destroy();
    await env.teardown();
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (failure) throw failure;
  log(`recorded ${written} histories in ${historiesDir}`);
}

main().catch((error) => {
  console.error('[record-steps-histories] failed:', error);
  process.exitCode = 1;
});
