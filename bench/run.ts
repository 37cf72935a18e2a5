// `npm run bench [-- <section>...] [--profile] [--keep-data]`
// Sections: accept, e2e, resources, growth (= growth-recipients + growth-profiles), all (default).
// Starts its own embedded stack (bench/stack.ts) on non-default ports with a temporary
// HERALD_DATA_DIR and the outbox email provider, runs the sections, prints tables, stops it all.
// BENCH_SCALE (default 1) multiplies every call count, e.g. BENCH_SCALE=0.2 for a smoke run.
// BENCH_TEMPORAL_DB picks how the dev server keeps history: file (default, as npm start: WAL,
// synchronous=full), file-wal-normal, file-rollback (the CLI's default journal) or memory (as the
// tests); a comma list such as file,file-rollback,memory runs the sections once per mode, each on
// a fresh stack, and ends with a side-by-side table.
// BENCH_PORT_BASE (default 17000): API on it, accept-only API on +1, Temporal on +233.
// BENCH_CODEC: on (default, as npm start: payloads AES-GCM encrypted with a fresh random key, for
// Herald and the bare baseline alike) or off (Temporal's default data converter everywhere).
// BENCH_JSON: where to write the raw results as JSON (default $TMPDIR/herald-bench-<id>.json).
// `npm run bench:compare` (bench/compare-builds.ts) runs this file of two builds side by side.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, freemem, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import * as triggerWorkflow from '../workflows/trigger-execution';
import { executionWorkflowId } from '../workflows/workflow-ids';
import type { BareShape } from './bare-workflow';
import type { Load, LoadResult, UserSelection } from './loadgen';
import { summarizeProfiles } from './profile-summary';
import { cpuSeconds, memory } from './proc';
import { BARE_TASK_QUEUE, repoRoot, Stack, UNPOLLED_BARE_TASK_QUEUE, type CodecMode, type TemporalDbMode } from './stack';
import { fmt, summarize, type LatencySummary } from './stats';

const SECTIONS = ['accept', 'e2e', 'resources', 'growth-recipients', 'growth-profiles'] as const;
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
const CODEC = (process.env.BENCH_CODEC ?? 'on').trim() as CodecMode;
if (CODEC !== 'on' && CODEC !== 'off') {
  console.error(`BENCH_CODEC=${CODEC}? use on (default, as npm start) or off`);
  process.exit(2);
}
/**
 * The bare workflow mirrors the trigger workflow's newest path: all sends in one local activity in
 * the same workflow task when the tree has the SEND_IN_THE_SAME_TASK patch, else one activity each.
 */
const BARE_SHAPE: BareShape = 'SEND_IN_THE_SAME_TASK' in triggerWorkflow ? 'send-in-the-same-task' : 'activity-per-recipient';
const E2E_CONCURRENCY = 16;
const E2E_TIMEOUT_MS = 240_000;
const runId = Date.now().toString(36);
const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

// ---------------------------------------------------------------------------------------------
// Processes, HTTP, database

type ProcName = 'api' | 'acceptApi' | 'worker' | 'temporal' | 'bareWorker';
type CpuSnapshot = Record<ProcName, number>;

function pids(stack: Stack): Record<ProcName, number> {
  return { api: stack.parts.api.pid, acceptApi: stack.parts.acceptApi.pid, worker: stack.parts.worker.pid, temporal: stack.temporalPid, bareWorker: stack.parts.bareWorker.pid };
}

function cpuSnapshot(stack: Stack): CpuSnapshot {
  const all = pids(stack);
  return Object.fromEntries(Object.entries(all).map(([name, pid]) => [name, pid ? cpuSeconds(pid) : Number.NaN])) as CpuSnapshot;
}

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
  const port = stack.options.apiPort;
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

function openDb(stack: Stack) {
  const db = new SQLite(stack.databasePath);
  db.pragma('busy_timeout = 10000');
  return db;
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
}

async function heraldE2e(stack: Stack, label: string, recipients: number, triggers: number, users: UserSelection): Promise<E2eResult & { campaignId: string; requestPrefix: string }> {
  const campaignId = await liveCampaign(stack, `bench ${label}`);
  const requestPrefix = `${runId}-${label}`;
  const db = openDb(stack);
  const progress = db.prepare("SELECT count(*) AS done, max(completed_at) AS last FROM executions WHERE campaign_id = ? AND status != 'running'");
  const before = cpuSnapshot(stack);
  const load = startLoad(stack, { mode: 'http', port: stack.options.apiPort, campaignId, recipients, concurrency: E2E_CONCURRENCY, maxCalls: triggers, maxMs: 120_000, requestPrefix, users });
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
    row = progress.get(campaignId) as typeof row;
    if (accepted !== undefined && row.done >= accepted) break;
    if (loadFailed || Date.now() > until) break;
    await sleep(100);
  }
  const after = cpuSnapshot(stack);
  const result = loadResult ?? (await load.result);
  const timedOut = row.done < result.ok;
  const t1 = row.last ? Date.parse(row.last) : Date.now();
  const delivered = (db.prepare('SELECT count(*) AS n FROM outbox WHERE campaign_id = ?').get(campaignId) as { n: number }).n;
  const failedRecipients = (db.prepare("SELECT count(*) AS n FROM deliveries d JOIN executions e ON e.id = d.execution_id WHERE e.campaign_id = ? AND d.status != 'sent'").get(campaignId) as { n: number }).n;
  db.close();
  if (result.failed > 0) log(`${label}: ${result.failed} trigger calls failed, e.g. ${result.firstError}`);
  if (timedOut) log(`${label}: only ${row.done} of ${result.ok} executions finished within ${E2E_TIMEOUT_MS / 1000} s`);
  const seconds = (t1 - t0) / 1000;
  return { label, campaignId, requestPrefix, recipients, triggers: row.done, seconds, perSecond: row.done / seconds, delivered, failedRecipients, latencies: result.latencies, cpu: cpuDelta(before, after), loadgenCpu: result.cpuSeconds, timedOut };
}

async function bareE2e(stack: Stack, label: string, recipients: number, triggers: number): Promise<E2eResult & { requestPrefix: string }> {
  const requestPrefix = `${runId}-${label}`;
  const base = stack.bareFinished.count;
  const before = cpuSnapshot(stack);
  const load = startLoad(stack, { mode: 'temporal', address: stack.temporalAddress, taskQueue: BARE_TASK_QUEUE, bareShape: BARE_SHAPE, recipients, concurrency: E2E_CONCURRENCY, maxCalls: triggers, maxMs: 120_000, requestPrefix });
  const t0 = await load.started;
  const result = await load.result;
  if (result.failed > 0) log(`${label}: ${result.failed} workflow starts failed, e.g. ${result.firstError}`);
  const t1 = await stack.waitForBare(base + result.ok, E2E_TIMEOUT_MS);
  const after = cpuSnapshot(stack);
  const done = stack.bareFinished.count - base;
  const seconds = ((t1 ?? Date.now()) - t0) / 1000;
  return { label, requestPrefix, recipients, triggers: done, seconds, perSecond: done / seconds, delivered: done * recipients, failedRecipients: 0, latencies: result.latencies, cpu: cpuDelta(before, after), loadgenCpu: result.cpuSeconds, timedOut: t1 === undefined };
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
  heraldHistory?: HistoryShape;
  bareHistory?: HistoryShape;
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
  };
}

/**
 * Herald and bare Temporal on the same server, in the order Herald, bare, bare, Herald (half the
 * triggers each time), so that a change in background load during the pair hits both sides alike.
 */
async function pair(stack: Stack, client: Client, recipients: number, triggers: number): Promise<Pair> {
  const half = Math.ceil(triggers / 2);
  const users = (round: number): UserSelection => ({ kind: 'unique', prefix: `${runId}-r${recipients}-${round}` });
  log(`end to end, ${recipients} recipient(s) per call: 2 × ${half} Herald triggers and 2 × ${half} bare workflows (H, B, B, H) ...`);
  const h1 = await heraldE2e(stack, `e2e-r${recipients}-a`, recipients, half, users(1));
  const b1 = await bareE2e(stack, `bare-r${recipients}-a`, recipients, half);
  const b2 = await bareE2e(stack, `bare-r${recipients}-b`, recipients, half);
  const h2 = await heraldE2e(stack, `e2e-r${recipients}-b`, recipients, half, users(2));
  const herald = combine(h1, h2);
  const bare = combine(b1, b2);
  log(`  Herald ${fmt(h1.perSecond)} + ${fmt(h2.perSecond)} triggers/s, bare ${fmt(b1.perSecond)} + ${fmt(b2.perSecond)} workflows/s → ratio ${fmt((100 * herald.perSecond) / bare.perSecond, 0)}%`);
  const heraldHistory = await historyShape(client, executionWorkflowId(h1.campaignId, `${h1.requestPrefix}-0`));
  const bareHistory = await historyShape(client, `bare/${b1.requestPrefix}-0`);
  return { recipients, herald, bare, rounds: [h1.perSecond, b1.perSecond, b2.perSecond, h2.perSecond], ...(heraldHistory && { heraldHistory }), ...(bareHistory && { bareHistory }) };
}

async function warmUp(stack: Stack): Promise<void> {
  log('warm-up: 100 Herald triggers and 100 bare workflows (not reported) ...');
  await heraldE2e(stack, 'warmup', 1, 100, { kind: 'unique', prefix: `${runId}-warm` });
  await bareE2e(stack, 'bare-warmup', 1, 100);
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
  apiCpuPer1k: number;
  temporalCpuPer1k: number;
}

async function acceptRows(stack: Stack): Promise<AcceptRow[]> {
  const campaignId = await liveCampaign(stack, 'bench accept');
  const port = stack.options.acceptApiPort;
  log('accept path warm-up: 300 calls at concurrency 16 (not reported) ...');
  await startLoad(stack, { mode: 'http', port, campaignId, recipients: 1, concurrency: 16, maxCalls: 300, maxMs: 30_000, requestPrefix: `${runId}-acc-warm`, users: { kind: 'unique', prefix: `${runId}-acc-warm` } }).result;
  const rows: AcceptRow[] = [];
  const measure = async (kind: AcceptRow['kind'], recipients: number, concurrency: number) => {
    const label = `acc-${{ herald: 'h', 'bare start': 'b', 'bare start + Herald metadata': 'bm' }[kind]}-r${recipients}-c${concurrency}`;
    const bounds = { concurrency, maxCalls: scaled(3000), maxMs: 6_000, requestPrefix: `${runId}-${label}` };
    const before = cpuSnapshot(stack);
    const result = await startLoad(
      stack,
      kind === 'herald'
        ? { mode: 'http', port, campaignId, recipients, users: { kind: 'unique', prefix: `${runId}-${label}` }, ...bounds }
        : { mode: 'temporal', address: stack.temporalAddress, taskQueue: UNPOLLED_BARE_TASK_QUEUE, recipients, withHeraldMetadata: kind !== 'bare start', ...bounds },
    ).result;
    const cpu = cpuDelta(before, cpuSnapshot(stack));
    if (result.failed > 0) log(`${label}: ${result.failed} calls failed, e.g. ${result.firstError}`);
    const seconds = (result.finishedAt - result.startedAt) / 1000;
    const row: AcceptRow = { kind, recipients, concurrency, calls: result.ok, failed: result.failed, perSecond: result.ok / seconds, latency: summarize(result.latencies), apiCpuPer1k: (1000 * cpu.acceptApi) / result.ok, temporalCpuPer1k: (1000 * cpu.temporal) / result.ok };
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

function seedProfiles(stack: Stack, from: number, to: number): void {
  const db = openDb(stack);
  const now = new Date().toISOString();
  const insert = db.prepare("INSERT OR IGNORE INTO profiles (namespace, user_id, attributes, consents, auto_created, created_by_execution, created_at, updated_at) VALUES ('email', ?, ?, '{}', 0, NULL, ?, ?)");
  db.transaction(() => {
    for (let k = from; k < to; k++) insert.run(`${runId}-pool-${k}@bench.test`, JSON.stringify({ firstName: `Pat${k}`, plan: k % 3 === 0 ? 'pro' : 'free' }), now, now);
  })();
  db.close();
}

async function profileRows(stack: Stack): Promise<ProfileRow[]> {
  const db = openDb(stack);
  db.exec('DELETE FROM profiles');
  db.close();
  const rows: ProfileRow[] = [];
  const triggers = scaled(300);
  let stored = 0;
  for (const target of [1_000, 100_000]) {
    log(`seeding profiles up to ${target} ...`);
    seedProfiles(stack, stored, target);
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
  mode: TemporalDb;
  codec: CodecMode;
  bareShape: BareShape;
  accept?: AcceptRow[];
  pairs: Pair[];
  profiles?: ProfileRow[];
  memory: Record<string, ReturnType<typeof memory>>;
  totalCpu: CpuSnapshot;
}

function report(results: Results, sections: Set<Section>): string {
  const out: string[] = [];
  out.push(`# Herald benchmark, ${new Date().toISOString()}`, '', `Machine: ${machine()}. Scale ${SCALE}. Temporal dev server history ${TEMPORAL_DB_TEXT[results.mode]}. Payload encryption ${results.codec === 'on' ? 'on (a fresh AES-GCM key, as npm start; the bare baseline uses the same data converter)' : 'off (BENCH_CODEC=off)'}.`, '');
  if (results.accept) {
    out.push(
      '## Accept path: POST /v1/executions/unitary → 202',
      '',
      `An API process whose task queue no worker polls, so the API, its SQLite claim and the Temporal start are timed without the worker competing for the CPUs. Load generator in its own process, unique requestIds, up to 6 s or ${scaled(3000)} calls per row. "bare start" rows start a trivial workflow with @temporalio/client on the same server (no HTTP, no SQLite): the ceiling the Temporal dev server puts on any accept path. "bare start + Herald metadata" rows add what Herald attaches to every start (4 search attributes, summary, details, input of the same shape), to tell Temporal's share of Herald's cost from the API's.`,
      '',
      '| path | recipients | concurrency | calls OK | errors | calls/s | p50 ms | p95 ms | p99 ms | max ms | API CPU s / 1k calls | Temporal CPU s / 1k calls |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...results.accept.map((r) => `| ${r.kind} | ${r.recipients} | ${r.concurrency} | ${r.calls} | ${r.failed} | ${fmt(r.perSecond, 0)} | ${fmt(r.latency.p50)} | ${fmt(r.latency.p95)} | ${fmt(r.latency.p99)} | ${fmt(r.latency.max)} | ${r.kind === 'herald' ? fmt(r.apiCpuPer1k, 2) : '–'} | ${fmt(r.temporalCpuPer1k, 2)} |`),
      '',
    );
  }
  if (results.pairs.length > 0) {
    out.push(
      '## End to end: Herald vs bare Temporal, same server, back to back',
      '',
      `Triggers started at concurrency ${E2E_CONCURRENCY} (Herald over HTTP, bare with @temporalio/client), timed from the first call to the last execution finished. Herald counts an execution done when its workflow closed it in Herald's database (closeExecution) and checks every recipient is in the outbox. The bare workflow (bench/bare-workflow.ts) has the trigger workflow's activity shape with no-op activities; its sends here: ${BARE_SHAPE === 'send-in-the-same-task' ? 'one local activity for all recipients in the same workflow task (the send-in-the-same-task patch)' : 'one activity per recipient'}.`,
      '',
      '| recipients/call | triggers (each side) | Herald triggers/s | bare workflows/s | Herald / bare | rounds H, B, B, H (per s) | Herald deliveries/s | delivered to outbox | not sent | Herald accept p50 / p99 ms (under load) |',
      '|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|',
      ...results.pairs.map(
        (p) =>
          `| ${p.recipients} | ${p.herald.triggers} | ${fmt(p.herald.perSecond)} | ${fmt(p.bare.perSecond)} | ${fmt((100 * p.herald.perSecond) / p.bare.perSecond, 0)}% | ${p.rounds.map((r) => fmt(r)).join(', ')} | ${fmt(p.herald.perSecond * p.recipients)} | ${p.herald.delivered} / ${p.herald.triggers * p.recipients} | ${p.herald.failedRecipients} | ${fmt(summarize(p.herald.latencies).p50)} / ${fmt(summarize(p.herald.latencies).p99)} |`,
      ),
      '',
      'CPU seconds per 1,000 triggers, by process (utime+stime deltas from /proc/<pid>/stat over the run):',
      '',
      '| recipients/call | Herald: API | Herald: worker | Herald: Temporal server | Herald: load gen | Herald total | bare: worker | bare: Temporal server | bare: load gen | bare total |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...results.pairs.map((p) => {
        const h = p.herald;
        const b = p.bare;
        return `| ${p.recipients} | ${per1k(h.cpu.api, h.triggers)} | ${per1k(h.cpu.worker, h.triggers)} | ${per1k(h.cpu.temporal, h.triggers)} | ${per1k(h.loadgenCpu, h.triggers)} | ${per1k(h.cpu.api + h.cpu.worker + h.cpu.temporal + h.loadgenCpu, h.triggers)} | ${per1k(b.cpu.bareWorker, b.triggers)} | ${per1k(b.cpu.temporal, b.triggers)} | ${per1k(b.loadgenCpu, b.triggers)} | ${per1k(b.cpu.bareWorker + b.cpu.temporal + b.loadgenCpu, b.triggers)} |`;
      }),
      '',
      'CPU cost ratio, which background load on the machine disturbs far less than throughput: bare CPU per trigger (its worker + Temporal server) over Herald CPU per trigger (API + worker + Temporal server); 100% would mean Herald adds nothing.',
      '',
      '| recipients/call | Herald CPU ms / trigger | bare CPU ms / trigger | bare / Herald (CPU) |',
      '|---:|---:|---:|---:|',
      ...results.pairs.map((p) => {
        const h = (1000 * (p.herald.cpu.api + p.herald.cpu.worker + p.herald.cpu.temporal)) / p.herald.triggers;
        const b = (1000 * (p.bare.cpu.bareWorker + p.bare.cpu.temporal)) / p.bare.triggers;
        return `| ${p.recipients} | ${fmt(h)} | ${fmt(b)} | ${fmt((100 * b) / h, 0)}% |`;
      }),
      '',
      'History per execution (first execution of each run):',
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
      '| stored profiles | triggers | triggers/s | worker CPU s / 1k | API CPU s / 1k | Temporal CPU s / 1k | accept p99 ms (under load) |',
      '|---:|---:|---:|---:|---:|---:|---:|',
      ...results.profiles.map((r) => `| ${r.stored.toLocaleString('en')} | ${r.run.triggers} | ${fmt(r.run.perSecond)} | ${per1k(r.run.cpu.worker, r.run.triggers)} | ${per1k(r.run.cpu.api, r.run.triggers)} | ${per1k(r.run.cpu.temporal, r.run.triggers)} | ${fmt(summarize(r.run.latencies).p99)} |`),
      '',
    );
  }
  if (sections.has('resources') || sections.has('e2e')) {
    const rows: [string, ProcName][] = [
      ['API (trigger path)', 'api'],
      ['API (accept-only)', 'acceptApi'],
      ['Herald worker', 'worker'],
      ['Temporal dev server', 'temporal'],
      ['bare-Temporal worker', 'bareWorker'],
    ];
    out.push(
      '## Resources over the whole run',
      '',
      '| process | peak RSS (VmHWM) MiB | RSS at the end MiB | CPU s over the run |',
      '|---|---:|---:|---:|',
      ...rows.map(([title, key]) => `| ${title} | ${fmt(results.memory[key]?.peakRssMiB ?? Number.NaN, 0)} | ${fmt(results.memory[key]?.rssMiB ?? Number.NaN, 0)} | ${fmt(results.totalCpu[key])} |`),
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
    const heraldCpu = (p.herald.cpu.api + p.herald.cpu.worker + p.herald.cpu.temporal) / p.herald.triggers;
    const bareCpu = (p.bare.cpu.bareWorker + p.bare.cpu.temporal) / p.bare.triggers;
    targets.push(
      `- End to end ≥ 70% of bare Temporal, ${p.recipients} recipient(s)/call: ${fmt(100 * ratio, 0)}% by throughput (${fmt(p.herald.perSecond)} vs ${fmt(p.bare.perSecond)} per s) → ${ratio >= 0.7 ? 'MET' : 'MISSED'}; ${fmt((100 * bareCpu) / heraldCpu, 0)}% by CPU per trigger → ${bareCpu / heraldCpu >= 0.7 ? 'MET' : 'MISSED'}`,
    );
  }
  if (targets.length > 0) out.push('## Targets', '', ...targets, '');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function runMode(mode: TemporalDb, cpuProfDir: string | undefined): Promise<Results> {
  const stack = await Stack.start({ temporalPort: PORT_BASE + 233, apiPort: PORT_BASE, acceptApiPort: PORT_BASE + 1, ...(cpuProfDir && { cpuProfDir }), keepData: flags.has('--keep-data'), temporalDb: mode, codec: CODEC, log });
  const stopOnSignal = () => {
    log('interrupted: stopping the stack ...');
    void stack.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const client = new Client({ connection, namespace: 'default' });
  const cpuAtStart = cpuSnapshot(stack);
  const results: Results = { mode, codec: CODEC, bareShape: BARE_SHAPE, pairs: [], memory: {}, totalCpu: cpuAtStart };
  try {
    const needsE2e = wanted.has('e2e') || wanted.has('resources') || wanted.has('growth-recipients');
    if (needsE2e || wanted.has('growth-profiles')) await warmUp(stack);
    if (needsE2e) results.pairs.push(await pair(stack, client, 1, scaled(600)));
    if (wanted.has('growth-recipients')) {
      results.pairs.push(await pair(stack, client, 5, scaled(160)));
      results.pairs.push(await pair(stack, client, 20, scaled(60)));
    }
    if (wanted.has('growth-profiles')) results.profiles = await profileRows(stack);
    if (wanted.has('accept')) results.accept = await acceptRows(stack);
    const all = pids(stack);
    results.memory = Object.fromEntries(Object.entries(all).map(([name, pid]) => [name, pid ? memory(pid) : undefined]));
    results.totalCpu = cpuDelta(cpuAtStart, cpuSnapshot(stack));
  } finally {
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
    await connection.close();
    log('stopping the stack ...');
    await stack.stop();
  }
  return results;
}

/** Key figures of several dev-server modes next to each other. */
function comparison(all: Results[]): string {
  const accept = (r: Results, kind: AcceptRow['kind']) => r.accept?.find((row) => row.kind === kind && row.recipients === 1 && row.concurrency === 16);
  const e2e = all[0]?.pairs.map((p) => p.recipients) ?? [];
  return [
    '# Side by side: Temporal dev server history modes (same run, one fresh stack each, in this order)',
    '',
    `| mode | accept c=16 calls/s | accept c=16 p99 ms | bare start c=16 per s |${e2e.map((r) => ` e2e ${r} rcpt Herald / bare per s (ratio) |`).join('')}`,
    `|---|---:|---:|---:|${e2e.map(() => '---:|').join('')}`,
    ...all.map((r) => {
      const h = accept(r, 'herald');
      const b = accept(r, 'bare start');
      const pairs = e2e.map((n) => {
        const p = r.pairs.find((x) => x.recipients === n);
        return p ? `${fmt(p.herald.perSecond)} / ${fmt(p.bare.perSecond)} (${fmt((100 * p.herald.perSecond) / p.bare.perSecond, 0)}%)` : 'n/a';
      });
      return `| ${r.mode} | ${h ? fmt(h.perSecond, 0) : 'n/a'} | ${h ? fmt(h.latency.p99) : 'n/a'} | ${b ? fmt(b.perSecond, 0) : 'n/a'} |${pairs.map((p) => ` ${p} |`).join('')}`;
    }),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const profRoot = flags.has('--profile') ? mkdtempSync(join(tmpdir(), 'herald-bench-prof-')) : undefined;
  const all: Results[] = [];
  for (const mode of TEMPORAL_DBS) {
    const cpuProfDir = profRoot && join(profRoot, mode);
    if (cpuProfDir) for (const name of ['worker', 'api', 'accept-api', 'bare-worker']) mkdirSync(join(cpuProfDir, name), { recursive: true });
    log(`=== dev server history: ${mode} ===`);
    const results = await runMode(mode, cpuProfDir);
    all.push(results);
    console.log(report(results, wanted));
    if (cpuProfDir) {
      for (const name of ['worker', 'api', 'accept-api', 'bare-worker']) console.log(`\n## CPU profile (${mode}): ${name}\n\n${summarizeProfiles(join(cpuProfDir, name))}`);
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
