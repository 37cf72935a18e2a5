// Section accept: POST /v1/executions/unitary → 202, the path a caller waits on. Timed on the
// accept-only APIs, whose task queue no worker polls, so the API, its database claim and the
// Temporal start are measured without the worker competing for the CPUs. "bare start" rows (a
// @temporalio/client start on the same server) are the ceiling Temporal puts on any accept path;
// "bare start + Herald metadata" tells Temporal's share of Herald's cost from the API's.
import { cpuDelta, cpuSnapshot } from '../cpu';
import { liveCampaign } from '../herald-api';
import { startLoad } from '../load-process';
import type { BenchSettings } from '../settings';
import { UNPOLLED_BARE_TASK_QUEUE, type Stack } from '../stack';
import { fmt, summarize, type LatencySummary } from '../stats';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface AcceptRow {
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

export async function acceptRows(bench: BenchSettings, stack: Stack): Promise<AcceptRow[]> {
  const { log, runId, scaled } = bench;
  const campaignId = await liveCampaign(stack, 'bench accept');
  const ports = stack.acceptApiPorts;
  log('accept path warm-up: 300 calls at concurrency 16 (not reported) ...');
  await startLoad(stack, {
    mode: 'http',
    ports,
    campaignId,
    recipients: 1,
    concurrency: 16,
    maxCalls: 300,
    maxMs: 30_000,
    requestPrefix: `${runId}-acc-warm`,
    users: { kind: 'unique', prefix: `${runId}-acc-warm` },
  }).result;
  const rows: AcceptRow[] = [];
  const measure = async (kind: AcceptRow['kind'], recipients: number, concurrency: number) => {
    const label = `acc-${{ herald: 'h', 'bare start': 'b', 'bare start + Herald metadata': 'bm' }[kind]}-r${recipients}-c${concurrency}`;
    const bounds = { concurrency, maxCalls: scaled(3000), maxMs: 6_000, requestPrefix: `${runId}-${label}` };
    const before = cpuSnapshot(stack);
    const result = await startLoad(
      stack,
      kind === 'herald'
        ? { mode: 'http', ports, campaignId, recipients, users: { kind: 'unique', prefix: `${runId}-${label}` }, ...bounds }
        : {
            mode: 'temporal',
            address: stack.temporalAddress,
            taskQueue: UNPOLLED_BARE_TASK_QUEUE,
            recipients,
            withHeraldMetadata: kind !== 'bare start',
            ...bounds,
          },
    ).result;
    const cpu = cpuDelta(before, cpuSnapshot(stack));
    if (result.failed > 0) log(`${label}: ${result.failed} calls failed, e.g. ${result.firstError}`);
    const seconds = (result.finishedAt - result.startedAt) / 1000;
    const row: AcceptRow = {
      kind,
      recipients,
      concurrency,
      calls: result.ok,
      failed: result.failed,
      perSecond: result.ok / seconds,
      latency: summarize(result.latencies),
      apiCpuPer1k: (1000 * cpu.acceptApi) / result.ok,
      temporalCpuPer1k: (1000 * cpu.temporal) / result.ok,
      postgresCpuPer1k: (1000 * cpu.postgres) / result.ok,
    };
    log(`accept (${kind}) ${recipients} recipient(s) at concurrency ${concurrency}: ${fmt(row.perSecond, 0)} calls/s, p99 ${fmt(row.latency.p99)} ms`);
    rows.push(row);
    await sleep(500);
  };
  // Interleaved per concurrency level, so that the server's growing database and any drift in
  // background load weigh on every kind of row alike; the table lists them grouped by kind.
  const kinds: Array<[AcceptRow['kind'], number]> = [
    ['herald', 1],
    ['bare start', 1],
    ['bare start + Herald metadata', 1],
    ['herald', 20],
  ];
  for (const concurrency of [1, 16, 64]) for (const [kind, recipients] of kinds) await measure(kind, recipients, concurrency);
  const rank = (row: AcceptRow) => (row.kind === 'herald' ? row.recipients : row.kind === 'bare start' ? 100 : 101);
  return rows.sort((a, b) => rank(a) - rank(b) || a.concurrency - b.concurrency);
}

/** The accept table; replicas: accept-only APIs of the stack; pg: Herald's data in PostgreSQL. */
export function acceptReport(rows: AcceptRow[], replicas: number, pg: boolean, scaled: (n: number) => number): string[] {
  return [
    '## Accept path: POST /v1/executions/unitary → 202',
    '',
    `${replicas === 1 ? 'An API process' : `${replicas} API processes (calls round-robin)`} whose task queue no worker polls, so the API, its database claim and the Temporal start are timed without the worker competing for the CPUs. Load generator in its own process, unique requestIds, up to 6 s or ${scaled(3000)} calls per row. "bare start" rows start a trivial workflow with @temporalio/client on the same server (no HTTP, no database): the ceiling the Temporal server puts on any accept path. "bare start + Herald metadata" rows add what Herald attaches to every start (4 search attributes, summary, details, input of the same shape), to tell Temporal's share of Herald's cost from the API's.`,
    '',
    '| path | recipients | concurrency | calls OK | errors | calls/s | p50 ms | p95 ms | p99 ms | max ms | API CPU s / 1k calls | PostgreSQL CPU s / 1k calls | Temporal CPU s / 1k calls |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.kind} | ${r.recipients} | ${r.concurrency} | ${r.calls} | ${r.failed} | ${fmt(r.perSecond, 0)} | ${fmt(r.latency.p50)} | ${fmt(r.latency.p95)} | ${fmt(r.latency.p99)} | ${fmt(r.latency.max)} | ${r.kind === 'herald' ? fmt(r.apiCpuPer1k, 2) : '–'} | ${pg && r.kind === 'herald' ? fmt(r.postgresCpuPer1k, 2) : '–'} | ${fmt(r.temporalCpuPer1k, 2)} |`,
    ),
    '',
  ];
}

/** The accept targets: ≥ 500 calls/s and p99 ≤ 50 ms at 16 concurrent callers, 1 recipient. */
export function acceptTargets(rows: AcceptRow[]): string[] {
  const c16 = rows.find((r) => r.kind === 'herald' && r.recipients === 1 && r.concurrency === 16);
  if (!c16) return [];
  return [
    `- Accept ≥ 500 calls/s at 16 concurrent callers (1 recipient): ${fmt(c16.perSecond, 0)} calls/s → ${c16.perSecond >= 500 ? 'MET' : 'MISSED'}`,
    `- Accept p99 ≤ 50 ms at 16 concurrent callers (1 recipient): ${fmt(c16.latency.p99)} ms → ${c16.latency.p99 <= 50 ? 'MET' : 'MISSED'}`,
  ];
}
