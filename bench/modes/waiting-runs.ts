// Section waiting-runs (issue 20: "a long wait must not pin memory"): a live campaign whose steps
// are [delay PT1H, send], 10,000 unitary triggers (× BENCH_SCALE) over HTTP at concurrency 16, and
// the worker's memory as the runs come to wait: RSS from /proc and, through
// bench/worker-memory-probe.ts (loaded into the worker for this section), the V8 heaps of its main
// thread and of the SDK's workflow thread, where the sticky cache keeps workflows, with the cache's
// size and limit (maxCachedWorkflows). Samples: before the first trigger, each time the number of
// runs waiting in the delay passes a tenth (and a quarter, three quarters) of the triggers, then
// every 5 s for a minute once all wait. The hour is never waited out: the runs stay behind on the
// stack's dev server, which stops with the bench.
import type { CampaignStep } from '../../src/domain/campaign-steps';
import { cpuSeconds, memory } from '../proc';
import { liveCampaign } from '../herald-api';
import { startLoad } from '../load-process';
import type { LoadResult } from '../loadgen';
import type { BenchSettings } from '../settings';
import type { Stack } from '../stack';
import { countOf, dbOf } from '../stack-database';
import { fmt, summarize } from '../stats';
import { heraldE2e } from './end-to-end';
import { readWorkerMemory, type WorkerMemoryReading } from '../worker-memory';

export const WAITING_STEPS: readonly CampaignStep[] = [
  { id: 'wait', type: 'delay', duration: 'PT1H' },
  { id: 'send', type: 'send' },
];
const CONCURRENCY = 16;
const TRIGGERS = 10_000;
/** Long enough for 10,000 accepts on a busy 2-core machine; the load generator stops there. */
const LOAD_MAX_MS = 20 * 60_000;
/** After the last accept, how long the runs get to reach their delay. */
const FILL_TIMEOUT_MS = 15 * 60_000;
const SETTLE_MS = 60_000;
const SETTLE_EVERY_MS = 5_000;
const POLL_MS = 500;
const IDLE_BEFORE_MS = 5_000;
const WARM_UP_TRIGGERS = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface WaitingSample {
  phase: 'before' | 'filling' | 'settle';
  /** The mark the sample was taken for (filling: runs waiting; settle: seconds after all waited). */
  mark: number;
  /** Seconds since the first trigger call (0 before it). */
  seconds: number;
  /** Executions of the campaign accepted so far, and runs showing a waiting delay step. */
  executions: number;
  waiting: number;
  worker: WorkerMemoryReading;
  temporalRssMiB: number;
}

export interface WaitingRunsResult {
  triggers: number;
  accepted: number;
  failed: number;
  firstError?: string;
  /** From the first call to the last answer. */
  acceptSeconds: number;
  acceptedPerSecond: number;
  latencies: number[];
  /** From the first call until every accepted run showed a waiting delay step; undefined if they did not within the timeout. */
  allWaitingSeconds?: number;
  waitingAtEnd: number;
  samples: WaitingSample[];
  /** Worker CPU seconds: while the triggers came and the runs reached their delay, and over the settle minute. */
  workerCpuFilling: number;
  workerCpuSettle: number;
  workerPeakRssMiB: number;
  settleSeconds: number;
  /** Runs the orphan sweep had checked against Temporal by the end (workflow_checked_at set). */
  lookedAtBySweep: number;
}

export async function waitingRuns(bench: BenchSettings, stack: Stack): Promise<WaitingRunsResult> {
  const { log } = bench;
  const worker = stack.parts.workers[0]!;
  const triggers = bench.scaled(TRIGGERS);
  const marks = [...new Set([0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1].map((f) => Math.round(f * triggers)))];
  const campaignId = await liveCampaign(stack, 'bench waiting runs', WAITING_STEPS);
  const db = dbOf(stack);
  const counts = async () => {
    const executions = await countOf(
      db
        .selectFrom('executions')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('campaign_id', '=', campaignId),
    );
    const waiting = await countOf(
      db
        .selectFrom('execution_steps as s')
        .innerJoin('executions as e', 'e.id', 's.execution_id')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('e.campaign_id', '=', campaignId)
        .where('s.type', '=', 'delay')
        .where('s.status', '=', 'waiting'),
    );
    return { executions, waiting };
  };
  /** When the first trigger call went out; samples before it count from the sample itself. */
  let t0: number | undefined;
  const temporalPid = stack.temporalPids()[0];
  const sample = async (phase: WaitingSample['phase'], mark: number, known?: { executions: number; waiting: number }): Promise<WaitingSample> => {
    const now = known ?? (await counts());
    return {
      phase,
      mark,
      seconds: t0 === undefined ? 0 : (Date.now() - t0) / 1000,
      ...now,
      worker: readWorkerMemory(stack.dataDir, worker.pid),
      temporalRssMiB: temporalPid ? (memory(temporalPid)?.rssMiB ?? Number.NaN) : Number.NaN,
    };
  };

  // As every mode warms its stack: JIT, pools, and the garbage of the worker's start-up (bundling
  // the workflows) collected, so that "before" is a worker at work, not one just started. Step-less
  // runs close at once and leave nothing in the sticky cache.
  log(`warm-up: ${WARM_UP_TRIGGERS} step-less triggers (not reported) ...`);
  await heraldE2e(bench, stack, 'waiting-warmup', 1, WARM_UP_TRIGGERS, { kind: 'unique', prefix: `${bench.runId}-waiting-warm` });
  await sleep(IDLE_BEFORE_MS);
  const samples: WaitingSample[] = [await sample('before', 0)];
  const first = samples[0]!.worker.probe;
  if (!first) log('warning: no sample from the worker memory probe; heaps and the cache will be n/a');
  else
    log(
      `worker before: RSS ${fmt(samples[0]!.worker.rssMiB, 0)} MiB, heap main ${fmt(first.mainHeapUsedMiB, 0)} / workflow thread ${fmt(first.threadHeapUsedMiB, 0)} MiB; maxCachedWorkflows ${first.maxCachedWorkflows ?? 'n/a'}${first.maxCachedWorkflowsOverridden ? ' (BENCH_WORKER_MAX_CACHED_WORKFLOWS)' : " (the SDK's default)"}`,
    );

  log(`waiting runs: ${triggers} triggers of [delay PT1H, send] at concurrency ${CONCURRENCY} ...`);
  const cpuBefore = cpuSeconds(worker.pid);
  const load = startLoad(stack, {
    mode: 'http',
    ports: stack.apiPorts,
    campaignId,
    recipients: 1,
    concurrency: CONCURRENCY,
    maxCalls: triggers,
    maxMs: LOAD_MAX_MS,
    requestPrefix: `${bench.runId}-waiting`,
    users: { kind: 'unique', prefix: `${bench.runId}-waiting` },
  });
  const firstCallAt = await load.started;
  t0 = firstCallAt;
  let loadResult: LoadResult | undefined;
  let loadFailed = false;
  load.result.then(
    (r) => (loadResult = r),
    () => (loadFailed = true),
  );
  let next = 0;
  let lastLog = 0;
  let allWaitingAt: number | undefined;
  let fillDeadline = Date.now() + LOAD_MAX_MS + FILL_TIMEOUT_MS;
  let now = { executions: 0, waiting: 0 };
  for (;;) {
    now = await counts();
    while (next < marks.length && now.waiting >= marks[next]!) samples.push(await sample('filling', marks[next++]!, now));
    if (Date.now() - lastLog > 15_000) {
      lastLog = Date.now();
      const reading = readWorkerMemory(stack.dataDir, worker.pid);
      log(`  ${now.executions} accepted, ${now.waiting} waiting; worker RSS ${fmt(reading.rssMiB, 0)} MiB, cache ${reading.probe?.cachedWorkflows ?? 'n/a'}`);
    }
    if (loadResult && now.waiting >= loadResult.ok) {
      allWaitingAt = Date.now();
      break;
    }
    if (loadFailed || Date.now() > fillDeadline) break;
    if (loadResult && fillDeadline > Date.now() + FILL_TIMEOUT_MS) fillDeadline = Date.now() + FILL_TIMEOUT_MS;
    await sleep(POLL_MS);
  }
  const result = loadResult ?? (await load.result);
  if (result.failed > 0) log(`${result.failed} trigger calls failed, e.g. ${result.firstError}`);
  // The last mark is the number accepted, when calls failed or the load stopped at its deadline.
  if (allWaitingAt !== undefined && !samples.some((s) => s.phase === 'filling' && s.mark === now.waiting))
    samples.push(await sample('filling', now.waiting, now));
  const cpuFilled = cpuSeconds(worker.pid);
  if (allWaitingAt === undefined) log(`only ${now.waiting} of ${result.ok} runs reached their delay in time`);
  else log(`all ${now.waiting} runs waiting after ${fmt((allWaitingAt - firstCallAt) / 1000)} s; a minute of settling ...`);

  const settleStart = Date.now();
  for (let k = 1; k * SETTLE_EVERY_MS <= SETTLE_MS; k++) {
    await sleep(settleStart + k * SETTLE_EVERY_MS - Date.now());
    samples.push(await sample('settle', (k * SETTLE_EVERY_MS) / 1000));
  }
  const settleSeconds = (Date.now() - settleStart) / 1000;
  const cpuSettled = cpuSeconds(worker.pid);
  // npm start's orphan sweep looks at running executions older than 2 minutes, each once per 10 minutes.
  const lookedAtBySweep = await countOf(
    db
      .selectFrom('executions')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('campaign_id', '=', campaignId)
      .where('workflow_checked_at', 'is not', null),
  );
  const last = samples.at(-1)!;
  log(`  after the settle minute: worker RSS ${fmt(last.worker.rssMiB, 0)} MiB, ${last.waiting} waiting`);
  return {
    triggers,
    accepted: result.ok,
    failed: result.failed,
    ...(result.firstError && { firstError: result.firstError }),
    acceptSeconds: (result.finishedAt - result.startedAt) / 1000,
    acceptedPerSecond: result.ok / ((result.finishedAt - result.startedAt) / 1000),
    latencies: result.latencies,
    ...(allWaitingAt !== undefined && { allWaitingSeconds: (allWaitingAt - firstCallAt) / 1000 }),
    waitingAtEnd: last.waiting,
    samples,
    workerCpuFilling: cpuFilled - cpuBefore,
    workerCpuSettle: cpuSettled - cpuFilled,
    workerPeakRssMiB: memory(worker.pid)?.peakRssMiB ?? Number.NaN,
    settleSeconds,
    lookedAtBySweep,
  };
}

export function waitingRunsReport(r: WaitingRunsResult): string[] {
  const probe = r.samples.find((s) => s.worker.probe?.maxCachedWorkflows !== undefined)?.worker.probe;
  const mib = (n: number | undefined) => (n === undefined ? 'n/a' : fmt(n, 0));
  const row = (s: WaitingSample) => {
    const p = s.worker.probe;
    const label = s.phase === 'before' ? 'before the first trigger' : s.phase === 'filling' ? `${s.mark.toLocaleString('en')} waiting` : `settle +${s.mark} s`;
    return `| ${label} | ${s.phase === 'before' ? '–' : fmt(s.seconds, 0)} | ${s.executions.toLocaleString('en')} | ${s.waiting.toLocaleString('en')} | ${mib(s.worker.rssMiB)} | ${mib(p?.mainHeapUsedMiB)} / ${mib(p?.mainHeapTotalMiB)} | ${mib(p?.threadHeapUsedMiB)} / ${mib(p?.threadHeapTotalMiB)} | ${p?.cachedWorkflows ?? 'n/a'} | ${mib(s.temporalRssMiB)} |`;
  };
  const lat = summarize(r.latencies);
  return [
    "## Waiting runs: 10,000 triggers of [delay PT1H, send], the worker's memory as they wait",
    '',
    `A transactional email campaign with steps \`[{ delay PT1H }, { send }]\`, ${r.triggers.toLocaleString('en')} unitary triggers of 1 recipient over HTTP at concurrency ${CONCURRENCY}. "Waiting" counts the runs whose delay step shows \`waiting\` in Herald's database (execution_steps). RSS is the worker process's (/proc, VmRSS); heaps are V8's used / total, from inside the worker (bench/worker-memory-probe.ts): the main thread, and the workflow thread where the sticky cache keeps workflows. The runs are left waiting when the bench stops.`,
    '',
    `- Accepted: ${r.accepted.toLocaleString('en')} of ${r.triggers.toLocaleString('en')} (${r.failed} failed${r.firstError ? `, e.g. ${r.firstError}` : ''}) in ${fmt(r.acceptSeconds)} s: **${fmt(r.acceptedPerSecond)} triggers/s**, accept p50 / p99 ${fmt(lat.p50)} / ${fmt(lat.p99)} ms.`,
    `- All waiting in their delay: ${r.allWaitingSeconds === undefined ? `**not within the timeout** (${r.waitingAtEnd.toLocaleString('en')} at the end)` : `**${fmt(r.allWaitingSeconds)} s** after the first call (${fmt(r.accepted / r.allWaitingSeconds)} runs/s)`}.`,
    `- Worker sticky cache: maxCachedWorkflows **${probe?.maxCachedWorkflows ?? 'n/a'}** (${probe?.maxCachedWorkflowsOverridden ? 'set by BENCH_WORKER_MAX_CACHED_WORKFLOWS' : `the SDK's default for a ${mib(probe?.heapLimitMiB)} MiB heap limit, (limit − 200) × 600 / 1024`}), ${probe?.threads ?? 'n/a'} workflow thread(s).`,
    `- Worker CPU: ${fmt(r.workerCpuFilling)} s while the runs came to wait (${fmt((1000 * r.workerCpuFilling) / Math.max(1, r.accepted))} ms per run), ${fmt(r.workerCpuSettle)} s over the ${fmt(r.settleSeconds, 0)} s settle; by the end the orphan sweep had checked ${r.lookedAtBySweep.toLocaleString('en')} of the runs against Temporal. Peak RSS (VmHWM) ${mib(r.workerPeakRssMiB)} MiB.`,
    '',
    '| when | s since the first call | executions accepted | waiting | worker RSS MiB | main heap used / total MiB | workflow thread heap used / total MiB | workflows cached | Temporal dev server RSS MiB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.samples.map(row),
    '',
  ];
}
