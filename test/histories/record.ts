/**
 * Records real workflow histories for the replay test (`test/replay/replay.test.ts`).
 *
 *   npm run record-histories                                  # every scenario
 *   npm run record-histories -- sweep-orphaned-executions     # only the named ones
 *
 * Starts its own in-memory Temporal dev server and a full Herald (worker + HTTP API + a fresh
 * SQLite file, outbox email provider), drives each scenario over HTTP as a client would,
 * then writes every workflow's history to `test/histories/<scenario>.json`. Re-record after an
 * intentional, versioned change to workflow code; never to make a failing replay pass. Naming
 * scenarios records a new one without rewriting the histories already committed.
 *
 * Files this script does not write stay as they are and keep old branches covered until their
 * patch is deprecated: `*-per-recipient-steps.json` were recorded before the
 * prepare-recipients-in-one-local-activity patch, `*-with-content.json` before references-not-content
 * (their histories carry recipients and rendered content), `*-durable-sends.json` before
 * send-in-the-same-task (every send was a regular activity), `*-four-local-steps.json` before
 * one-local-step-on-the-happy-path (gate, preparation, quick sends and close were four local
 * activities). `activation-*-before-versions.json` were recorded before version-switch-by-update (no patch
 * marker before the run ends). `activation-version-switch.json` has the activateVersion update.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../../src/config/env';
import { openMigratedDatabase, type HeraldDb } from '../../src/db/database';
import { ExecutionRepository } from '../../src/repositories/executions';
import { serveApi } from '../../src/entry/serve-api';
import { bundleWorkflows, createWorker } from '../../src/worker/create-worker';
import { heraldDataConverter } from '../../src/temporal-client/data-converter';
import { startDevServer } from '../../temporal/dev-server';
import { sweepOrphanedExecutions } from '../../workflows/sweep-orphaned-executions';
import { triggerExecution, type TriggerExecutionInput } from '../../workflows/trigger-execution';
import { purgeExpiredContent } from '../../workflows/purge-expired-content';
import { foldReportRollups } from '../../workflows/fold-report-rollups';
import {
  activationWorkflowId,
  audienceExecutionWorkflowId,
  executionWorkflowId,
  orphanSweepScheduleId,
  reportRollupScheduleId,
  retentionScheduleId,
  webhookDispatcherWorkflowId,
  highThroughputDispatcherId,
} from '../../workflows/workflow-ids';
import { emailCampaign } from '../support/campaigns';
import { DEFAULT_HIGH_THROUGHPUT_PARTITIONS, partitionOf } from '../../src/domain/high-throughput';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { requestJson, type ApiResponse } from '../support/http-json';
import { listenOnLoopback, readBody } from '../support/loopback-server';
import { TEST_START_WAIT_MS } from '../support/test-start-wait';

const historiesDir = fileURLToPath(new URL('.', import.meta.url));
const TASK_QUEUE = 'herald-record-histories';

type Request = (method: string, path: string, body?: unknown) => Promise<ApiResponse>;

interface Ctx {
  request: Request;
  client: Client;
  db: HeraldDb;
  /** Collects `workflowId` under the scenario name, to be written once the run is over. */
  record(scenario: string, workflowId: string): void;
}

function log(line: string): void {
  console.log(`[record-histories] ${line}`);
}

function expectStatus(res: ApiResponse, status: number, what: string): any {
  if (res.status !== status) throw new Error(`${what}: expected HTTP ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const iso = (ms: number) => new Date(ms).toISOString();

async function createCampaign(ctx: Ctx, overrides: Record<string, unknown>): Promise<any> {
  return expectStatus(await ctx.request('POST', '/v1/campaigns', emailCampaign(overrides)), 201, 'create campaign');
}

async function activate(ctx: Ctx, id: string): Promise<any> {
  return expectStatus(await ctx.request('POST', `/v1/campaigns/${id}/activate`), 200, `activate ${id}`);
}

async function putProfile(ctx: Ctx, namespace: string, userId: string, body: Record<string, unknown>): Promise<void> {
  const res = await ctx.request('PUT', `/v1/profiles/${encodeURIComponent(namespace)}/${encodeURIComponent(userId)}`, body);
  if (res.status !== 200 && res.status !== 201) throw new Error(`put profile ${userId}: ${res.status} ${JSON.stringify(res.body)}`);
}

/** Triggers over HTTP, waits for the workflow itself to finish, returns the execution as the API reports it. */
async function trigger(
  ctx: Ctx,
  campaignId: string,
  requestId: string,
  recipients: unknown[],
  context?: Record<string, unknown>,
): Promise<{ workflowId: string; execution: any }> {
  const accepted = expectStatus(
    await ctx.request('POST', '/v1/executions/unitary', { requestId, campaignId, recipients, ...(context && { context }) }),
    202,
    'trigger',
  );
  const workflowId = executionWorkflowId(campaignId, requestId);
  await ctx.client.workflow.getHandle(workflowId).result();
  const execution = expectStatus(await ctx.request('GET', `/v1/executions/${accepted.executionId}`), 200, 'get execution');
  return { workflowId, execution };
}

function check(condition: boolean, message: string, detail?: unknown): void {
  if (!condition) throw new Error(`${message}${detail === undefined ? '' : `: ${JSON.stringify(detail, null, 2)}`}`);
}

function outcomeOf(execution: any, userId: string): any {
  return execution.recipients.find((r: any) => r.userId === userId);
}

/** An SMS campaign (outbox): one French recipient by phone number, one by profile attribute. */
async function triggerSmsSent(ctx: Ctx): Promise<void> {
  await putProfile(ctx, 'crm', 'sms-replay-user', { attributes: { phone: '+14155552671' } });
  const campaign = expectStatus(
    await ctx.request('POST', '/v1/campaigns', {
      name: 'OTP by SMS (replay fixture)',
      type: 'transactional',
      channel: 'sms',
      content: { default: { body: 'Your code is {{ context.code }}' }, translations: { fr: { body: 'Votre code est {{ context.code }}' } } },
      audience: { namespace: 'crm', createMissingProfiles: true },
    }),
    201,
    'create SMS campaign',
  );
  await activate(ctx, campaign.id);
  const { workflowId, execution } = await trigger(
    ctx,
    campaign.id,
    'replay-trigger-sms-sent',
    [
      { userId: 'sms-replay-user', namespace: 'crm' },
      { userId: 'sms-replay-fr', namespace: 'crm', channelData: { mobilePhoneNumber: '+33 6 12 34 56 78' } },
    ],
    { code: '4711' },
  );
  check(execution.status === 'completed' && execution.counts.sent === 2, 'trigger-sms-sent: both SMS should be sent', execution);
  ctx.record('trigger-sms-sent', workflowId);
}

/** A push campaign (outbox): one target from channelData, one profile without a token (excluded). */
async function triggerPushSent(ctx: Ctx): Promise<void> {
  const campaign = expectStatus(
    await ctx.request('POST', '/v1/campaigns', {
      name: 'Order shipped by push (replay fixture)',
      type: 'transactional',
      channel: 'push',
      content: { title: 'Order {{ context.order }}', body: 'On its way', data: { order: '42' } },
      audience: { namespace: 'crm', createMissingProfiles: true },
    }),
    201,
    'create push campaign',
  );
  await activate(ctx, campaign.id);
  const { workflowId, execution } = await trigger(
    ctx,
    campaign.id,
    'replay-trigger-push-sent',
    [
      {
        userId: 'push-replay-user',
        namespace: 'crm',
        channelData: { pushInfo: { appID: 'com.example.app', platform: 'android', token: 'dGVzdC1mY20tdG9rZW4:APA91bHunvR1_replay-registration-token' } },
      },
      { userId: 'push-replay-no-token', namespace: 'crm' },
    ],
    { order: 'A-7' },
  );
  check(
    execution.status === 'completed' && execution.counts.sent === 1 && execution.counts.sent + execution.counts.failed + execution.counts.excluded === 2,
    'trigger-push-sent: one push sent, one without a token not sent',
    execution,
  );
  ctx.record('trigger-push-sent', workflowId);
}

/** (a) Transactional campaign, one existing profile and one auto-created, both sent. */
async function triggerSent(ctx: Ctx): Promise<void> {
  await putProfile(ctx, 'email', 'ada@example.com', { attributes: { firstName: 'Ada', email: 'ada@example.com' } });
  const campaign = await createCampaign(ctx, {
    name: 'Password reset (replay fixture)',
    type: 'transactional',
    audience: { namespace: 'email', createMissingProfiles: true },
  });
  await activate(ctx, campaign.id);
  const { workflowId, execution } = await trigger(
    ctx,
    campaign.id,
    'replay-trigger-sent',
    [
      { userId: 'ada@example.com', namespace: 'email' },
      { userId: 'grace@example.com', namespace: 'email', context: { code: '999999' } },
    ],
    { code: '123456' },
  );
  check(execution.status === 'completed', 'trigger-sent: execution should complete', execution);
  check(
    outcomeOf(execution, 'ada@example.com')?.status === 'sent' && outcomeOf(execution, 'ada@example.com')?.profileCreated === false,
    'trigger-sent: existing profile should be sent',
    execution,
  );
  check(
    outcomeOf(execution, 'grace@example.com')?.status === 'sent' && outcomeOf(execution, 'grace@example.com')?.profileCreated === true,
    'trigger-sent: missing profile should be created and sent',
    execution,
  );
  ctx.record('trigger-sent', workflowId);
}

/** (b) Marketing campaign: one excluded for consent, one unknown profile, one render error. */
async function triggerExcludedAndFailed(ctx: Ctx): Promise<void> {
  await putProfile(ctx, 'crm', 'no-consent-user', { attributes: { email: 'nc@example.com', name: { first: 'Nora' } }, consents: { email: 'out' } });
  await putProfile(ctx, 'crm', 'nameless-user', { attributes: { email: 'nameless@example.com' }, consents: { email: 'in' } });
  const campaign = await createCampaign(ctx, {
    name: 'Spring sale (replay fixture)',
    type: 'marketing',
    content: { subject: 'Hi {{ profile.name.first.toUpperCase() }}', html: '<p>Hello {{ profile.name.first.toUpperCase() }}</p>' },
    audience: { namespace: 'crm', createMissingProfiles: false },
  });
  await activate(ctx, campaign.id);
  const { workflowId, execution } = await trigger(ctx, campaign.id, 'replay-trigger-excluded-and-failed', [
    { userId: 'no-consent-user', namespace: 'crm' },
    { userId: 'unknown-user', namespace: 'crm' },
    { userId: 'nameless-user', namespace: 'crm' },
  ]);
  check(execution.status === 'completed', 'trigger-excluded-and-failed: execution should complete', execution);
  const noConsent = outcomeOf(execution, 'no-consent-user');
  const unknown = outcomeOf(execution, 'unknown-user');
  const nameless = outcomeOf(execution, 'nameless-user');
  check(noConsent?.status === 'excluded' && noConsent.reason === 'no-consent', 'expected no-consent exclusion', execution);
  check(unknown?.status === 'failed' && unknown.reason === 'profile-not-found', 'expected profile-not-found', execution);
  check(nameless?.status === 'failed' && String(nameless.reason).startsWith('render-error'), 'expected render-error', execution);
  ctx.record('trigger-excluded-and-failed', workflowId);
}

/**
 * (b2) Quiet hours: a marketing campaign whose UTC window ends at the next minute boundary (at
 * least 5 s away; windows have minute resolution). One recipient is deferred: runTriggerNow
 * returns it, the workflow sleeps on a timer until the window ends (after the quiet-hours-defer
 * patch marker) and sends it with the durable sendMessage. The other, whose profile timezone
 * (Asia/Kolkata) puts it outside the window, is sent at once.
 */
async function triggerQuietHoursDeferred(ctx: Ctx): Promise<void> {
  await putProfile(ctx, 'crm', 'qh-deferred-user', { attributes: { email: 'qh-deferred@example.com', firstName: 'Quinn' }, consents: { email: 'in' } });
  await putProfile(ctx, 'crm', 'qh-kolkata-user', {
    attributes: { email: 'qh-kolkata@example.com', firstName: 'Kiran', timezone: 'Asia/Kolkata' },
    consents: { email: 'in' },
  });
  const now = Date.now();
  let windowEnd = Math.ceil(now / 60_000) * 60_000;
  if (windowEnd - now < 5_000) windowEnd += 60_000;
  const hhmm = (ms: number) => iso(ms).slice(11, 16);
  const campaign = await createCampaign(ctx, {
    name: 'Quiet hours (replay fixture)',
    type: 'marketing',
    content: { subject: 'Hi {{ profile.firstName }}', html: '<p>Offers for {{ profile.firstName }}</p>' },
    audience: { namespace: 'crm', createMissingProfiles: false },
    quietHours: { from: hhmm(windowEnd - 3_600_000), to: hhmm(windowEnd), timezone: 'UTC', action: 'defer' },
  });
  await activate(ctx, campaign.id);
  const { workflowId, execution } = await trigger(ctx, campaign.id, 'replay-trigger-quiet-hours-deferred', [
    { userId: 'qh-deferred-user', namespace: 'crm' },
    { userId: 'qh-kolkata-user', namespace: 'crm' },
  ]);
  check(Date.now() >= windowEnd, 'trigger-quiet-hours-deferred: the workflow should end after the window', { windowEnd: iso(windowEnd) });
  check(execution.status === 'completed' && execution.counts.sent === 2, 'trigger-quiet-hours-deferred: both should be sent, one after the window', execution);
  ctx.record('trigger-quiet-hours-deferred', workflowId);
}

/**
 * (c) The workflow's own window check. The API refuses these calls up front, so the race it
 * guards against (campaign changes between accept and run) is reproduced by starting the
 * workflow directly: once for a campaign that is scheduled but not yet open, once for a
 * stopped one. Both fail non-retryably.
 */
async function triggerRefusedByWorkflow(ctx: Ctx, scenario: string, campaignId: string, expectedType: string): Promise<void> {
  const requestId = `replay-${scenario}`;
  const workflowId = executionWorkflowId(campaignId, requestId);
  const input: TriggerExecutionInput = { executionId: `exec-${scenario}`, requestId, campaignId };
  const handle = await ctx.client.workflow.start(triggerExecution, { taskQueue: TASK_QUEUE, workflowId, args: [input] });
  try {
    await handle.result();
    throw new Error(`${scenario}: workflow should have failed`);
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    const type = (error.cause as { type?: string } | undefined)?.type;
    check(type === expectedType, `${scenario}: expected failure type ${expectedType}, got ${type}`);
  }
  ctx.record(scenario, workflowId);
}

async function triggerOutsideSchedule(ctx: Ctx): Promise<void> {
  const campaign = await createCampaign(ctx, { name: 'Not yet open (replay fixture)', schedule: { startAt: iso(Date.now() + 3_600_000) } });
  const activated = await activate(ctx, campaign.id);
  check(activated.status === 'scheduled', 'trigger-outside-schedule: campaign should be scheduled', activated);
  await triggerRefusedByWorkflow(ctx, 'trigger-outside-schedule', campaign.id, 'campaign-outside-schedule');
  // Ends its activation workflow so nothing is left running.
  expectStatus(await ctx.request('POST', `/v1/campaigns/${campaign.id}/stop`), 200, 'stop');
  await ctx.client.workflow.getHandle(activationWorkflowId(campaign.id)).result();
}

async function triggerCampaignStopped(ctx: Ctx): Promise<void> {
  const campaign = await createCampaign(ctx, { name: 'Stopped (replay fixture)' });
  await activate(ctx, campaign.id);
  expectStatus(await ctx.request('POST', `/v1/campaigns/${campaign.id}/stop`), 200, 'stop');
  await ctx.client.workflow.getHandle(activationWorkflowId(campaign.id)).result();
  await triggerRefusedByWorkflow(ctx, 'trigger-campaign-stopped', campaign.id, 'campaign-not-live');
}

/** (d) scheduled → live → completed on durable timers. */
async function activationScheduledLiveCompleted(ctx: Ctx): Promise<void> {
  const now = Date.now();
  const campaign = await createCampaign(ctx, { name: 'Flash window (replay fixture)', schedule: { startAt: iso(now + 2_000), endAt: iso(now + 4_000) } });
  const activated = await activate(ctx, campaign.id);
  check(activated.status === 'scheduled', 'activation-scheduled-live-completed: should start scheduled', activated);
  const workflowId = activationWorkflowId(campaign.id);
  const state = await ctx.client.workflow.getHandle(workflowId).result();
  check(state.status === 'completed', 'activation-scheduled-live-completed: workflow should end completed', state);
  const stored = expectStatus(await ctx.request('GET', `/v1/campaigns/${campaign.id}`), 200, 'get campaign');
  check(stored.status === 'completed', 'activation-scheduled-live-completed: campaign should be completed', stored);
  ctx.record('activation-scheduled-live-completed', workflowId);
}

/** (e) live, then stopped over the API. */
async function activationStopped(ctx: Ctx): Promise<void> {
  const campaign = await createCampaign(ctx, { name: 'Stop me (replay fixture)' });
  await activate(ctx, campaign.id);
  const workflowId = activationWorkflowId(campaign.id);
  const handle = ctx.client.workflow.getHandle(workflowId);
  // Let the workflow record `live` first, so the history has the live phase, then the signal.
  for (let i = 0; i < 100 && (await handle.query<{ status: string }>('state')).status !== 'live'; i++) await sleep(50);
  expectStatus(await ctx.request('POST', `/v1/campaigns/${campaign.id}/stop`), 200, 'stop');
  const state = await handle.result();
  check(state.status === 'stopped' && state.stopRequested, 'activation-stopped: workflow should end stopped', state);
  ctx.record('activation-stopped', workflowId);
}

/**
 * (f) The orphan sweep, in batches of one: an execution claimed an hour ago whose workflow never
 * started (marked `not-started`: its campaign has steps, so its call was never answered before
 * its start; one without steps would be started instead, ADR 0011), one whose workflow exists and is still waiting for a worker
 * (left alone), then an empty batch. The claims are written as the API writes them; only their
 * age is set back, so the run needs no real grace period.
 */
async function sweepOrphanedExecutionsScenario(ctx: Ctx): Promise<void> {
  const campaign = await createCampaign(ctx, { name: 'Orphans (replay fixture)', steps: [{ id: 'send', type: 'send' }] });
  await activate(ctx, campaign.id);
  const executions = new ExecutionRepository(ctx.db);
  const claim = async (requestId: string) => {
    const workflowId = executionWorkflowId(campaign.id, requestId);
    const recipients = [{ userId: 'ada@example.com', namespace: 'email' }];
    const claimed = await executions.claim({
      id: `exec-${requestId}`,
      requestId,
      requestHash: requestId,
      campaignId: campaign.id,
      campaignVersion: campaign.version,
      workflowId,
      channel: 'email',
      recipients,
    });
    if (claimed.kind !== 'created') throw new Error(`sweep-orphaned-executions: claim ${requestId} gave ${JSON.stringify(claimed)}`);
    return { executionId: claimed.executionId, workflowId, recipients };
  };
  const orphan = await claim('replay-sweep-never-started');
  const waiting = await claim('replay-sweep-started');
  const hourAgo = Date.now() - 3_600_000;
  await ctx.db
    .updateTable('executions')
    .set({ created_at: iso(hourAgo) })
    .where('id', '=', orphan.executionId)
    .execute();
  await ctx.db
    .updateTable('executions')
    .set({ created_at: iso(hourAgo + 1) })
    .where('id', '=', waiting.executionId)
    .execute();
  // Started on a queue no worker polls, so it exists and stays running while the sweep looks.
  const waitingRun = await ctx.client.workflow.start(triggerExecution, {
    taskQueue: `${TASK_QUEUE}-idle`,
    workflowId: waiting.workflowId,
    args: [{ executionId: waiting.executionId, requestId: 'replay-sweep-started', campaignId: campaign.id }],
  });

  const workflowId = 'record/sweep-orphaned-executions';
  const totals = await ctx.client.workflow.execute(sweepOrphanedExecutions, { taskQueue: TASK_QUEUE, workflowId, args: [{ batchSize: 1 }] });
  await waitingRun.terminate('replay fixture recorded');
  check(totals.checked === 2 && totals.marked === 1 && totals.batches === 3, 'sweep-orphaned-executions: expected 2 checked, 1 marked, 3 batches', totals);
  const marked = expectStatus(await ctx.request('GET', `/v1/executions/${orphan.executionId}`), 200, 'get orphan');
  check(marked.status === 'failed' && marked.reason === 'not-started', 'sweep-orphaned-executions: orphan should be failed (not-started)', marked);
  const untouched = expectStatus(await ctx.request('GET', `/v1/executions/${waiting.executionId}`), 200, 'get started execution');
  check(untouched.status === 'running', 'sweep-orphaned-executions: an execution with a workflow should be left running', untouched);
  ctx.record('sweep-orphaned-executions', workflowId);
}

/**
 * (g) Retention: one execution closed 40 days ago (its details are purged, its counts stay) and
 * one closed now (left alone), in batches of one.
 */
async function purgeExpiredContentScenario(ctx: Ctx): Promise<void> {
  const campaign = await createCampaign(ctx, { name: 'Retention (replay fixture)' });
  await activate(ctx, campaign.id);
  const old = await trigger(ctx, campaign.id, 'replay-retention-old', [{ userId: 'old@example.com', namespace: 'email' }], { code: '1' });
  const fresh = await trigger(ctx, campaign.id, 'replay-retention-fresh', [{ userId: 'fresh@example.com', namespace: 'email' }], { code: '2' });
  const fortyDaysAgo = iso(Date.now() - 40 * 86_400_000);
  await ctx.db.updateTable('executions').set({ completed_at: fortyDaysAgo }).where('id', '=', old.execution.executionId).execute();

  const workflowId = 'record/purge-expired-content';
  const totals = await ctx.client.workflow.execute(purgeExpiredContent, { taskQueue: TASK_QUEUE, workflowId, args: [{ batchSize: 1 }] });
  check(
    totals.executions === 1 && totals.deliveries === 1 && totals.outboxMessages === 1 && totals.batches === 2,
    'purge-expired-content: expected 1 execution purged in 2 batches',
    totals,
  );
  const purged = expectStatus(await ctx.request('GET', `/v1/executions/${old.execution.executionId}`), 200, 'get purged');
  check(
    purged.recipients.length === 0 && purged.counts.sent === 1 && typeof purged.detailsPurgedAt === 'string',
    'purge-expired-content: purged execution keeps counts only',
    purged,
  );
  const kept = expectStatus(await ctx.request('GET', `/v1/executions/${fresh.execution.executionId}`), 200, 'get fresh');
  check(kept.recipients.length === 1 && kept.detailsPurgedAt === undefined, 'purge-expired-content: fresh execution keeps its details', kept);
  ctx.record('purge-expired-content', workflowId);
}

/**
 * (h) Versions: a live campaign edited (a draft version 2), then activated again, which switches
 * to version 2 through the activation workflow's activateVersion update; then stopped, so the
 * history ends. Recorded after the version-switch-by-update patch.
 */
async function activationVersionSwitch(ctx: Ctx): Promise<void> {
  const campaign = await createCampaign(ctx, { name: 'Versions (replay fixture)' });
  await activate(ctx, campaign.id);
  const workflowId = activationWorkflowId(campaign.id);
  const handle = ctx.client.workflow.getHandle(workflowId);
  for (let i = 0; i < 100 && (await handle.query<{ status: string }>('state')).status !== 'live'; i++) await sleep(50);
  const edited = expectStatus(
    await ctx.request('PATCH', `/v1/campaigns/${campaign.id}`, { content: { subject: 'Version 2 for {{ profile.firstName }}', html: '<p>Version 2</p>' } }),
    200,
    'edit live campaign',
  );
  check(
    edited.status === 'live' && edited.version === 1 && edited.draftVersion === 2,
    'activation-version-switch: the edit should be draft version 2 beside live version 1',
    edited,
  );
  const switched = await activate(ctx, campaign.id);
  check(
    switched.status === 'live' && switched.version === 2 && switched.draftVersion === undefined,
    'activation-version-switch: version 2 should be live',
    switched,
  );
  const state = await handle.query<{ liveVersion?: number }>('state');
  check(state.liveVersion === 2, 'activation-version-switch: the workflow should report version 2 live', state);
  expectStatus(await ctx.request('POST', `/v1/campaigns/${campaign.id}/stop`), 200, 'stop');
  const final = await handle.result();
  check(final.status === 'stopped' && final.liveVersion === 2, 'activation-version-switch: workflow should end stopped at version 2', final);
  ctx.record('activation-version-switch', workflowId);
}

/**
 * (i) An audience execution: six members (one without consent) of a rule audience, throttled to 2
 * messages per second, so the run is three batches with a pacing timer after each; then closed.
 */
async function audienceThrottledRun(ctx: Ctx): Promise<void> {
  for (let i = 0; i < 6; i++)
    await putProfile(ctx, 'email', `replay-audience-${i}@example.com`, {
      attributes: { firstName: `A${i}`, segment: 'replay-audience' },
      consents: { email: i === 5 ? 'out' : 'in' },
    });
  const audience = expectStatus(
    await ctx.request('POST', '/v1/audiences', {
      name: 'Replay audience',
      namespace: 'email',
      definition: { type: 'rule', where: [{ attribute: 'segment', op: 'eq', value: 'replay-audience' }] },
    }),
    201,
    'create audience',
  );
  const campaign = await createCampaign(ctx, {
    name: 'Audience (replay fixture)',
    type: 'marketing',
    audience: { namespace: 'email', createMissingProfiles: false },
  });
  await activate(ctx, campaign.id);
  const requestId = 'replay-audience-throttled';
  const accepted = expectStatus(
    await ctx.request('POST', '/v1/executions/audience', {
      requestId,
      campaignId: campaign.id,
      audience: { id: audience.id },
      context: { code: 'A' },
      throttle: { messagesPerSecond: 2 },
    }),
    202,
    'audience execution',
  );
  const workflowId = audienceExecutionWorkflowId(campaign.id, requestId);
  await ctx.client.workflow.getHandle(workflowId).result();
  const execution = expectStatus(await ctx.request('GET', `/v1/executions/${accepted.executionId}`), 200, 'get audience execution');
  check(
    execution.status === 'completed' && execution.counts.sent === 5 && execution.counts.excluded === 1,
    'audience-throttled-run: 5 sent, 1 excluded (no-consent)',
    execution,
  );
  ctx.record('audience-throttled-run', workflowId);
}

/**
 * A feedback webhook dispatcher: a customer endpoint on loopback fails its first request (500,
 * retried by Temporal), then acknowledges the sent event; the endpoint is then disabled in the
 * database and the dispatcher ends at its next poll. Its history holds the endpoint id and counts.
 */
async function webhookDispatcherScenario(ctx: Ctx): Promise<void> {
  const bodies: string[] = [];
  const { server, url } = await listenOnLoopback(
    async (req, res) => {
      bodies.push(await readBody(req));
      res.writeHead(bodies.length === 1 ? 500 : 200);
      res.end();
    },
    () => ({}),
  );
  try {
    const campaign = await createCampaign(ctx, { name: 'Webhook (replay fixture)' });
    await activate(ctx, campaign.id);
    const endpoint = expectStatus(
      await ctx.request('POST', '/v1/webhooks', { url: `${url}/hook`, events: ['sent'], campaignIds: [campaign.id] }),
      201,
      'create webhook',
    );
    const { execution } = await trigger(ctx, campaign.id, 'replay-webhook', [{ userId: 'replay-webhook@example.com', namespace: 'email' }], { code: 'W' });
    check(execution.recipients[0].status === 'sent', 'webhook-dispatcher: the message is sent', execution);
    const deadline = Date.now() + 60_000;
    while (bodies.length < 2 && Date.now() < deadline) await sleep(200);
    check(bodies.length === 2 && JSON.parse(bodies[1]!).type === 'message.sent', 'webhook-dispatcher: one failed request, then the sent event', bodies);
    await ctx.db.updateTable('webhook_endpoints').set({ status: 'disabled', disabled_reason: 'replay fixture done' }).where('id', '=', endpoint.id).execute();
    const workflowId = webhookDispatcherWorkflowId(endpoint.id);
    const result = await ctx.client.workflow.getHandle(workflowId).result();
    check(result.ended === 'stopped' && result.delivered === 1, 'webhook-dispatcher: stopped after one event', result);
    ctx.record('webhook-dispatcher', workflowId);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * A high-throughput dispatcher (ADR 0010): two triggers of a high-throughput campaign, queued by
 * the API and sent by their partition's dispatcher in a batch; the dispatcher is then terminated
 * (it never ends by itself), so its history holds batches and an idle timer: partition, batch ids, counts.
 */
async function highThroughputDispatcherScenario(ctx: Ctx): Promise<void> {
  const campaign = await createCampaign(ctx, {
    name: 'High throughput (replay fixture)',
    throughput: 'high',
    audience: { namespace: 'email', createMissingProfiles: false },
    content: { subject: 'Receipt {{ context.orderId }}', html: '<p>Order {{ context.orderId }}</p>' },
  });
  await activate(ctx, campaign.id);
  // Two requestIds of the same partition, so one dispatcher sends both.
  const requestIds = ['replay-ht-0', 'replay-ht-1', 'replay-ht-2', 'replay-ht-3', 'replay-ht-4', 'replay-ht-5', 'replay-ht-6', 'replay-ht-7'];
  const partition = partitionOf(requestIds[0]!, DEFAULT_HIGH_THROUGHPUT_PARTITIONS);
  const same = requestIds.filter((id) => partitionOf(id, DEFAULT_HIGH_THROUGHPUT_PARTITIONS) === partition).slice(0, 2);
  check(
    same.length === 2,
    'high-throughput-dispatcher: two requestIds of one partition',
    requestIds.map((id) => partitionOf(id, DEFAULT_HIGH_THROUGHPUT_PARTITIONS)),
  );
  const executionIds: string[] = [];
  for (const requestId of same) {
    const accepted = expectStatus(
      await ctx.request('POST', '/v1/executions/unitary', {
        requestId,
        campaignId: campaign.id,
        recipients: [{ userId: `${requestId}@example.com`, namespace: 'email' }],
        context: { orderId: requestId },
      }),
      202,
      'trigger',
    );
    executionIds.push(accepted.executionId);
  }
  const deadline = Date.now() + 60_000;
  let executions: any[] = [];
  while (Date.now() < deadline) {
    executions = await Promise.all(executionIds.map(async (id) => expectStatus(await ctx.request('GET', `/v1/executions/${id}`), 200, 'get execution')));
    if (executions.every((e) => e.status !== 'running')) break;
    await sleep(200);
  }
  check(
    executions.every((e) => e.status === 'completed' && e.counts.sent === 1),
    'high-throughput-dispatcher: both triggers sent',
    executions,
  );
  // Past one idle wait, so the history shows the timer too.
  await sleep(1_000);
  const workflowId = highThroughputDispatcherId(TASK_QUEUE, partition);
  for (let other = 0; other < DEFAULT_HIGH_THROUGHPUT_PARTITIONS; other++) {
    await ctx.client.workflow
      .getHandle(highThroughputDispatcherId(TASK_QUEUE, other))
      .terminate('replay fixture done')
      .catch(() => undefined);
  }
  ctx.record('high-throughput-dispatcher', workflowId);
}

/** (k) The report-rollup fold: one delivery to count, folded by the workflow its schedule starts. */
async function foldReportRollupsScenario(ctx: Ctx): Promise<void> {
  const campaign = await createCampaign(ctx, { name: 'Report fold (replay fixture)' });
  await activate(ctx, campaign.id);
  await trigger(ctx, campaign.id, 'replay-report-fold', [{ userId: 'fold@example.com', namespace: 'email' }], { code: 'F' });
  const workflowId = 'record/fold-report-rollups';
  const folded = await ctx.client.workflow.execute(foldReportRollups, { taskQueue: TASK_QUEUE, workflowId, args: [{}] });
  check(folded.deliveries >= 1, 'fold-report-rollups: expected at least the one delivery folded', folded);
  ctx.record('fold-report-rollups', workflowId);
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  log('starting Temporal dev server and bundling workflows');
  const [env, workflowBundle] = await Promise.all([startDevServer(), bundleWorkflows()]);
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-record-'));
  const config = loadConfig({
    HERALD_DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    PORT: '1',
    HERALD_WEBHOOKS_ALLOW_PRIVATE: 'true',
    HERALD_START_WAIT_MS: TEST_START_WAIT_MS,
  });
  config.http.port = 0;
  const db = await openMigratedDatabase(config.databasePath);
  const connection = await Connection.connect({ address: config.temporal.address });
  // No HERALD_PAYLOAD_KEYS above: the committed histories stay readable, and the replay test needs no key.
  const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: heraldDataConverter(config.payloadKeys) });
  const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await createWorker({ config, connection: nativeConnection, client, db, workflowBundle });
  // The sweep scenario runs the sweep itself; a scheduled run in between would take its orphan.
  await client.schedule.getHandle(orphanSweepScheduleId(TASK_QUEUE)).pause('record-histories starts the sweep itself');
  await client.schedule.getHandle(retentionScheduleId(TASK_QUEUE)).pause('record-histories starts the purge itself');
  await client.schedule.getHandle(reportRollupScheduleId(TASK_QUEUE)).pause('record-histories starts the fold itself');
  const workerRun = worker.run();
  // Webhook secrets are sealed with a payload key. Set only now: the client and the worker were
  // built without one, so the recorded histories stay unencrypted.
  config.payloadKeys = [{ id: 'record-histories', key: randomBytes(32) }];
  const server = await serveApi(config, db, client, () => {});
  const baseUrl = `http://127.0.0.1:${server.port}`;

  const request: Request = (method, path, body) => requestJson(baseUrl, method, path, body);

  const recorded = new Map<string, string>();
  const ctx: Ctx = {
    request,
    client,
    db,
    record(scenario, workflowId) {
      if (recorded.has(scenario)) throw new Error(`scenario ${scenario} recorded twice`);
      recorded.set(scenario, workflowId);
    },
  };

  let failure: unknown;
  try {
    const allScenarios: Array<[string, (ctx: Ctx) => Promise<void>]> = [
      ['trigger-sent', triggerSent],
      ['trigger-sms-sent', triggerSmsSent],
      ['trigger-push-sent', triggerPushSent],
      ['trigger-excluded-and-failed', triggerExcludedAndFailed],
      ['trigger-quiet-hours-deferred', triggerQuietHoursDeferred],
      ['trigger-outside-schedule', triggerOutsideSchedule],
      ['trigger-campaign-stopped', triggerCampaignStopped],
      ['activation-scheduled-live-completed', activationScheduledLiveCompleted],
      ['activation-stopped', activationStopped],
      ['sweep-orphaned-executions', sweepOrphanedExecutionsScenario],
      ['purge-expired-content', purgeExpiredContentScenario],
      ['activation-version-switch', activationVersionSwitch],
      ['audience-throttled-run', audienceThrottledRun],
      ['fold-report-rollups', foldReportRollupsScenario],
      ['webhook-dispatcher', webhookDispatcherScenario],
      ['high-throughput-dispatcher', highThroughputDispatcherScenario],
    ];
    const unknown = only.filter((name) => !allScenarios.some(([scenario]) => scenario === name));
    if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${allScenarios.map(([name]) => name).join(', ')}`);
    const scenarios = only.length === 0 ? allScenarios : allScenarios.filter(([name]) => only.includes(name));
    // Concurrent, so the 4 s activation window overlaps the rest; scenarios share no data.
    await Promise.all(
      scenarios.map(async ([name, run]) => {
        await run(ctx);
        log(`ran ${name}`);
      }),
    );
    for (const [scenario, workflowId] of [...recorded].sort(([a], [b]) => a.localeCompare(b))) {
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      const file = join(historiesDir, `${scenario}.json`);
      writeFileSync(file, `${historyToJSON(history)}\n`);
      log(`wrote ${scenario}.json (${history.events?.length ?? 0} events, ${workflowId})`);
    }
  } catch (error) {
    failure = error;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    worker.shutdown();
    await workerRun;
    await nativeConnection.close();
    await connection.close();
    await db.destroy();
    await env.teardown();
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (failure) throw failure;
  log(`recorded ${recorded.size} histories in ${historiesDir}`);
}

main().catch((error) => {
  console.error('[record-histories] failed:', error);
  process.exitCode = 1;
});
