// Section e2e (and the pairs of growth-recipients): Herald against bare Temporal on the same server,
// back to back, from the first trigger call to the last execution finished. Bare workflows of
// Herald's own activity shape with no-op activities tell what Herald adds on top of the Temporal
// work it cannot avoid; with BENCH_CEILING on, the 1-recipient pair also runs the ceiling (one no-op
// local activity per workflow), the least one workflow per trigger costs on this server.
import type { Client } from '@temporalio/client';
import type { CampaignStep } from '../../src/domain/campaign-steps';
import * as triggerWorkflow from '../../workflows/trigger-execution';
import { executionWorkflowId } from '../../workflows/workflow-ids';
import type { BareShape } from '../bare-workflow';
import { cpuDelta, cpuSnapshot, heraldCpu, msPer, per1k, type CpuSnapshot, type ProcName } from '../cpu';
import { liveCampaign } from '../herald-api';
import { historyShape, type HistoryShape } from '../history-shape';
import { startLoad } from '../load-process';
import type { LoadResult, UserSelection } from '../loadgen';
import type { BenchSettings } from '../settings';
import { BARE_TASK_QUEUE, type Stack } from '../stack';
import { countOf, dbOf } from '../stack-database';
import { fmt, summarize } from '../stats';

/**
 * The bare workflow mirrors the trigger workflow's newest path: all sends in one local activity in
 * the same workflow task when the tree has the SEND_IN_THE_SAME_TASK patch, else one activity each.
 */
export const BARE_SHAPE: BareShape =
  'ONE_STEP_ON_THE_HAPPY_PATH' in triggerWorkflow
    ? 'one-local-activity'
    : 'SEND_IN_THE_SAME_TASK' in triggerWorkflow
      ? 'send-in-the-same-task'
      : 'activity-per-recipient';
/** The ceiling: a workflow of one no-op local activity, the least one workflow per trigger costs on this server. */
const CEILING_SHAPE: BareShape = 'one-local-activity';
const E2E_CONCURRENCY = 16;
const E2E_TIMEOUT_MS = 240_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface E2eResult {
  label: string;
  recipients: number;
  triggers: number;
  seconds: number;
  perSecond: number;
  delivered: number;
  failedRecipients: number;
  /** Latencies of the trigger calls (Herald: the 202; bare: the start), ms. */
  latencies: number[];
  cpu: CpuSnapshot;
  loadgenCpu: number;
  timedOut: boolean;
  /**
   * Robust to the tail: the first 95% of the executions (count95) over the time until the last of
   * them finished (seconds95). One workflow task that waits seconds in the server's matching before
   * a poller takes it (seen on the dev server and the cluster alike) moves the last completion, not this.
   */
  count95: number;
  seconds95: number;
  perSecond95: number;
}

/** The first 95% of `finishTimes` (ms since the epoch, any order), timed from t0. */
function to95(finishTimes: number[], t0: number): { count95: number; seconds95: number; perSecond95: number } {
  const sorted = [...finishTimes].sort((a, b) => a - b);
  const count95 = Math.ceil(0.95 * sorted.length);
  const seconds95 = count95 > 0 ? (sorted[count95 - 1]! - t0) / 1000 : Number.NaN;
  return { count95, seconds95, perSecond95: count95 / seconds95 };
}

export async function heraldE2e(
  bench: BenchSettings,
  stack: Stack,
  label: string,
  recipients: number,
  triggers: number,
  users: UserSelection,
  steps?: readonly CampaignStep[],
): Promise<E2eResult & { campaignId: string; requestPrefix: string }> {
  const { log } = bench;
  const campaignId = await liveCampaign(stack, `bench ${label}`, steps);
  const requestPrefix = `${bench.runId}-${label}`;
  const db = dbOf(stack);
  const progress = async () => {
    const found = await db
      .selectFrom('executions')
      .select((eb) => [eb.fn.countAll().as('done'), eb.fn.max('completed_at').as('last')])
      .where('campaign_id', '=', campaignId)
      .where('status', '!=', 'running')
      .executeTakeFirstOrThrow();
    return { done: Number(found.done), last: found.last };
  };
  const before = cpuSnapshot(stack);
  const load = startLoad(stack, {
    mode: 'http',
    ports: stack.apiPorts,
    campaignId,
    recipients,
    concurrency: E2E_CONCURRENCY,
    maxCalls: triggers,
    maxMs: 120_000,
    requestPrefix,
    users,
  });
  const t0 = await load.started;
  let accepted: number | undefined;
  let loadResult: LoadResult | undefined;
  let loadFailed = false;
  load.result.then(
    (r) => {
      loadResult = r;
      accepted = r.ok;
    },
    () => (loadFailed = true),
  );
  const until = Date.now() + E2E_TIMEOUT_MS;
  let row = { done: 0, last: null as string | null };
  for (;;) {
    row = await progress();
    if (accepted !== undefined && row.done >= accepted) break;
    if (loadFailed || Date.now() > until) break;
    await sleep(100);
  }
  const after = cpuSnapshot(stack);
  const result = loadResult ?? (await load.result);
  const finishTimes = (
    await db
      .selectFrom('executions')
      .select('completed_at')
      .where('campaign_id', '=', campaignId)
      .where('status', '!=', 'running')
      .where('completed_at', 'is not', null)
      .execute()
  ).map((r) => Date.parse(r.completed_at!));
  const timedOut = row.done < result.ok;
  const t1 = row.last ? Date.parse(row.last) : Date.now();
  const delivered = await countOf(
    db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('campaign_id', '=', campaignId),
  );
  const failedRecipients = await countOf(
    db
      .selectFrom('deliveries as d')
      .innerJoin('executions as e', 'e.id', 'd.execution_id')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('e.campaign_id', '=', campaignId)
      .where('d.status', '!=', 'sent'),
  );
  if (result.failed > 0) log(`${label}: ${result.failed} trigger calls failed, e.g. ${result.firstError}`);
  if (timedOut) log(`${label}: only ${row.done} of ${result.ok} executions finished within ${E2E_TIMEOUT_MS / 1000} s`);
  const seconds = (t1 - t0) / 1000;
  return {
    label,
    campaignId,
    requestPrefix,
    recipients,
    triggers: row.done,
    seconds,
    perSecond: row.done / seconds,
    delivered,
    failedRecipients,
    latencies: result.latencies,
    cpu: cpuDelta(before, after),
    loadgenCpu: result.cpuSeconds,
    timedOut,
    ...to95(finishTimes, t0),
  };
}

async function bareE2e(
  bench: BenchSettings,
  stack: Stack,
  label: string,
  recipients: number,
  triggers: number,
  shape: BareShape = BARE_SHAPE,
): Promise<E2eResult & { requestPrefix: string }> {
  const requestPrefix = `${bench.runId}-${label}`;
  const base = stack.bareFinished.count;
  const before = cpuSnapshot(stack);
  const load = startLoad(stack, {
    mode: 'temporal',
    address: stack.temporalAddress,
    taskQueue: BARE_TASK_QUEUE,
    bareShape: shape,
    recipients,
    concurrency: E2E_CONCURRENCY,
    maxCalls: triggers,
    maxMs: 120_000,
    requestPrefix,
  });
  const t0 = await load.started;
  const result = await load.result;
  if (result.failed > 0) bench.log(`${label}: ${result.failed} workflow starts failed, e.g. ${result.firstError}`);
  const t1 = await stack.waitForBare(base + result.ok, E2E_TIMEOUT_MS);
  const after = cpuSnapshot(stack);
  const done = stack.bareFinished.count - base;
  const seconds = ((t1 ?? Date.now()) - t0) / 1000;
  const finishTimes = stack.bareFinishTimes.slice(base, base + done);
  return {
    label,
    requestPrefix,
    recipients,
    triggers: done,
    seconds,
    perSecond: done / seconds,
    delivered: done * recipients,
    failedRecipients: 0,
    latencies: result.latencies,
    cpu: cpuDelta(before, after),
    loadgenCpu: result.cpuSeconds,
    timedOut: t1 === undefined,
    ...to95(finishTimes, t0),
  };
}

export interface Pair {
  recipients: number;
  herald: E2eResult;
  bare: E2eResult;
  /** Per-second rates of the four runs, in the order H, B, B, H. */
  rounds: number[];
  /** Only at 1 recipient: bare workflows of ONE no-op local activity (the ceiling), run between them: H, B, C, C, B, H. */
  ceiling?: E2eResult;
  /** Per-second rates of the two ceiling runs. */
  ceilingRounds?: number[];
  /** The order the runs went in, e.g. "H B C C B H". */
  order: string;
  heraldHistory?: HistoryShape;
  bareHistory?: HistoryShape;
  ceilingHistory?: HistoryShape;
}

/** Two runs of the same kind added up: throughput is total triggers over total time. */
export function combine(a: E2eResult, b: E2eResult): E2eResult {
  const triggers = a.triggers + b.triggers;
  const seconds = a.seconds + b.seconds;
  return {
    label: a.label,
    recipients: a.recipients,
    triggers,
    seconds,
    perSecond: triggers / seconds,
    delivered: a.delivered + b.delivered,
    failedRecipients: a.failedRecipients + b.failedRecipients,
    latencies: [...a.latencies, ...b.latencies],
    cpu: Object.fromEntries(Object.keys(a.cpu).map((k) => [k, a.cpu[k as ProcName] + b.cpu[k as ProcName]])) as CpuSnapshot,
    loadgenCpu: a.loadgenCpu + b.loadgenCpu,
    timedOut: a.timedOut || b.timedOut,
    count95: a.count95 + b.count95,
    seconds95: a.seconds95 + b.seconds95,
    perSecond95: (a.count95 + b.count95) / (a.seconds95 + b.seconds95),
  };
}

/**
 * Herald and bare Temporal on the same server, in the order Herald, bare, bare, Herald (half the
 * triggers each time), so that a change in background load during the pair hits both sides alike.
 */
export async function pair(bench: BenchSettings, stack: Stack, client: Client, recipients: number, triggers: number, withCeiling = false): Promise<Pair> {
  const { log, runId } = bench;
  const half = Math.ceil(triggers / 2);
  const users = (round: number): UserSelection => ({ kind: 'unique', prefix: `${runId}-r${recipients}-${round}` });
  const order = withCeiling ? 'H B C C B H' : 'H B B H';
  log(
    `end to end, ${recipients} recipient(s) per call: 2 × ${half} Herald triggers and 2 × ${half} bare workflows${withCeiling ? ' and 2 × ' + half + ' ceiling workflows (one no-op local activity)' : ''} (${order.replaceAll(' ', ', ')}) ...`,
  );
  const h1 = await heraldE2e(bench, stack, `e2e-r${recipients}-a`, recipients, half, users(1));
  const b1 = await bareE2e(bench, stack, `bare-r${recipients}-a`, recipients, half);
  const c1 = withCeiling ? await bareE2e(bench, stack, `ceil-r${recipients}-a`, recipients, half, CEILING_SHAPE) : undefined;
  const c2 = withCeiling ? await bareE2e(bench, stack, `ceil-r${recipients}-b`, recipients, half, CEILING_SHAPE) : undefined;
  const b2 = await bareE2e(bench, stack, `bare-r${recipients}-b`, recipients, half);
  const h2 = await heraldE2e(bench, stack, `e2e-r${recipients}-b`, recipients, half, users(2));
  const herald = combine(h1, h2);
  const bare = combine(b1, b2);
  const ceiling = c1 && c2 ? combine(c1, c2) : undefined;
  log(
    `  Herald ${fmt(h1.perSecond)} + ${fmt(h2.perSecond)} triggers/s, bare ${fmt(b1.perSecond)} + ${fmt(b2.perSecond)} workflows/s → ratio ${fmt((100 * herald.perSecond) / bare.perSecond, 0)}%` +
      (ceiling
        ? `; ceiling ${fmt(c1!.perSecond)} + ${fmt(c2!.perSecond)} workflows/s → Herald at ${fmt((100 * herald.perSecond) / ceiling.perSecond, 0)}% of it (to 95% done: ${fmt((100 * herald.perSecond95) / ceiling.perSecond95, 0)}%)`
        : ''),
  );
  const heraldHistory = await historyShape(client, executionWorkflowId(h1.campaignId, `${h1.requestPrefix}-0`), log);
  const bareHistory = await historyShape(client, `bare/${b1.requestPrefix}-0`, log);
  const ceilingHistory = c1 ? await historyShape(client, `bare/${c1.requestPrefix}-0`, log) : undefined;
  return {
    recipients,
    herald,
    bare,
    rounds: [h1.perSecond, b1.perSecond, b2.perSecond, h2.perSecond],
    ...(ceiling && { ceiling, ceilingRounds: [c1!.perSecond, c2!.perSecond] }),
    order,
    ...(heraldHistory && { heraldHistory }),
    ...(bareHistory && { bareHistory }),
    ...(ceilingHistory && { ceilingHistory }),
  };
}

/** Before the first measured run on a stack: JIT, connection pools and the server's caches warm. */
export async function warmUp(bench: BenchSettings, stack: Stack): Promise<void> {
  bench.log('warm-up: 100 Herald triggers and 100 bare workflows (not reported) ...');
  await heraldE2e(bench, stack, 'warmup', 1, 100, { kind: 'unique', prefix: `${bench.runId}-warm` });
  await bareE2e(bench, stack, 'bare-warmup', 1, 100);
  if (bench.ceiling) await bareE2e(bench, stack, 'ceil-warmup', 1, 30, CEILING_SHAPE);
}

/** The pairs' tables (e2e and growth-recipients alike), for a stack of `replicas` replicas; pg: Herald's data in PostgreSQL. */
export function endToEndReport(pairs: Pair[], replicas: number, pg: boolean): string[] {
  if (pairs.length === 0) return [];
  const out: string[] = [];
  out.push(
    '## End to end: Herald vs bare Temporal, same server, back to back',
    '',
    `Triggers started at concurrency ${E2E_CONCURRENCY} (Herald over HTTP${replicas > 1 ? `, round-robin over ${replicas} APIs` : ''}, bare with @temporalio/client), timed from the first call to the last execution finished. Herald counts an execution done when its workflow closed it in Herald's database (closeExecution) and checks every recipient is in the outbox. The bare workflow (bench/bare-workflow.ts) has the trigger workflow's activity shape with no-op activities; its sends here: ${BARE_SHAPE === 'one-local-activity' ? 'the whole happy path is one local activity (the one-local-step-on-the-happy-path patch), so the bare workflow is the ceiling shape itself' : BARE_SHAPE === 'send-in-the-same-task' ? 'one local activity for all recipients in the same workflow task (the send-in-the-same-task patch)' : 'one activity per recipient'}.`,
    '',
    '| recipients/call | triggers (each side) | Herald triggers/s | bare workflows/s | Herald / bare | to 95% done: Herald / bare per s (ratio) | rounds (per s), in run order | Herald deliveries/s | delivered to outbox | not sent | Herald accept p50 / p99 ms (under load) |',
    '|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|',
    ...pairs.map((p) => {
      const runs = p.ceilingRounds ? [p.rounds[0], p.rounds[1], ...p.ceilingRounds, p.rounds[2], p.rounds[3]] : p.rounds;
      return `| ${p.recipients} | ${p.herald.triggers} | ${fmt(p.herald.perSecond)} | ${fmt(p.bare.perSecond)} | ${fmt((100 * p.herald.perSecond) / p.bare.perSecond, 0)}% | ${fmt(p.herald.perSecond95)} / ${fmt(p.bare.perSecond95)} (${fmt((100 * p.herald.perSecond95) / p.bare.perSecond95, 0)}%) | ${p.order}: ${runs.map((r) => fmt(r ?? Number.NaN)).join(', ')} | ${fmt(p.herald.perSecond * p.recipients)} | ${p.herald.delivered} / ${p.herald.triggers * p.recipients} | ${p.herald.failedRecipients} | ${fmt(summarize(p.herald.latencies).p50)} / ${fmt(summarize(p.herald.latencies).p99)} |`;
    }),
    '',
    'Rates are executions over the time from the first call to the last execution finished; "to 95% done" counts the first 95% over the time until the last of them finished, which one straggler (a workflow task that waits seconds in the server\'s matching before a poller takes it, seen on the dev server and the cluster alike) does not move. Short runs (BENCH_SCALE < 1) are at its mercy.',
    '',
  );
  const withCeiling = pairs.filter((p) => p.ceiling);
  if (withCeiling.length > 0) {
    out.push(
      'The ceiling: bare workflows of ONE no-op local activity (bench/bare-workflow.ts, shape one-local-activity) on the same server, run between the others (C in the run order): one workflow per trigger can go no faster here. Herald as a fraction of it:',
      '',
      "| recipients/call | Herald triggers/s | ceiling workflows/s | Herald / ceiling | Herald / ceiling, to 95% done | bare (Herald's shape) / ceiling | ceiling CPU ms / workflow (worker + Temporal) | Herald history events / trigger | ceiling history events |",
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...withCeiling.map((p) => {
        const c = p.ceiling!;
        return `| ${p.recipients} | ${fmt(p.herald.perSecond)} | ${fmt(c.perSecond)} | ${fmt((100 * p.herald.perSecond) / c.perSecond, 0)}% | ${fmt((100 * p.herald.perSecond95) / c.perSecond95, 0)}% | ${fmt((100 * p.bare.perSecond) / c.perSecond, 0)}% | ${fmt(msPer(c.cpu.bareWorker + c.cpu.temporal, c.triggers))} | ${p.heraldHistory?.events ?? 'n/a'} | ${p.ceilingHistory?.events ?? 'n/a'} |`;
      }),
      '',
    );
  }
  out.push(
    `CPU seconds per 1,000 triggers, by process kind${replicas > 1 ? ' (summed over the replicas)' : ''} (utime+stime deltas from /proc/<pid>/stat over the run${pg ? "; PostgreSQL: Herald's server, its postmaster and every backend" : ''}):`,
    '',
    '| recipients/call | Herald: API | Herald: worker | Herald: PostgreSQL | Herald: Temporal server | Herald: load gen | Herald total | bare: worker | bare: Temporal server | bare: load gen | bare total |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...pairs.map((p) => {
      const h = p.herald;
      const b = p.bare;
      return `| ${p.recipients} | ${per1k(h.cpu.api, h.triggers)} | ${per1k(h.cpu.worker, h.triggers)} | ${pg ? per1k(h.cpu.postgres, h.triggers) : '–'} | ${per1k(h.cpu.temporal, h.triggers)} | ${per1k(h.loadgenCpu, h.triggers)} | ${per1k(heraldCpu(h.cpu) + h.loadgenCpu, h.triggers)} | ${per1k(b.cpu.bareWorker, b.triggers)} | ${per1k(b.cpu.temporal, b.triggers)} | ${per1k(b.loadgenCpu, b.triggers)} | ${per1k(b.cpu.bareWorker + b.cpu.temporal + b.loadgenCpu, b.triggers)} |`;
    }),
    '',
    `CPU cost ratio, which background load on the machine disturbs far less than throughput: bare CPU per trigger (its worker + Temporal server) over Herald CPU per trigger (API + worker + ${pg ? 'PostgreSQL + ' : ''}Temporal server); 100% would mean Herald adds nothing.`,
    '',
    '| recipients/call | Herald CPU ms / trigger | bare CPU ms / trigger | bare / Herald (CPU) |',
    '|---:|---:|---:|---:|',
    ...pairs.map((p) => {
      const h = msPer(heraldCpu(p.herald.cpu), p.herald.triggers);
      const b = msPer(p.bare.cpu.bareWorker + p.bare.cpu.temporal, p.bare.triggers);
      return `| ${p.recipients} | ${fmt(h)} | ${fmt(b)} | ${fmt((100 * b) / h, 0)}% |`;
    }),
    '',
    'History per execution (first execution of each run; events = history events per trigger):',
    '',
    '| recipients/call | Herald events | Herald bytes | Herald workflow tasks | Herald markers | Herald payloads encrypted / plain | bare events | bare bytes | bare workflow tasks | bare markers | bare payloads encrypted / plain |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...pairs.map(
      (p) =>
        `| ${p.recipients} | ${p.heraldHistory?.events ?? 'n/a'} | ${p.heraldHistory?.bytes ?? 'n/a'} | ${p.heraldHistory?.workflowTasks ?? 'n/a'} | ${p.heraldHistory?.markers ?? 'n/a'} | ${p.heraldHistory ? `${p.heraldHistory.encryptedPayloads} / ${p.heraldHistory.plainPayloads}` : 'n/a'} | ${p.bareHistory?.events ?? 'n/a'} | ${p.bareHistory?.bytes ?? 'n/a'} | ${p.bareHistory?.workflowTasks ?? 'n/a'} | ${p.bareHistory?.markers ?? 'n/a'} | ${p.bareHistory ? `${p.bareHistory.encryptedPayloads} / ${p.bareHistory.plainPayloads}` : 'n/a'} |`,
    ),
    '',
    'Search attributes stay plain by design (the server indexes them); every other payload is encrypted when the codec is on.',
    '',
  );
  return out;
}

/** The end-to-end targets: Herald at ≥ 70% of bare Temporal, and where it stands against the ceiling. */
export function endToEndTargets(pairs: Pair[]): string[] {
  const targets: string[] = [];
  for (const p of pairs) {
    const ratio = p.herald.perSecond / p.bare.perSecond;
    const hCpu = heraldCpu(p.herald.cpu) / p.herald.triggers;
    const bareCpu = (p.bare.cpu.bareWorker + p.bare.cpu.temporal) / p.bare.triggers;
    targets.push(
      `- End to end ≥ 70% of bare Temporal, ${p.recipients} recipient(s)/call: ${fmt(100 * ratio, 0)}% by throughput (${fmt(p.herald.perSecond)} vs ${fmt(p.bare.perSecond)} per s; to 95% done ${fmt((100 * p.herald.perSecond95) / p.bare.perSecond95, 0)}%) → ${ratio >= 0.7 ? 'MET' : 'MISSED'}; ${fmt((100 * bareCpu) / hCpu, 0)}% by CPU per trigger → ${bareCpu / hCpu >= 0.7 ? 'MET' : 'MISSED'}`,
    );
    if (p.ceiling)
      targets.push(
        `- End to end as a fraction of the ceiling (one no-op local activity per workflow), ${p.recipients} recipient(s)/call: ${fmt((100 * p.herald.perSecond) / p.ceiling.perSecond, 0)}% (${fmt(p.herald.perSecond)} vs ${fmt(p.ceiling.perSecond)} per s; to 95% done ${fmt((100 * p.herald.perSecond95) / p.ceiling.perSecond95, 0)}%)`,
      );
  }
  return targets;
}
