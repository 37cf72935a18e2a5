// `npm run bench [-- <section>...] [--profile] [--keep-data]`
// Sections: accept, e2e, resources, growth (= growth-recipients + growth-profiles), import, all (default).
// import (bench/profile-import.ts): 100,000 profiles (× BENCH_SCALE) through POST /v1/profiles/import, one streamed NDJSON body.
// audience (bench/audience-run.ts): 100,000 profiles (× BENCH_SCALE) imported, then one unthrottled audience run of a
// marketing email campaign to all of them through the outbox provider: total time, messages/s, peak worker RSS.
// executions-list (bench/execution-listing.ts): 1,000,000 executions (× BENCH_SCALE) written straight into the database,
// then GET /v1/executions timed per filter combination: first page and page 200 (via the cursor), median and p95, with the plans.
// Starts its own embedded stack (bench/stack.ts) on non-default ports with a temporary
// HERALD_DATA_DIR and the outbox email provider, runs the sections, prints tables, stops it all.
// BENCH_SCALE (default 1) multiplies every call count, e.g. BENCH_SCALE=0.2 for a smoke run.
// BENCH_TEMPORAL_DB picks how the dev server keeps history: file (default, as npm start: WAL,
// synchronous=full), file-wal-normal, file-rollback (the CLI's default journal) or memory (as the
// tests); a comma list such as file,file-rollback,memory is one of the topology lists below.
// Topologies (each a comma list; every combination runs on a fresh stack, one after the other in
// the order logged at the start, and a side-by-side table ends the run):
//   BENCH_DATABASE  sqlite (default, as npm start) | postgres: Herald's data in a PostgreSQL server
//                   the bench starts itself (test/support/postgres-server.ts), passed as DATABASE_URL.
//   BENCH_REPLICAS  1 (default) | N: N workers on one task queue, N trigger APIs and N accept-only
//                   APIs; the load generator spreads calls round-robin over the APIs. N > 1 needs
//                   PostgreSQL: a combination of sqlite with N > 1 is skipped (and listed as such);
//                   if every combination would be one, the bench refuses to start.
//   BENCH_TEMPORAL  dev (default, the dev server as npm start) | cluster: a real Temporal server on
//                   PostgreSQL through temporal/cluster.ts (bench/stack.ts, startClusterForBench).
//                   BENCH_TEMPORAL_DB applies to dev only.
//   BENCH_ROUNDS    how many times to run the whole list of combinations (default 1); every other
//                   round runs it in reverse (A B C, C B A), so drift weighs on all alike.
// BENCH_PORT_BASE (default 17000): APIs on it and +2, +4 ..., accept-only APIs on +1, +3 ...,
// Temporal on +233.
// BENCH_CODEC: on (default, as npm start: payloads AES-GCM encrypted with a fresh random key, for
// Herald and the bare baseline alike) or off (Temporal's default data converter everywhere).
// BENCH_JSON: where to write the raw results as JSON (default $TMPDIR/herald-bench-<id>.json).
// The e2e section also runs the ceiling, bare workflows of ONE no-op local activity
// (bench/bare-workflow.ts, one-local-activity), and reports Herald's rate as a fraction of it;
// BENCH_CEILING=off leaves it out (bench:compare does, to run every build's pairs alike).
// `npm run bench:compare` (bench/compare-builds.ts) runs this file of two builds side by side.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, freemem, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import * as triggerWorkflow from '../workflows/trigger-execution';
import { executionWorkflowId } from '../workflows/workflow-ids';
import { openDatabase, type HeraldDb } from '../src/db/database';
import type { BareShape } from './bare-workflow';
import type { Load, LoadResult, UserSelection } from './loadgen';
import { summarizeProfiles } from './profile-summary';
import { benchProfileImport, type ProfileImportBenchResult } from './profile-import';
import { benchAudienceRun, type AudienceRunBenchResult } from './audience-run';
import { benchExecutionListing, type ExecutionListingBenchResult } from './execution-listing';
import { cpuSeconds, memory, treeCpuSeconds } from './proc';
import { BARE_TASK_QUEUE, repoRoot, Stack, UNPOLLED_BARE_TASK_QUEUE, type CodecMode, type DatabaseMode, type TemporalDbMode, type TemporalMode } from './stack';
import { fmt, summarize, type LatencySummary } from './stats';

const SECTIONS = ['accept', 'e2e', 'resources', 'growth-recipients', 'growth-profiles', 'import', 'audience', 'executions-list'] as const;
type Section = (typeof SECTIONS)[number];

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const named = args.filter((a) => !a.startsWith('--'));
const unknown = named.filter((a) => !['all', 'growth', ...SECTIONS].includes(a));
if (unknown.length > 0) {
  console.error(`unknown section(s) ${unknown.join(', ')}; use: all, ${SECTIONS.join(', ')}, growth`);
  process.exit(2);
}
const wanted = new Set<Section>(
  named.length === 0 || named.includes('all') ? SECTIONS : named.flatMap((a) => (a === 'growth' ? (['growth-recipients', 'growth-profiles'] as const) : [a as Section])),
);
const SCALE = Number(process.env.BENCH_SCALE ?? '1') || 1;
const scaled = (n: number) => Math.max(10, Math.round(n * SCALE));
const PORT_BASE = Number(process.env.BENCH_PORT_BASE ?? '17000');
const TEMPORAL_DB_TEXT = {
  file: 'in a SQLite file with journal_mode=wal, synchronous=full (as npm start)',
  'file-wal-normal': 'in a SQLite file with journal_mode=wal, synchronous=normal',
  'file-rollback': "in a SQLite file with the CLI's default rollback journal",
  memory: 'in memory (as the tests)',
} as const satisfies Record<TemporalDbMode, string>;
type TemporalDb = keyof typeof TEMPORAL_DB_TEXT;
const TEMPORAL_DBS = (process.env.BENCH_TEMPORAL_DB ?? 'file').split(',').map((mode) => mode.trim()) as TemporalDb[];
const badMode = TEMPORAL_DBS.find((mode) => !(mode in TEMPORAL_DB_TEXT));
if (badMode) {
  console.error(`BENCH_TEMPORAL_DB=${badMode}? use file, file-wal-normal, file-rollback or memory (or a comma list)`);
  process.exit(2);
}
const list = (name: string, fallback: string) => (process.env[name] || fallback).split(',').map((item) => item.trim()).filter(Boolean);
const DATABASES = list('BENCH_DATABASE', 'sqlite') as DatabaseMode[];
const badDatabase = DATABASES.find((db) => db !== 'sqlite' && db !== 'postgres');
if (badDatabase) {
  console.error(`BENCH_DATABASE=${badDatabase}? use sqlite (default, as npm start) or postgres (or a comma list)`);
  process.exit(2);
}
const REPLICAS = list('BENCH_REPLICAS', '1').map(Number);
if (REPLICAS.some((n) => !Number.isInteger(n) || n < 1 || n > 8)) {
  console.error(`BENCH_REPLICAS=${process.env.BENCH_REPLICAS}? use whole numbers from 1 to 8 (or a comma list such as 1,2)`);
  process.exit(2);
}
const TEMPORALS = list('BENCH_TEMPORAL', 'dev') as TemporalMode[];
const badTemporal = TEMPORALS.find((t) => t !== 'dev' && t !== 'cluster');
if (badTemporal) {
  console.error(`BENCH_TEMPORAL=${badTemporal}? use dev (default, the dev server as npm start) or cluster (a Temporal server on PostgreSQL, temporal/cluster.ts)`);
  process.exit(2);
}
const ROUNDS = Math.max(1, Math.floor(Number(process.env.BENCH_ROUNDS ?? '1') || 1));

/** One stack layout: which Temporal, how it keeps history (dev server only), which database, how many replicas. */
interface Topology {
  temporal: TemporalMode;
  /** The dev server's history mode; undefined for the cluster. */
  temporalDb?: TemporalDb;
  database: DatabaseMode;
  replicas: number;
}
const topologyName = (t: Topology) => `${t.temporal === 'dev' ? `dev/${t.temporalDb}` : 'cluster'} ${t.database} ×${t.replicas}`;
const TOPOLOGIES: Topology[] = [];
const SKIPPED: string[] = [];
for (const temporal of TEMPORALS) {
  for (const temporalDb of temporal === 'dev' ? TEMPORAL_DBS : [undefined]) {
    for (const database of DATABASES) {
      for (const replicas of REPLICAS) {
        const topology: Topology = { temporal, ...(temporalDb && { temporalDb }), database, replicas };
        // Replicas share one database; Herald's SQLite file is for one host, one worker, one API.
        if (database === 'sqlite' && replicas > 1) SKIPPED.push(topologyName(topology));
        else TOPOLOGIES.push(topology);
      }
    }
  }
}
if (TOPOLOGIES.length === 0) {
  console.error(`BENCH_REPLICAS > 1 needs BENCH_DATABASE=postgres: replicas share one database, and Herald's SQLite file is for one host (nothing to run: ${SKIPPED.join(', ')})`);
  process.exit(2);
}
const CODEC = (process.env.BENCH_CODEC ?? 'on').trim() as CodecMode;
if (CODEC !== 'on' && CODEC !== 'off') {
  console.error(`BENCH_CODEC=${CODEC}? use on (default, as npm start) or off`);
  process.exit(2);
}
/**
 * The bare workflow mirrors the trigger workflow's newest path: all sends in one local activity in
 * the same workflow task when the tree has the SEND_IN_THE_SAME_TASK patch, else one activity each.
 */
const BARE_SHAPE: BareShape =
  'ONE_STEP_ON_THE_HAPPY_PATH' in triggerWorkflow ? 'one-local-activity' : 'SEND_IN_THE_SAME_TASK' in triggerWorkflow ? 'send-in-the-same-task' : 'activity-per-recipient';
/** The ceiling: a workflow of one no-op local activity, the least one workflow per trigger costs on this server. */
const CEILING_SHAPE: BareShape = 'one-local-activity';
const CEILING = (process.env.BENCH_CEILING ?? 'on').trim() !== 'off';
const E2E_CONCURRENCY = 16;
const E2E_TIMEOUT_MS = 240_000;
const runId = Date.now().toString(36);
const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

// ---------------------------------------------------------------------------------------------
// Processes, HTTP, database

/**
 * CPU by process kind, summed over replicas: api (trigger APIs), acceptApi (accept-only APIs),
 * worker (Herald workers), temporal (the dev server, or the cluster's server and its own
 * PostgreSQL), bareWorker, and postgres (Herald's PostgreSQL server: postmaster and backends; NaN
 * on SQLite, whose work is inside the API and worker processes).
 */
type ProcName = 'api' | 'acceptApi' | 'worker' | 'temporal' | 'bareWorker' | 'postgres';
type CpuSnapshot = Record<ProcName, number>;

function pids(stack: Stack): Record<Exclude<ProcName, 'postgres' | 'temporal'>, number[]> {
  const { apis, acceptApis, workers, bareWorker } = stack.parts;
  return { api: apis.map((p) => p.pid), acceptApi: acceptApis.map((p) => p.pid), worker: workers.map((p) => p.pid), bareWorker: [bareWorker.pid] };
}

const sumCpu = (list: number[]) => (list.length === 0 ? Number.NaN : list.reduce((sum, pid) => sum + cpuSeconds(pid), 0));

function cpuSnapshot(stack: Stack): CpuSnapshot {
  const all = pids(stack);
  const byKind = Object.fromEntries(Object.entries(all).map(([name, list]) => [name, sumCpu(list)]));
  return { ...byKind, temporal: stack.temporalCpuSeconds(), postgres: stack.postgresPid ? treeCpuSeconds(stack.postgresPid) : Number.NaN } as CpuSnapshot;
}

/** NaN (no such process, e.g. PostgreSQL on SQLite) counts as 0 in totals. */
const z = (n: number) => (Number.isFinite(n) ? n : 0);
/** Herald's CPU for its triggers: APIs, workers, its PostgreSQL (if any) and Temporal. */
const heraldCpu = (cpu: CpuSnapshot) => cpu.api + cpu.worker + cpu.temporal + z(cpu.postgres);

const cpuDelta = (before: CpuSnapshot, after: CpuSnapshot) => Object.fromEntries(Object.keys(before).map((k) => [k, after[k as ProcName] - before[k as ProcName]])) as CpuSnapshot;

async function api<T = any>(port: number, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

async function liveCampaign(stack: Stack, name: string): Promise<string> {
  const port = stack.apiPorts[0]!;
  const created = await api<{ id: string }>(port, 'POST', '/v1/campaigns', {
    name,
    type: 'transactional',
    channel: 'email',
    content: { subject: 'Hello {{ profile.firstName }}', html: '<p>Hi {{ profile.firstName }}, your code is <b>{{ context.code }}</b>.</p>', text: 'Code {{ context.code }}' },
    audience: { namespace: 'email', createMissingProfiles: true },
  });
  await api(port, 'POST', `/v1/campaigns/${created.id}/activate`);
  return created.id;
}

interface RunningLoad {
  started: Promise<number>;
  result: Promise<LoadResult>;
}

/** Spawns bench/loadgen.ts as its own process; bare starts use the stack's payload keys, if any. */
function startLoad(stack: Stack, load: Load): RunningLoad {
  const env = { ...process.env, HERALD_PAYLOAD_KEYS: stack.payloadKeys };
  if (!stack.payloadKeys) delete env.HERALD_PAYLOAD_KEYS;
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'bench/loadgen.ts'), JSON.stringify(load)], { cwd: repoRoot, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let onStarted!: (at: number) => void;
  let onNoStart!: (error: Error) => void;
  const started = new Promise<number>((resolve, reject) => {
    onStarted = resolve;
    onNoStart = reject;
  });
  const result = new Promise<LoadResult>((resolve, reject) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), load.maxMs + 60_000);
    child.on('message', (message: { type: 'started'; at: number } | LoadResult) => {
      if (message.type === 'started') onStarted(message.at);
      else resolve(message);
    });
    child.on('exit', (code) => {
      clearTimeout(killer);
      const error = new Error(`load generator exited (code ${code}) without a result`);
      onNoStart(error);
      reject(error);
    });
  });
  return { started, result };
}

/** Herald's database as the bench reads it (either dialect, through Herald's own kysely setup); one per stack. */
const databases = new WeakMap<Stack, HeraldDb>();
function dbOf(stack: Stack): HeraldDb {
  let db = databases.get(stack);
  if (!db) {
    db = openDatabase(stack.database);
    databases.set(stack, db);
  }
  return db;
}

/** count(*) is a number on SQLite and a bigint string on PostgreSQL. */
async function countOf(query: { executeTakeFirstOrThrow(): Promise<{ n: unknown }> }): Promise<number> {
  return Number((await query.executeTakeFirstOrThrow()).n);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// End to end: Herald vs bare Temporal

interface E2eResult {
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

async function heraldE2e(stack: Stack, label: string, recipients: number, triggers: number, users: UserSelection): Promise<E2eResult & { campaignId: string; requestPrefix: string }> {
  const campaignId = await liveCampaign(stack, `bench ${label}`);
  const requestPrefix = `${runId}-${label}`;
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
  const load = startLoad(stack, { mode: 'http', ports: stack.apiPorts, campaignId, recipients, concurrency: E2E_CONCURRENCY, maxCalls: triggers, maxMs: 120_000, requestPrefix, users });
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
    await db.selectFrom('executions').select('completed_at').where('campaign_id', '=', campaignId).where('status', '!=', 'running').where('completed_at', 'is not', null).execute()
  ).map((r) => Date.parse(r.completed_at!));
  const timedOut = row.done < result.ok;
  const t1 = row.last ? Date.parse(row.last) : Date.now();
  const delivered = await countOf(db.selectFrom('outbox').select((eb) => eb.fn.countAll().as('n')).where('campaign_id', '=', campaignId));
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
  return { label, campaignId, requestPrefix, recipients, triggers: row.done, seconds, perSecond: row.done / seconds, delivered, failedRecipients, latencies: result.latencies, cpu: cpuDelta(before, after), loadgenCpu: result.cpuSeconds, timedOut, ...to95(finishTimes, t0) };
}

async function bareE2e(stack: Stack, label: string, recipients: number, triggers: number, shape: BareShape = BARE_SHAPE): Promise<E2eResult & { requestPrefix: string }> {
  const requestPrefix = `${runId}-${label}`;
  const base = stack.bareFinished.count;
  const before = cpuSnapshot(stack);
  const load = startLoad(stack, { mode: 'temporal', address: stack.temporalAddress, taskQueue: BARE_TASK_QUEUE, bareShape: shape, recipients, concurrency: E2E_CONCURRENCY, maxCalls: triggers, maxMs: 120_000, requestPrefix });
  const t0 = await load.started;
  const result = await load.result;
  if (result.failed > 0) log(`${label}: ${result.failed} workflow starts failed, e.g. ${result.firstError}`);
  const t1 = await stack.waitForBare(base + result.ok, E2E_TIMEOUT_MS);
  const after = cpuSnapshot(stack);
  const done = stack.bareFinished.count - base;
  const seconds = ((t1 ?? Date.now()) - t0) / 1000;
  const finishTimes = stack.bareFinishTimes.slice(base, base + done);
  return { label, requestPrefix, recipients, triggers: done, seconds, perSecond: done / seconds, delivered: done * recipients, failedRecipients: 0, latencies: result.latencies, cpu: cpuDelta(before, after), loadgenCpu: result.cpuSeconds, timedOut: t1 === undefined, ...to95(finishTimes, t0) };
}

interface HistoryShape {
  events: number;
  bytes: number;
  workflowTasks: number;
  markers: number;
  activityTasks: number;
  /** Payloads in the history (inputs, results, markers, summaries, search attributes ...) by encoding. */
  encryptedPayloads: number;
  plainPayloads: number;
}

/** Counts the Payload messages (objects with metadata.encoding) anywhere in a decoded history. */
function countPayloads(node: unknown, counts = { encrypted: 0, plain: 0 }, seen = new Set<object>()): { encrypted: number; plain: number } {
  if (node === null || typeof node !== 'object' || ArrayBuffer.isView(node) || seen.has(node)) return counts;
  seen.add(node);
  const encoding = (node as { metadata?: Record<string, Uint8Array> }).metadata?.encoding;
  if (encoding && ArrayBuffer.isView(encoding)) {
    if (Buffer.from(encoding).toString() === 'binary/encrypted') counts.encrypted += 1;
    else counts.plain += 1;
    return counts;
  }
  for (const value of Object.values(node)) countPayloads(value, counts, seen);
  return counts;
}

async function historyShape(client: Client, workflowId: string): Promise<HistoryShape | undefined> {
  try {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const types = proto.temporal.api.enums.v1.EventType;
    const events = history.events ?? [];
    const count = (type: number) => events.filter((e) => e.eventType === type).length;
    const payloads = countPayloads(events);
    return {
      events: events.length,
      bytes: proto.temporal.api.history.v1.History.encode(history).finish().length,
      workflowTasks: count(types.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
      markers: count(types.EVENT_TYPE_MARKER_RECORDED),
      activityTasks: count(types.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
      encryptedPayloads: payloads.encrypted,
      plainPayloads: payloads.plain,
    };
  } catch (error) {
    log(`could not fetch the history of ${workflowId}: ${(error as Error).message}`);
    return undefined;
  }
}

interface Pair {
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
function combine(a: E2eResult, b: E2eResult): E2eResult {
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
async function pair(stack: Stack, client: Client, recipients: number, triggers: number, withCeiling = false): Promise<Pair> {
  const half = Math.ceil(triggers / 2);
  const users = (round: number): UserSelection => ({ kind: 'unique', prefix: `${runId}-r${recipients}-${round}` });
  const order = withCeiling ? 'H B C C B H' : 'H B B H';
  log(`end to end, ${recipients} recipient(s) per call: 2 × ${half} Herald triggers and 2 × ${half} bare workflows${withCeiling ? ' and 2 × ' + half + ' ceiling workflows (one no-op local activity)' : ''} (${order.replaceAll(' ', ', ')}) ...`);
  const h1 = await heraldE2e(stack, `e2e-r${recipients}-a`, recipients, half, users(1));
  const b1 = await bareE2e(stack, `bare-r${recipients}-a`, recipients, half);
  const c1 = withCeiling ? await bareE2e(stack, `ceil-r${recipients}-a`, recipients, half, CEILING_SHAPE) : undefined;
  const c2 = withCeiling ? await bareE2e(stack, `ceil-r${recipients}-b`, recipients, half, CEILING_SHAPE) : undefined;
  const b2 = await bareE2e(stack, `bare-r${recipients}-b`, recipients, half);
  const h2 = await heraldE2e(stack, `e2e-r${recipients}-b`, recipients, half, users(2));
  const herald = combine(h1, h2);
  const bare = combine(b1, b2);
  const ceiling = c1 && c2 ? combine(c1, c2) : undefined;
  log(
    `  Herald ${fmt(h1.perSecond)} + ${fmt(h2.perSecond)} triggers/s, bare ${fmt(b1.perSecond)} + ${fmt(b2.perSecond)} workflows/s → ratio ${fmt((100 * herald.perSecond) / bare.perSecond, 0)}%` +
      (ceiling ? `; ceiling ${fmt(c1!.perSecond)} + ${fmt(c2!.perSecond)} workflows/s → Herald at ${fmt((100 * herald.perSecond) / ceiling.perSecond, 0)}% of it (to 95% done: ${fmt((100 * herald.perSecond95) / ceiling.perSecond95, 0)}%)` : ''),
  );
  const heraldHistory = await historyShape(client, executionWorkflowId(h1.campaignId, `${h1.requestPrefix}-0`));
  const bareHistory = await historyShape(client, `bare/${b1.requestPrefix}-0`);
  const ceilingHistory = c1 ? await historyShape(client, `bare/${c1.requestPrefix}-0`) : undefined;
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

async function warmUp(stack: Stack): Promise<void> {
  log('warm-up: 100 Herald triggers and 100 bare workflows (not reported) ...');
  await heraldE2e(stack, 'warmup', 1, 100, { kind: 'unique', prefix: `${runId}-warm` });
  await bareE2e(stack, 'bare-warmup', 1, 100);
  if (CEILING) await bareE2e(stack, 'ceil-warmup', 1, 30, CEILING_SHAPE);
}

// ---------------------------------------------------------------------------------------------
// Accept path

interface AcceptRow {
  /**
   * Herald's trigger API; a bare @temporalio/client start (same server, no HTTP, no SQLite); or
   * a bare start carrying Herald's search attributes, summary, details and input shape.
   */
  kind: 'herald' | 'bare start' | 'bare start + Herald metadata';
  recipients: number;
  concurrency: number;
  calls: number;
  failed: number;
  perSecond: number;
  latency: LatencySummary;
  /** Summed over the accept-only API replicas. */
  apiCpuPer1k: number;
  temporalCpuPer1k: number;
  /** Herald's PostgreSQL server; NaN on SQLite. */
  postgresCpuPer1k: number;
}

async function acceptRows(stack: Stack): Promise<AcceptRow[]> {
  const campaignId = await liveCampaign(stack, 'bench accept');
  const ports = stack.acceptApiPorts;
  log('accept path warm-up: 300 calls at concurrency 16 (not reported) ...');
  await startLoad(stack, { mode: 'http', ports, campaignId, recipients: 1, concurrency: 16, maxCalls: 300, maxMs: 30_000, requestPrefix: `${runId}-acc-warm`, users: { kind: 'unique', prefix: `${runId}-acc-warm` } }).result;
  const rows: AcceptRow[] = [];
  const measure = async (kind: AcceptRow['kind'], recipients: number, concurrency: number) => {
    const label = `acc-${{ herald: 'h', 'bare start': 'b', 'bare start + Herald metadata': 'bm' }[kind]}-r${recipients}-c${concurrency}`;
    const bounds = { concurrency, maxCalls: scaled(3000), maxMs: 6_000, requestPrefix: `${runId}-${label}` };
    const before = cpuSnapshot(stack);
    const result = await startLoad(
      stack,
      kind === 'herald'
        ? { mode: 'http', ports, campaignId, recipients, users: { kind: 'unique', prefix: `${runId}-${label}` }, ...bounds }
        : { mode: 'temporal', address: stack.temporalAddress, taskQueue: UNPOLLED_BARE_TASK_QUEUE, recipients, withHeraldMetadata: kind !== 'bare start', ...bounds },
    ).result;
    const cpu = cpuDelta(before, cpuSnapshot(stack));
    if (result.failed > 0) log(`${label}: ${result.failed} calls failed, e.g. ${result.firstError}`);
    const seconds = (result.finishedAt - result.startedAt) / 1000;
    const row: AcceptRow = { kind, recipients, concurrency, calls: result.ok, failed: result.failed, perSecond: result.ok / seconds, latency: summarize(result.latencies), apiCpuPer1k: (1000 * cpu.acceptApi) / result.ok, temporalCpuPer1k: (1000 * cpu.temporal) / result.ok, postgresCpuPer1k: (1000 * cpu.postgres) / result.ok };
    log(`accept (${kind}) ${recipients} recipient(s) at concurrency ${concurrency}: ${fmt(row.perSecond, 0)} calls/s, p99 ${fmt(row.latency.p99)} ms`);
    rows.push(row);
    await sleep(500);
  };
  // Interleaved per concurrency level, so that the server's growing database and any drift in
  // background load weigh on every kind of row alike; the table lists them grouped by kind.
  const kinds: Array<[AcceptRow['kind'], number]> = [['herald', 1], ['bare start', 1], ['bare start + Herald metadata', 1], ['herald', 20]];
  for (const concurrency of [1, 16, 64]) for (const [kind, recipients] of kinds) await measure(kind, recipients, concurrency);
  const rank = (row: AcceptRow) => (row.kind === 'herald' ? row.recipients : row.kind === 'bare start' ? 100 : 101);
  return rows.sort((a, b) => rank(a) - rank(b) || a.concurrency - b.concurrency);
}

// ---------------------------------------------------------------------------------------------
// Growth with stored profiles

interface ProfileRow {
  stored: number;
  run: E2eResult;
}

async function seedProfiles(stack: Stack, from: number, to: number): Promise<void> {
  const now = new Date().toISOString();
  await dbOf(stack)
    .transaction()
    .execute(async (trx) => {
      for (let k = from; k < to; k += 1000) {
        const rows = Array.from({ length: Math.min(to, k + 1000) - k }, (_, j) => ({
          namespace: 'email',
          user_id: `${runId}-pool-${k + j}@bench.test`,
          attributes: JSON.stringify({ firstName: `Pat${k + j}`, plan: (k + j) % 3 === 0 ? 'pro' : 'free' }),
          consents: '{}',
          auto_created: 0,
          created_by_execution: null,
          created_at: now,
          updated_at: now,
        }));
        await trx
          .insertInto('profiles')
          .values(rows)
          .onConflict((oc) => oc.columns(['namespace', 'user_id']).doNothing())
          .execute();
      }
    });
}

async function profileRows(stack: Stack): Promise<ProfileRow[]> {
  await dbOf(stack).deleteFrom('profiles').execute();
  const rows: ProfileRow[] = [];
  const triggers = scaled(300);
  let stored = 0;
  for (const target of [1_000, 100_000]) {
    log(`seeding profiles up to ${target} ...`);
    await seedProfiles(stack, stored, target);
    stored = target;
    log(`end to end with ${target} stored profiles: ${triggers} triggers, 1 existing recipient each ...`);
    const run = await heraldE2e(stack, `prof-${target}`, 1, triggers, { kind: 'pool', prefix: `${runId}-pool`, size: target });
    log(`  ${fmt(run.perSecond)} triggers/s`);
    rows.push({ stored: target, run });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Report

const per1k = (seconds: number, count: number) => fmt((1000 * seconds) / count, 2);

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `node ${process.version}, ${cpus().length} logical CPUs (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM (${(freemem() / 2 ** 30).toFixed(1)} GiB free at the end)`;
}

interface Results {
  /** 1-based position in the run's sequence of stacks. */
  order: number;
  round: number;
  topology: Topology;
  startedAt: string;
  codec: CodecMode;
  bareShape: BareShape;
  accept?: AcceptRow[];
  pairs: Pair[];
  profiles?: ProfileRow[];
  profileImport?: ProfileImportBenchResult;
  audienceRun?: AudienceRunBenchResult;
  executionListing?: ExecutionListingBenchResult;
  /** Peak and final RSS by process name (api, worker-2, temporal, ...). */
  memory: Record<string, ReturnType<typeof memory>>;
  totalCpu: CpuSnapshot;
}

function topologyText(t: Topology): string {
  const temporal =
    t.temporal === 'dev'
      ? `Temporal dev server, history ${TEMPORAL_DB_TEXT[t.temporalDb ?? 'file']}`
      : "Temporal server (temporal/cluster.ts: all services in one temporal-server process) on a PostgreSQL server of its own, set up as test/support/postgres-server.ts; Temporal's CPU includes that PostgreSQL";
  const database =
    t.database === 'postgres'
      ? "Herald's data in PostgreSQL (a server of the bench's own, set up as test/support/postgres-server.ts: fsync=off, synchronous_commit=off), DATABASE_URL for every worker and API"
      : "Herald's data in the embedded SQLite file (as npm start)";
  const replicas = t.replicas === 1 ? 'One worker, one API, one accept-only API' : `${t.replicas} workers on one task queue, ${t.replicas} APIs and ${t.replicas} accept-only APIs, calls round-robin over the APIs; CPU summed over the replicas of each kind`;
  return `${temporal}. ${database}. ${replicas}`;
}

/** CPU ms per trigger of a run, by kind. */
const msPer = (seconds: number, count: number) => (1000 * seconds) / count;

function report(results: Results, sections: Set<Section>): string {
  const out: string[] = [];
  const pg = results.topology.database === 'postgres';
  out.push(
    `# Herald benchmark, ${new Date().toISOString()}: ${topologyName(results.topology)} (stack ${results.order}${ROUNDS > 1 ? `, round ${results.round}` : ''})`,
    '',
    `Machine: ${machine()}. Scale ${SCALE}. ${topologyText(results.topology)}. Payload encryption ${results.codec === 'on' ? 'on (a fresh AES-GCM key, as npm start; the bare baseline uses the same data converter)' : 'off (BENCH_CODEC=off)'}.`,
    '',
  );
  if (results.accept) {
    out.push(
      '## Accept path: POST /v1/executions/unitary → 202',
      '',
      `${results.topology.replicas === 1 ? 'An API process' : `${results.topology.replicas} API processes (calls round-robin)`} whose task queue no worker polls, so the API, its database claim and the Temporal start are timed without the worker competing for the CPUs. Load generator in its own process, unique requestIds, up to 6 s or ${scaled(3000)} calls per row. "bare start" rows start a trivial workflow with @temporalio/client on the same server (no HTTP, no database): the ceiling the Temporal server puts on any accept path. "bare start + Herald metadata" rows add what Herald attaches to every start (4 search attributes, summary, details, input of the same shape), to tell Temporal's share of Herald's cost from the API's.`,
      '',
      '| path | recipients | concurrency | calls OK | errors | calls/s | p50 ms | p95 ms | p99 ms | max ms | API CPU s / 1k calls | PostgreSQL CPU s / 1k calls | Temporal CPU s / 1k calls |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...results.accept.map(
        (r) =>
          `| ${r.kind} | ${r.recipients} | ${r.concurrency} | ${r.calls} | ${r.failed} | ${fmt(r.perSecond, 0)} | ${fmt(r.latency.p50)} | ${fmt(r.latency.p95)} | ${fmt(r.latency.p99)} | ${fmt(r.latency.max)} | ${r.kind === 'herald' ? fmt(r.apiCpuPer1k, 2) : '–'} | ${pg && r.kind === 'herald' ? fmt(r.postgresCpuPer1k, 2) : '–'} | ${fmt(r.temporalCpuPer1k, 2)} |`,
      ),
      '',
    );
  }
  if (results.pairs.length > 0) {
    out.push(
      '## End to end: Herald vs bare Temporal, same server, back to back',
      '',
      `Triggers started at concurrency ${E2E_CONCURRENCY} (Herald over HTTP${results.topology.replicas > 1 ? `, round-robin over ${results.topology.replicas} APIs` : ''}, bare with @temporalio/client), timed from the first call to the last execution finished. Herald counts an execution done when its workflow closed it in Herald's database (closeExecution) and checks every recipient is in the outbox. The bare workflow (bench/bare-workflow.ts) has the trigger workflow's activity shape with no-op activities; its sends here: ${BARE_SHAPE === 'one-local-activity' ? 'the whole happy path is one local activity (the one-local-step-on-the-happy-path patch), so the bare workflow is the ceiling shape itself' : BARE_SHAPE === 'send-in-the-same-task' ? 'one local activity for all recipients in the same workflow task (the send-in-the-same-task patch)' : 'one activity per recipient'}.`,
      '',
      '| recipients/call | triggers (each side) | Herald triggers/s | bare workflows/s | Herald / bare | to 95% done: Herald / bare per s (ratio) | rounds (per s), in run order | Herald deliveries/s | delivered to outbox | not sent | Herald accept p50 / p99 ms (under load) |',
      '|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|',
      ...results.pairs.map((p) => {
        const runs = p.ceilingRounds ? [p.rounds[0], p.rounds[1], ...p.ceilingRounds, p.rounds[2], p.rounds[3]] : p.rounds;
        return `| ${p.recipients} | ${p.herald.triggers} | ${fmt(p.herald.perSecond)} | ${fmt(p.bare.perSecond)} | ${fmt((100 * p.herald.perSecond) / p.bare.perSecond, 0)}% | ${fmt(p.herald.perSecond95)} / ${fmt(p.bare.perSecond95)} (${fmt((100 * p.herald.perSecond95) / p.bare.perSecond95, 0)}%) | ${p.order}: ${runs.map((r) => fmt(r ?? Number.NaN)).join(', ')} | ${fmt(p.herald.perSecond * p.recipients)} | ${p.herald.delivered} / ${p.herald.triggers * p.recipients} | ${p.herald.failedRecipients} | ${fmt(summarize(p.herald.latencies).p50)} / ${fmt(summarize(p.herald.latencies).p99)} |`;
      }),
      '',
      'Rates are executions over the time from the first call to the last execution finished; "to 95% done" counts the first 95% over the time until the last of them finished, which one straggler (a workflow task that waits seconds in the server\'s matching before a poller takes it, seen on the dev server and the cluster alike) does not move. Short runs (BENCH_SCALE < 1) are at its mercy.',
      '',
    );
    const withCeiling = results.pairs.filter((p) => p.ceiling);
    if (withCeiling.length > 0) {
      out.push(
        'The ceiling: bare workflows of ONE no-op local activity (bench/bare-workflow.ts, shape one-local-activity) on the same server, run between the others (C in the run order): one workflow per trigger can go no faster here. Herald as a fraction of it:',
        '',
        '| recipients/call | Herald triggers/s | ceiling workflows/s | Herald / ceiling | Herald / ceiling, to 95% done | bare (Herald\'s shape) / ceiling | ceiling CPU ms / workflow (worker + Temporal) | Herald history events / trigger | ceiling history events |',
        '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
        ...withCeiling.map((p) => {
          const c = p.ceiling!;
          return `| ${p.recipients} | ${fmt(p.herald.perSecond)} | ${fmt(c.perSecond)} | ${fmt((100 * p.herald.perSecond) / c.perSecond, 0)}% | ${fmt((100 * p.herald.perSecond95) / c.perSecond95, 0)}% | ${fmt((100 * p.bare.perSecond) / c.perSecond, 0)}% | ${fmt(msPer(c.cpu.bareWorker + c.cpu.temporal, c.triggers))} | ${p.heraldHistory?.events ?? 'n/a'} | ${p.ceilingHistory?.events ?? 'n/a'} |`;
        }),
        '',
      );
    }
    out.push(
      `CPU seconds per 1,000 triggers, by process kind${results.topology.replicas > 1 ? ' (summed over the replicas)' : ''} (utime+stime deltas from /proc/<pid>/stat over the run${pg ? "; PostgreSQL: Herald's server, its postmaster and every backend" : ''}):`,
      '',
      '| recipients/call | Herald: API | Herald: worker | Herald: PostgreSQL | Herald: Temporal server | Herald: load gen | Herald total | bare: worker | bare: Temporal server | bare: load gen | bare total |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...results.pairs.map((p) => {
        const h = p.herald;
        const b = p.bare;
        return `| ${p.recipients} | ${per1k(h.cpu.api, h.triggers)} | ${per1k(h.cpu.worker, h.triggers)} | ${pg ? per1k(h.cpu.postgres, h.triggers) : '–'} | ${per1k(h.cpu.temporal, h.triggers)} | ${per1k(h.loadgenCpu, h.triggers)} | ${per1k(heraldCpu(h.cpu) + h.loadgenCpu, h.triggers)} | ${per1k(b.cpu.bareWorker, b.triggers)} | ${per1k(b.cpu.temporal, b.triggers)} | ${per1k(b.loadgenCpu, b.triggers)} | ${per1k(b.cpu.bareWorker + b.cpu.temporal + b.loadgenCpu, b.triggers)} |`;
      }),
      '',
      `CPU cost ratio, which background load on the machine disturbs far less than throughput: bare CPU per trigger (its worker + Temporal server) over Herald CPU per trigger (API + worker + ${pg ? 'PostgreSQL + ' : ''}Temporal server); 100% would mean Herald adds nothing.`,
      '',
      '| recipients/call | Herald CPU ms / trigger | bare CPU ms / trigger | bare / Herald (CPU) |',
      '|---:|---:|---:|---:|',
      ...results.pairs.map((p) => {
        const h = msPer(heraldCpu(p.herald.cpu), p.herald.triggers);
        const b = msPer(p.bare.cpu.bareWorker + p.bare.cpu.temporal, p.bare.triggers);
        return `| ${p.recipients} | ${fmt(h)} | ${fmt(b)} | ${fmt((100 * b) / h, 0)}% |`;
      }),
      '',
      'History per execution (first execution of each run; events = history events per trigger):',
      '',
      '| recipients/call | Herald events | Herald bytes | Herald workflow tasks | Herald markers | Herald payloads encrypted / plain | bare events | bare bytes | bare workflow tasks | bare markers | bare payloads encrypted / plain |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...results.pairs.map(
        (p) =>
          `| ${p.recipients} | ${p.heraldHistory?.events ?? 'n/a'} | ${p.heraldHistory?.bytes ?? 'n/a'} | ${p.heraldHistory?.workflowTasks ?? 'n/a'} | ${p.heraldHistory?.markers ?? 'n/a'} | ${p.heraldHistory ? `${p.heraldHistory.encryptedPayloads} / ${p.heraldHistory.plainPayloads}` : 'n/a'} | ${p.bareHistory?.events ?? 'n/a'} | ${p.bareHistory?.bytes ?? 'n/a'} | ${p.bareHistory?.workflowTasks ?? 'n/a'} | ${p.bareHistory?.markers ?? 'n/a'} | ${p.bareHistory ? `${p.bareHistory.encryptedPayloads} / ${p.bareHistory.plainPayloads}` : 'n/a'} |`,
      ),
      '',
      'Search attributes stay plain by design (the server indexes them); every other payload is encrypted when the codec is on.',
      '',
    );
  }
  if (results.profiles) {
    out.push(
      '## Growth with stored profiles (1 existing recipient per call)',
      '',
      '| stored profiles | triggers | triggers/s | worker CPU s / 1k | API CPU s / 1k | PostgreSQL CPU s / 1k | Temporal CPU s / 1k | accept p99 ms (under load) |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...results.profiles.map(
        (r) =>
          `| ${r.stored.toLocaleString('en')} | ${r.run.triggers} | ${fmt(r.run.perSecond)} | ${per1k(r.run.cpu.worker, r.run.triggers)} | ${per1k(r.run.cpu.api, r.run.triggers)} | ${pg ? per1k(r.run.cpu.postgres, r.run.triggers) : '–'} | ${per1k(r.run.cpu.temporal, r.run.triggers)} | ${fmt(summarize(r.run.latencies).p99)} |`,
      ),
      '',
    );
  }
  if (results.profileImport) {
    const r = results.profileImport;
    out.push(
      '## Bulk profile import: POST /v1/profiles/import, one streamed NDJSON body',
      '',
      `${r.profiles.toLocaleString('en')} new profiles (${fmt(r.bytes / 2 ** 20)} MiB of NDJSON, sent as it is generated), timed from the first byte to the answer. API RSS: before the import, and its peak during it (${r.peakSource === 'VmHWM' ? 'VmHWM, reset just before' : r.peakSource === 'sampled' ? 'sampled every 50 ms' : 'unknown'}).`,
      '',
      '| profiles | MiB sent | seconds | profiles/s | created | updated | rejected | API RSS before MiB | API peak RSS MiB |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      `| ${r.profiles.toLocaleString('en')} | ${fmt(r.bytes / 2 ** 20)} | ${fmt(r.seconds)} | ${fmt(r.profilesPerSecond, 0)} | ${r.summary.created} | ${r.summary.updated} | ${r.summary.rejected} | ${fmt(r.apiRssBeforeMiB, 0)} | ${fmt(r.apiPeakRssMiB, 0)} |`,
      '',
    );
  }
  if (results.audienceRun) {
    const r = results.audienceRun;
    out.push(
      '## Audience execution: POST /v1/executions/audience, one unthrottled run to the outbox provider',
      '',
      `A rule audience of ${r.profiles.toLocaleString('en')} profiles (imported in ${fmt(r.importSeconds)} s), a marketing email campaign rendering profile attributes and context, timed from the call to the execution's completion. Freezing is the run's first activity (one INSERT … SELECT of every member); sending is the batches after it. Peak RSS is the kernel's VmHWM, reset just before the run.`,
      '',
      '| members | sent | seconds | messages/s end to end | freeze s | messages/s while sending | worker peak RSS MiB | API peak RSS MiB |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|',
      `| ${r.profiles.toLocaleString('en')} | ${r.sent.toLocaleString('en')} | ${fmt(r.seconds)} | ${fmt(r.messagesPerSecond, 0)} | ${fmt(r.freezeSeconds)} | ${fmt(r.sendingMessagesPerSecond, 0)} | ${fmt(r.workerPeakRssMiB, 0)} | ${fmt(r.apiPeakRssMiB, 0)} |`,
      '',
    );
  }
  if (results.executionListing) {
    const r = results.executionListing;
    out.push(
      '## Execution listing: GET /v1/executions at scale',
      '',
      `${r.executions.toLocaleString('en')} executions over 180 days (20 campaigns, 2% failed, 50 running, 0.1% audience, 1% by one trigger key), written straight into the database in ${fmt(r.seedSeconds, 0)} s${r.dialect === 'postgres' ? ' (then ANALYZE, as autovacuum would)' : ' (no ANALYZE: Herald runs none)'}. Each figure: ms per call through the HTTP API, limit 50, 30 calls after 3 warm-ups; the deep page is page 200 through the cursor (or the last page when there are fewer).`,
      '',
      '| filter | matching | first page p50 ms | first page p95 ms | deep page | deep p50 ms | deep p95 ms |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...r.rows.map((row) => `| ${row.label} | ${row.matches.toLocaleString('en')} | ${fmt(row.first.p50)} | ${fmt(row.first.p95)} | ${row.deepPage} | ${fmt(row.deep.p50)} | ${fmt(row.deep.p95)} |`),
      '',
      '| filter | plan, first page | plan, deep page |',
      '|---|---|---|',
      ...r.rows.map((row) => `| ${row.label} | ${row.planFirst.replaceAll('|', '\\|')} | ${row.planDeep.replaceAll('|', '\\|')} |`),
      '',
    );
  }
  if (sections.has('resources') || sections.has('e2e')) {
    const kindOf = (name: string): ProcName | undefined =>
      name.startsWith('accept-api') ? 'acceptApi' : name.startsWith('api') ? 'api' : name.startsWith('worker') ? 'worker' : name === 'bare-worker' ? 'bareWorker' : name.startsWith('temporal') ? 'temporal' : undefined;
    const titles: Record<ProcName, string> = { api: 'API (trigger path)', acceptApi: 'API (accept-only)', worker: 'Herald worker', temporal: 'Temporal server', bareWorker: 'bare-Temporal worker', postgres: "Herald's PostgreSQL" };
    const kinds: ProcName[] = ['api', 'acceptApi', 'worker', 'temporal', 'bareWorker', ...(pg ? (['postgres'] as const) : [])];
    out.push(
      '## Resources over the whole run',
      '',
      '| process | kind | peak RSS (VmHWM) MiB | RSS at the end MiB |',
      '|---|---|---:|---:|',
      ...Object.entries(results.memory).map(([name, m]) => `| ${name} | ${kindOf(name) ? titles[kindOf(name)!] : ''} | ${fmt(m?.peakRssMiB ?? Number.NaN, 0)} | ${fmt(m?.rssMiB ?? Number.NaN, 0)} |`),
      '',
      `| process kind | CPU s over the run${results.topology.replicas > 1 ? ' (all replicas)' : ''} |`,
      '|---|---:|',
      ...kinds.map((kind) => `| ${titles[kind]} | ${fmt(results.totalCpu[kind])} |`),
      '',
    );
  }
  const targets: string[] = [];
  const c16 = results.accept?.find((r) => r.kind === 'herald' && r.recipients === 1 && r.concurrency === 16);
  if (c16) {
    targets.push(`- Accept ≥ 500 calls/s at 16 concurrent callers (1 recipient): ${fmt(c16.perSecond, 0)} calls/s → ${c16.perSecond >= 500 ? 'MET' : 'MISSED'}`);
    targets.push(`- Accept p99 ≤ 50 ms at 16 concurrent callers (1 recipient): ${fmt(c16.latency.p99)} ms → ${c16.latency.p99 <= 50 ? 'MET' : 'MISSED'}`);
  }
  for (const p of results.pairs) {
    const ratio = p.herald.perSecond / p.bare.perSecond;
    const hCpu = heraldCpu(p.herald.cpu) / p.herald.triggers;
    const bareCpu = (p.bare.cpu.bareWorker + p.bare.cpu.temporal) / p.bare.triggers;
    targets.push(
      `- End to end ≥ 70% of bare Temporal, ${p.recipients} recipient(s)/call: ${fmt(100 * ratio, 0)}% by throughput (${fmt(p.herald.perSecond)} vs ${fmt(p.bare.perSecond)} per s; to 95% done ${fmt((100 * p.herald.perSecond95) / p.bare.perSecond95, 0)}%) → ${ratio >= 0.7 ? 'MET' : 'MISSED'}; ${fmt((100 * bareCpu) / hCpu, 0)}% by CPU per trigger → ${bareCpu / hCpu >= 0.7 ? 'MET' : 'MISSED'}`,
    );
    if (p.ceiling) targets.push(`- End to end as a fraction of the ceiling (one no-op local activity per workflow), ${p.recipients} recipient(s)/call: ${fmt((100 * p.herald.perSecond) / p.ceiling.perSecond, 0)}% (${fmt(p.herald.perSecond)} vs ${fmt(p.ceiling.perSecond)} per s; to 95% done ${fmt((100 * p.herald.perSecond95) / p.ceiling.perSecond95, 0)}%)`);
  }
  if (targets.length > 0) out.push('## Targets', '', ...targets, '');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function runTopology(topology: Topology, order: number, round: number, cpuProfDir: string | undefined): Promise<Results> {
  const startedAt = new Date().toISOString();
  const stack = await Stack.start({
    temporalPort: PORT_BASE + 233,
    apiPort: PORT_BASE,
    acceptApiPort: PORT_BASE + 1,
    ...(cpuProfDir && { cpuProfDir }),
    keepData: flags.has('--keep-data'),
    temporal: topology.temporal,
    ...(topology.temporalDb && { temporalDb: topology.temporalDb }),
    database: topology.database,
    replicas: topology.replicas,
    codec: CODEC,
    log,
  });
  const stopOnSignal = () => {
    log('interrupted: stopping the stack ...');
    void stack.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const client = new Client({ connection, namespace: 'default' });
  const cpuAtStart = cpuSnapshot(stack);
  const results: Results = { order, round, topology, startedAt, codec: CODEC, bareShape: BARE_SHAPE, pairs: [], memory: {}, totalCpu: cpuAtStart };
  try {
    const needsE2e = wanted.has('e2e') || wanted.has('resources') || wanted.has('growth-recipients');
    if (needsE2e || wanted.has('growth-profiles')) await warmUp(stack);
    if (needsE2e) results.pairs.push(await pair(stack, client, 1, scaled(600), CEILING));
    if (wanted.has('growth-recipients')) {
      results.pairs.push(await pair(stack, client, 5, scaled(160)));
      results.pairs.push(await pair(stack, client, 20, scaled(60)));
    }
    if (wanted.has('growth-profiles')) results.profiles = await profileRows(stack);
    if (wanted.has('accept')) results.accept = await acceptRows(stack);
    if (wanted.has('import')) {
      const count = Math.max(1000, Math.round(100_000 * SCALE));
      log(`bulk profile import: ${count} profiles in one streamed NDJSON body ...`);
      results.profileImport = await benchProfileImport({ port: stack.apiPorts[0]!, count, prefix: `${runId}-import`, apiPid: stack.parts.apis[0]!.pid });
      log(`  ${fmt(results.profileImport.seconds)} s, ${fmt(results.profileImport.profilesPerSecond, 0)} profiles/s, API peak RSS ${fmt(results.profileImport.apiPeakRssMiB, 0)} MiB`);
    }
    if (wanted.has('audience')) {
      const count = Math.max(1000, Math.round(100_000 * SCALE));
      log(`audience run: ${count} members, unthrottled, to the outbox ...`);
      results.audienceRun = await benchAudienceRun({ port: stack.apiPorts[0]!, count, prefix: `${runId}-audience`, apiPid: stack.parts.apis[0]!.pid, workerPid: stack.parts.workers[0]!.pid, log });
      log(`  ${fmt(results.audienceRun.seconds)} s, ${fmt(results.audienceRun.messagesPerSecond, 0)} messages/s, worker peak RSS ${fmt(results.audienceRun.workerPeakRssMiB, 0)} MiB`);
    }
    if (wanted.has('executions-list')) {
      const count = Math.max(10_000, Math.round(1_000_000 * SCALE));
      log(`execution listing: ${count} executions, then GET /v1/executions per filter ...`);
      results.executionListing = await benchExecutionListing({ port: stack.apiPorts[0]!, db: dbOf(stack), count, prefix: `${runId}-list`, log });
    }
    const processes: Array<[string, number]> = [...stack.allParts().map((part): [string, number] => [part.name, part.pid]), ...stack.temporalPids().map((pid, i): [string, number] => [i === 0 ? 'temporal' : `temporal-${i + 1}`, pid])];
    results.memory = Object.fromEntries(processes.map(([name, pid]) => [name, memory(pid)]));
    results.totalCpu = cpuDelta(cpuAtStart, cpuSnapshot(stack));
  } finally {
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
    await connection.close();
    await databases.get(stack)?.destroy();
    log('stopping the stack ...');
    await stack.stop();
  }
  return results;
}

/** Key figures of every stack of the run next to each other, in the order they ran. */
function comparison(all: Results[]): string {
  const accept = (r: Results) => r.accept?.find((row) => row.kind === 'herald' && row.recipients === 1 && row.concurrency === 16);
  const bareStart = (r: Results) => r.accept?.find((row) => row.kind === 'bare start' && row.recipients === 1 && row.concurrency === 16);
  const e2e = (r: Results) => r.pairs.find((p) => p.recipients === 1);
  const ms = (r: Results, kind: ProcName) => {
    const p = e2e(r);
    return p ? fmt(msPer(p.herald.cpu[kind], p.herald.triggers)) : 'n/a';
  };
  return [
    '# Side by side: one fresh stack per combination, in the order they ran',
    '',
    `Accept: Herald's POST /v1/executions/unitary, 1 recipient, 16 concurrent callers (spread round-robin over the APIs). End to end: 1 recipient per trigger, Herald (H), bare workflows of Herald's shape (B)${CEILING ? ' and the ceiling, bare workflows of one no-op local activity (C), run H B C C B H' : ', run H B B H (BENCH_CEILING=off)'} on the same server. CPU: ms per Herald trigger in the end-to-end runs, per process kind, summed over replicas; PostgreSQL is Herald's own server ("–" on SQLite, whose work is inside the API and worker). History: events of one 1-recipient trigger's workflow. "(to 95%)": the first 95% of the executions over the time until the last of them finished, which one straggling workflow task does not move.${SKIPPED.length > 0 ? ` Skipped (SQLite is for one replica): ${SKIPPED.join(', ')}.` : ''}`,
    '',
    '| # | started | topology | accept c=16 calls/s | accept c=16 p99 ms | bare start c=16 per s | e2e Herald triggers/s (to 95%) | e2e bare per s (to 95%) | e2e ceiling per s (to 95%) | Herald / bare (to 95%) | Herald / ceiling (to 95%) | CPU ms/trigger: API | worker | PostgreSQL | Temporal | total | history events / trigger |',
    '|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...all.map((r) => {
      const h = accept(r);
      const b = bareStart(r);
      const p = e2e(r);
      const rate = (x: E2eResult | undefined) => (x ? `${fmt(x.perSecond)} (${fmt(x.perSecond95)})` : 'n/a');
      const ratio = (a: E2eResult | undefined, b: E2eResult | undefined) => (a && b ? `${fmt((100 * a.perSecond) / b.perSecond, 0)}% (${fmt((100 * a.perSecond95) / b.perSecond95, 0)}%)` : 'n/a');
      return `| ${r.order} | ${r.startedAt.slice(11, 19)} | ${topologyName(r.topology)} | ${h ? fmt(h.perSecond, 0) : 'n/a'} | ${h ? fmt(h.latency.p99) : 'n/a'} | ${b ? fmt(b.perSecond, 0) : 'n/a'} | ${rate(p?.herald)} | ${rate(p?.bare)} | ${rate(p?.ceiling)} | ${ratio(p?.herald, p?.bare)} | ${ratio(p?.herald, p?.ceiling)} | ${ms(r, 'api')} | ${ms(r, 'worker')} | ${r.topology.database === 'postgres' ? ms(r, 'postgres') : '–'} | ${ms(r, 'temporal')} | ${p ? fmt(msPer(heraldCpu(p.herald.cpu), p.herald.triggers)) : 'n/a'} | ${p?.heraldHistory?.events ?? 'n/a'} |`;
    }),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const profRoot = flags.has('--profile') ? mkdtempSync(join(tmpdir(), 'herald-bench-prof-')) : undefined;
  if (SKIPPED.length > 0) log(`skipping ${SKIPPED.join(', ')}: replicas share one database, and Herald's SQLite file is for one host (use BENCH_DATABASE=postgres)`);
  const sequence: Array<{ topology: Topology; round: number }> = [];
  for (let round = 1; round <= ROUNDS; round++) for (const topology of round % 2 === 1 ? TOPOLOGIES : [...TOPOLOGIES].reverse()) sequence.push({ topology, round });
  if (sequence.length > 1) log(`${sequence.length} stacks, in this order: ${sequence.map((s, i) => `${i + 1}. ${topologyName(s.topology)}`).join('; ')}`);
  const all: Results[] = [];
  for (const [index, { topology, round }] of sequence.entries()) {
    const name = topologyName(topology);
    const cpuProfDir = profRoot && join(profRoot, `${index + 1}-${name.replace(/[^a-z0-9]+/gi, '-')}`);
    if (cpuProfDir) for (const kind of ['worker', 'api', 'accept-api', 'bare-worker']) mkdirSync(join(cpuProfDir, kind), { recursive: true });
    log(`=== stack ${index + 1} of ${sequence.length}: ${name}${ROUNDS > 1 ? ` (round ${round})` : ''} ===`);
    const results = await runTopology(topology, index + 1, round, cpuProfDir);
    all.push(results);
    console.log(report(results, wanted));
    if (cpuProfDir) {
      for (const kind of ['worker', 'api', 'accept-api', 'bare-worker']) console.log(`\n## CPU profile (${name}): ${kind}\n\n${summarizeProfiles(join(cpuProfDir, kind))}`);
    }
  }
  if (all.length > 1) console.log(comparison(all));
  const jsonPath = process.env.BENCH_JSON || join(tmpdir(), `herald-bench-${runId}.json`);
  // Raw latencies stay out of the JSON; it keeps their summaries.
  writeFileSync(jsonPath, JSON.stringify(all, (key, value) => (key === 'latencies' ? summarize(value as number[]) : value), 2));
  log(`raw results in ${jsonPath}; whole run took ${fmt((Date.now() - startedAt) / 1000, 0)} s`);
  if (profRoot) log(`CPU profiles in ${profRoot}`);
}

await main();
