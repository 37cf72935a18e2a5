// Section high-throughput (issue 23, ADR 0010), only when named: a `"throughput": "high"` email
// campaign (outbox provider) triggered over HTTP while the worker's dispatchers drain it, side by
// side with the standard path and the ceiling on the same server in the same run:
// - the standard path first: e2e's pair at 1 recipient with the ceiling (H B C C B H, 16 callers,
//   worker running), whose Herald calls give the standard accept p99 at 16 callers;
// - the headline: 20,000 one-recipient triggers (× BENCH_SCALE) from 64 callers: accept rate and
//   latency, and end to end from the first call to the last message in the outbox (the outbox's
//   row count polled in the database, its newest created_at the end);
// - growth: callers 16, 64, 256 at 1 recipient per call (2,000 calls each) and at 20 (500 calls
//   each, 10,000 messages): smaller than the headline, to keep the section to minutes.
// BENCH_HT_HEADLINE_ONLY=1 runs the headline alone, for quick rounds while tuning.
// The issue asks for the per-key rate limit raised: the stack's APIs run with the default (500
// calls/s per caller, which would cap the run), so this section starts an API process of its own,
// as the stack starts its trigger API (same allow list, database, Temporal, task queue and payload
// key) plus HERALD_RATE_LIMIT, and stops it at the end. Load generator: bench/loadgen.ts, its own
// process, keep-alive connections (one socket per caller).
// What bounds each figure: CPU seconds by process kind over the run (/proc), as cores busy
// (CPU s / wall s) and per 1,000 triggers, and the accept path's group commits, counted as the
// distinct created_at of the run's executions (one timestamp per group, durable-claims.ts).
import { DEFAULT_HIGH_THROUGHPUT_PARTITIONS } from '../../src/domain/high-throughput';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { childEnvironment } from '../../src/entry/child-environments';
import { stopChild } from '../../src/entry/stop-child';
import { cpuDelta, cpuSnapshot, type CpuSnapshot } from '../cpu';
import { api } from '../herald-api';
import { startLoad } from '../load-process';
import type { LoadResult } from '../loadgen';
import { cpuSeconds, treeCpuSeconds } from '../proc';
import type { BenchSettings } from '../settings';
import { repoRoot, TASK_QUEUE, type Stack } from '../stack';
import { countOf, dbOf } from '../stack-database';
import { fmt, summarize, type LatencySummary } from '../stats';
import { endToEndReport, pair, type Pair } from './end-to-end';

/** Far above any rate this machine reaches: the limiter stays in the path, it never refuses. */
const RAISED_RATE_LIMIT = '1000000';
/** The CPU-profile subdirectory of the raised-limit API (--profile). */
export const HIGH_THROUGHPUT_API_PROFILE = 'high-throughput-api';
/** After the last accept, how long the dispatchers get to empty the queue. */
const DRAIN_TIMEOUT_MS = 300_000;
const HEADLINE = { callers: 64, recipients: 1, calls: 20_000 };
const GROWTH_CALLERS = [16, 64, 256];
const GROWTH_CALLS: Record<number, number> = { 1: 2_000, 20: 500 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The whole machine's CPU so far (/proc/stat, all cores, in USER_HZ ticks): busy, and waiting on
 * the disk (iowait). The machine is shared: what the stack's processes leave of the 2 cores is
 * what other work took.
 */
function machineTicks(): { busy: number; iowait: number; total: number } {
  const [user, nice, system, idle, iowait, ...rest] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number) as number[];
  const total = [user!, nice!, system!, idle!, iowait!, ...rest.slice(0, 3)].reduce((sum, n) => sum + n, 0);
  return { busy: total - idle! - iowait!, iowait: iowait!, total };
}

export interface HighThroughputRun {
  callers: number;
  recipients: number;
  /** Calls answered 202. */
  accepted: number;
  failed: number;
  /** From the first call out to the last answer. */
  acceptSeconds: number;
  acceptPerSecond: number;
  latency: LatencySummary;
  /** Messages in the outbox for the run's campaign, and the time from the first call to the newest of them. */
  messages: number;
  endToEndSeconds: number;
  /** Triggers (calls) per second end to end. */
  endToEndPerSecond: number;
  messagesPerSecond: number;
  /** Group commits of the accept path (distinct created_at of the run's executions). */
  groupCommits: number;
  /** CPU seconds over the whole run (first call to last message); the raised-limit API apart from the stack's. */
  cpu: CpuSnapshot & { highThroughputApi: number; renderers: number; loadgen: number };
  /** The whole machine over the run, in cores (of all it has): busy, and idle waiting on the disk. */
  machineBusyCores: number;
  machineIowaitCores: number;
  timedOut: boolean;
}

export interface HighThroughputResult {
  /** The standard path, same server, same run: Herald, bare and the ceiling at 1 recipient, 16 callers (absent with BENCH_HT_HEADLINE_ONLY). */
  standard?: Pair;
  headline: HighThroughputRun;
  growth: HighThroughputRun[];
  /** HERALD_HIGH_THROUGHPUT_PARTITIONS of the stack (BENCH_HT_PARTITIONS), absent when the default. */
  partitions?: number;
}

/** The worker's render processes (src/rendering/template-renderer.ts), which the worker's own /proc figures leave out. */
const renderersCpu = (stack: Stack) => stack.parts.workers.reduce((sum, { pid }) => sum + treeCpuSeconds(pid) - cpuSeconds(pid), 0);

/** An API process as the stack's trigger API, with the per-key rate limit raised. */
async function startRaisedLimitApi(stack: Stack, port: number): Promise<ChildProcess> {
  const parent = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(HERALD_|TEMPORAL_|RESEND_|DATABASE_URL$|PORT$|HOST$)/.test(key)));
  const env = childEnvironment('api', parent, {
    HERALD_DATA_DIR: stack.dataDir,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    HOST: '127.0.0.1',
    PORT: String(port),
    HERALD_EMAIL_PROVIDER: 'outbox',
    HERALD_RATE_LIMIT: RAISED_RATE_LIMIT,
    ...(stack.payloadKeys && { HERALD_PAYLOAD_KEYS: stack.payloadKeys }),
    ...(stack.database.dialect === 'postgres' && { DATABASE_URL: stack.database.url }),
    ...(stack.options.highThroughputPartitions !== undefined && { HERALD_HIGH_THROUGHPUT_PARTITIONS: String(stack.options.highThroughputPartitions) }),
  });
  // --profile: its CPU profile beside the stack's (bench/topology-loop.ts summarises the directory).
  const { cpuProfDir } = stack.options;
  const prof = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${join(cpuProfDir, HIGH_THROUGHPUT_API_PROFILE)}`] : [];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', join(repoRoot, 'src/entry/api.ts')], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(join(stack.dataDir, 'high-throughput-api.log'));
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  child.once('exit', () => log.end());
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`the high-throughput API exited (code ${child.exitCode}); see ${stack.dataDir}/high-throughput-api.log`);
    const healthy = await fetch(`http://127.0.0.1:${port}/health`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (healthy) return child;
    await sleep(200);
  }
  child.kill('SIGKILL');
  throw new Error(`the high-throughput API on port ${port} was not healthy within 60 s`);
}

/**
 * A live high-throughput email campaign rendering from the call's context only, created through
 * the raised-limit API: on PostgreSQL a key has one shared count whatever the rate, so the stack's
 * API (500 calls/s) may refuse it right after a run of the same key through the raised one.
 */
async function liveHighThroughputCampaign(port: number, name: string): Promise<string> {
  const created = await api<{ id: string }>(port, 'POST', '/v1/campaigns', {
    name,
    type: 'transactional',
    channel: 'email',
    throughput: 'high',
    content: { subject: 'Your code', html: '<p>Your code is <b>{{ context.code }}</b>.</p>', text: 'Code {{ context.code }}' },
    audience: { namespace: 'email', createMissingProfiles: false },
  });
  await api(port, 'POST', `/v1/campaigns/${created.id}/activate`);
  return created.id;
}

async function highThroughputRun(
  bench: BenchSettings,
  stack: Stack,
  apiProcess: ChildProcess,
  port: number,
  label: string,
  run: { callers: number; recipients: number; calls: number },
): Promise<HighThroughputRun> {
  const { log, runId } = bench;
  const campaignId = await liveHighThroughputCampaign(port, `bench ${label}`);
  const db = dbOf(stack);
  const outbox = () => db.selectFrom('outbox').where('campaign_id', '=', campaignId);
  const before = cpuSnapshot(stack);
  const machineBefore = machineTicks();
  const apiBefore = cpuSeconds(apiProcess.pid!);
  const renderersBefore = renderersCpu(stack);
  const load = startLoad(stack, {
    mode: 'http',
    ports: [port],
    campaignId,
    recipients: run.recipients,
    concurrency: run.callers,
    maxCalls: run.calls,
    maxMs: 600_000,
    requestPrefix: `${runId}-${label}`,
    users: { kind: 'unique', prefix: `${runId}-${label}` },
  });
  const t0 = await load.started;
  let result: LoadResult | undefined;
  let loadFailed: unknown;
  load.result.then(
    (r) => (result = r),
    (error: unknown) => (loadFailed = error),
  );
  let messages = 0;
  let drainUntil = Number.POSITIVE_INFINITY;
  for (;;) {
    messages = await countOf(outbox().select((eb) => eb.fn.countAll().as('n')));
    if (loadFailed) throw loadFailed;
    if (result && drainUntil === Number.POSITIVE_INFINITY) drainUntil = Date.now() + DRAIN_TIMEOUT_MS;
    if (result && messages >= result.ok * run.recipients) break;
    if (Date.now() > drainUntil) break;
    await sleep(200);
  }
  const after = cpuSnapshot(stack);
  const machineAfter = machineTicks();
  const cores = (ticks: number) => (ticks / (machineAfter.total - machineBefore.total)) * cpus().length;
  const apiCpu = cpuSeconds(apiProcess.pid!) - apiBefore;
  const renderers = renderersCpu(stack) - renderersBefore;
  const done = result!;
  const newest = await outbox()
    .select((eb) => eb.fn.max('created_at').as('last'))
    .executeTakeFirstOrThrow();
  const groupCommits = await countOf(
    db
      .selectFrom('executions')
      .select((eb) => eb.fn.count('created_at').distinct().as('n'))
      .where('campaign_id', '=', campaignId),
  );
  const endToEndSeconds = ((newest.last ? Date.parse(newest.last) : Date.now()) - t0) / 1000;
  const acceptSeconds = (done.finishedAt - done.startedAt) / 1000;
  const timedOut = messages < done.ok * run.recipients;
  if (done.failed > 0) log(`${label}: ${done.failed} calls failed, e.g. ${done.firstError}`);
  if (timedOut) log(`${label}: only ${messages} of ${done.ok * run.recipients} messages in the outbox within ${DRAIN_TIMEOUT_MS / 1000} s of the last accept`);
  const row: HighThroughputRun = {
    ...run,
    accepted: done.ok,
    failed: done.failed,
    acceptSeconds,
    acceptPerSecond: done.ok / acceptSeconds,
    latency: summarize(done.latencies),
    messages,
    endToEndSeconds,
    endToEndPerSecond: messages / run.recipients / endToEndSeconds,
    messagesPerSecond: messages / endToEndSeconds,
    groupCommits,
    cpu: { ...cpuDelta(before, after), highThroughputApi: apiCpu, renderers, loadgen: done.cpuSeconds },
    machineBusyCores: cores(machineAfter.busy - machineBefore.busy),
    machineIowaitCores: cores(machineAfter.iowait - machineBefore.iowait),
    timedOut,
  };
  log(
    `  ${label}: accepted ${row.accepted} at ${fmt(row.acceptPerSecond, 0)}/s (p50 ${fmt(row.latency.p50)} p99 ${fmt(row.latency.p99)} ms, ${groupCommits} group commits); ${messages} messages end to end at ${fmt(row.messagesPerSecond, 0)}/s`,
  );
  return row;
}

export async function highThroughput(bench: BenchSettings, stack: Stack, client: Client): Promise<HighThroughputResult> {
  const { log, scaled } = bench;
  // BENCH_HT_HEADLINE_ONLY=1: the headline alone, for quick rounds while tuning (the targets need the whole section).
  const headlineOnly = process.env.BENCH_HT_HEADLINE_ONLY === '1';
  if (!headlineOnly) log('standard path, same server: the 1-recipient pair with the ceiling ...');
  const standard = headlineOnly ? undefined : await pair(bench, stack, client, 1, scaled(600), true);
  const port = bench.portBase + 100;
  log(`starting an API with HERALD_RATE_LIMIT=${RAISED_RATE_LIMIT} on port ${port} ...`);
  const apiProcess = await startRaisedLimitApi(stack, port);
  try {
    log('high-throughput warm-up: 1,000 calls at 64 callers (not reported) ...');
    await highThroughputRun(bench, stack, apiProcess, port, 'ht-warm', { callers: 64, recipients: 1, calls: 1_000 });
    log(`high-throughput headline: ${scaled(HEADLINE.calls)} one-recipient triggers from ${HEADLINE.callers} callers, worker draining ...`);
    const headline = await highThroughputRun(bench, stack, apiProcess, port, 'ht-headline', { ...HEADLINE, calls: scaled(HEADLINE.calls) });
    const growth: HighThroughputRun[] = [];
    if (headlineOnly)
      return {
        ...(standard && { standard }),
        headline,
        growth,
        ...(stack.options.highThroughputPartitions !== undefined && { partitions: stack.options.highThroughputPartitions }),
      };
    for (const recipients of [1, 20])
      for (const callers of GROWTH_CALLERS)
        growth.push(
          await highThroughputRun(bench, stack, apiProcess, port, `ht-r${recipients}-c${callers}`, {
            callers,
            recipients,
            calls: scaled(GROWTH_CALLS[recipients]!),
          }),
        );
    return {
      ...(standard && { standard }),
      headline,
      growth,
      ...(stack.options.highThroughputPartitions !== undefined && { partitions: stack.options.highThroughputPartitions }),
    };
  } finally {
    await stopChild(apiProcess, 20_000);
  }
}

const cores = (cpuSecondsUsed: number, seconds: number) => fmt(cpuSecondsUsed / seconds, 2);
const per1kTriggers = (cpuSecondsUsed: number, run: HighThroughputRun) => fmt((1000 * cpuSecondsUsed) / run.accepted, 2);

/** The section's tables, the standard pair's first; pg: Herald's data in PostgreSQL. */
export function highThroughputReport(result: HighThroughputResult, replicas: number, pg: boolean): string[] {
  const rows = [result.headline, ...result.growth];
  const name = (r: HighThroughputRun) => (r === result.headline ? 'headline' : 'growth');
  return [
    '## High-throughput campaigns (issue 23): the standard path first, same server, same run',
    '',
    ...(result.standard ? endToEndReport([result.standard], replicas, pg) : ['(not measured: BENCH_HT_HEADLINE_ONLY)', '']),
    '## High-throughput campaigns (issue 23): accept and end to end',
    '',
    `One \`"throughput": "high"\` email campaign per row (outbox provider), triggered over HTTP through an API with HERALD_RATE_LIMIT=${RAISED_RATE_LIMIT} while the worker's dispatchers drain; keep-alive connections, one per caller, load generator in its own process. End to end: from the first call to the newest outbox row of the campaign (the count polled in the database every 200 ms). Group commits: distinct created_at of the run's executions (one per synced transaction of the accept path). Dispatcher partitions: ${result.partitions ?? `${DEFAULT_HIGH_THROUGHPUT_PARTITIONS} (the default)`}.`,
    '',
    '| row | callers | recipients/call | calls OK | errors | accept calls/s | p50 ms | p95 ms | p99 ms | max ms | group commits (calls each) | messages | end to end triggers/s | messages/s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${name(r)} | ${r.callers} | ${r.recipients} | ${r.accepted} | ${r.failed} | ${fmt(r.acceptPerSecond, 0)} | ${fmt(r.latency.p50)} | ${fmt(r.latency.p95)} | ${fmt(r.latency.p99)} | ${fmt(r.latency.max)} | ${r.groupCommits} (${fmt(r.accepted / r.groupCommits)}) | ${r.messages}${r.timedOut ? ' (timed out)' : ''} | ${fmt(r.endToEndPerSecond, 0)} | ${fmt(r.messagesPerSecond, 0)} |`,
    ),
    '',
    'CPU over each run (first call to last message), as cores busy (CPU s / wall s) and CPU s per 1,000 triggers, by process kind (/proc utime+stime), and the whole machine (/proc/stat: busy, and idle waiting on the disk; 2 cores, shared):',
    '',
    `| row | callers | recipients/call | wall s | machine busy | machine iowait | high-throughput API | worker | worker's render processes | Temporal server | ${pg ? 'PostgreSQL | ' : ''}load gen | API CPU s / 1k | worker CPU s / 1k | render CPU s / 1k | Temporal CPU s / 1k |${pg ? ' PostgreSQL CPU s / 1k |' : ''}`,
    `|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|${pg ? '---:|' : ''}---:|---:|---:|---:|---:|${pg ? '---:|' : ''}`,
    ...rows.map(
      (r) =>
        `| ${name(r)} | ${r.callers} | ${r.recipients} | ${fmt(r.endToEndSeconds)} | ${fmt(r.machineBusyCores, 2)} | ${fmt(r.machineIowaitCores, 2)} | ${cores(r.cpu.highThroughputApi, r.endToEndSeconds)} | ${cores(r.cpu.worker, r.endToEndSeconds)} | ${cores(r.cpu.renderers, r.endToEndSeconds)} | ${cores(r.cpu.temporal, r.endToEndSeconds)} | ${pg ? `${cores(r.cpu.postgres, r.endToEndSeconds)} | ` : ''}${cores(r.cpu.loadgen, r.endToEndSeconds)} | ${per1kTriggers(r.cpu.highThroughputApi, r)} | ${per1kTriggers(r.cpu.worker, r)} | ${per1kTriggers(r.cpu.renderers, r)} | ${per1kTriggers(r.cpu.temporal, r)} |${pg ? ` ${per1kTriggers(r.cpu.postgres, r)} |` : ''}`,
    ),
    '',
  ];
}

/** Issue 23's targets against this stack's figures. */
export function highThroughputTargets(result: HighThroughputResult, pg: boolean): string[] {
  const { headline: h, standard: s } = result;
  const endToEndTarget = pg ? 1_000 : 1_500;
  const met = (ok: boolean) => (ok ? 'MET' : 'MISSED');
  const lines = [
    `- High-throughput accept (${h.accepted} one-recipient triggers, ${h.callers} callers, worker draining, ${pg ? 'PostgreSQL' : 'SQLite'}) ≥ 2,000/s, p99 ≤ 100 ms: ${fmt(h.acceptPerSecond, 0)}/s, p99 ${fmt(h.latency.p99)} ms → ${met(h.acceptPerSecond >= 2_000)}, ${met(h.latency.p99 <= 100)}`,
    `- High-throughput end to end (accepted → in the outbox), ${pg ? 'PostgreSQL' : 'SQLite'} ≥ ${endToEndTarget.toLocaleString('en')}/s: ${fmt(h.endToEndPerSecond, 0)}/s → ${met(h.endToEndPerSecond >= endToEndTarget)}`,
  ];
  if (!s) return [...lines, '- Standard path: not measured (BENCH_HT_HEADLINE_ONLY)'];
  const ceilingFraction = s.ceiling ? s.herald.perSecond / s.ceiling.perSecond : Number.NaN;
  const standardP99 = summarize(s.herald.latencies).p99;
  return [
    ...lines,
    `- Standard path end to end ≥ 0.85 of the ceiling (same server, same run): ${fmt(ceilingFraction, 2)} (${fmt(s.herald.perSecond)} vs ${fmt(s.ceiling?.perSecond ?? Number.NaN)} per s) → ${met(ceilingFraction >= 0.85)}`,
    `- Standard path accept p99 at 16 callers, worker running ≤ 150 ms: ${fmt(standardP99)} ms → ${met(standardP99 <= 150)}`,
  ];
}
