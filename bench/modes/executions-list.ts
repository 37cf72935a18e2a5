// Section executions-list: 1,000,000 executions (× BENCH_SCALE, at least 10,000) written straight
// into the database, then GET /v1/executions timed per filter combination, first page and page 200
// through the cursor, with the query plans (bench/execution-listing.ts does the measuring): that
// every filter stays on an index as the table grows.
import { benchExecutionListing, type ExecutionListingBenchResult } from '../execution-listing';
import type { BenchSettings } from '../settings';
import type { Stack } from '../stack';
import { dbOf } from '../stack-database';
import { fmt } from '../stats';

export async function executionListing(bench: BenchSettings, stack: Stack): Promise<ExecutionListingBenchResult> {
  const count = Math.max(10_000, Math.round(1_000_000 * bench.scale));
  bench.log(`execution listing: ${count} executions, then GET /v1/executions per filter ...`);
  return await benchExecutionListing({ port: stack.apiPorts[0]!, db: dbOf(stack), count, prefix: `${bench.runId}-list`, log: bench.log });
}

export function executionListingReport(r: ExecutionListingBenchResult): string[] {
  return [
    '## Execution listing: GET /v1/executions at scale',
    '',
    `${r.executions.toLocaleString('en')} executions over 180 days (20 campaigns, 2% failed, 50 running, 0.1% audience, 1% by one trigger key), written straight into the database in ${fmt(r.seedSeconds, 0)} s${r.dialect === 'postgres' ? ' (then ANALYZE, as autovacuum would)' : ' (no ANALYZE: Herald runs none)'}. Each figure: ms per call through the HTTP API, limit 50, 30 calls after 3 warm-ups; the deep page is page 200 through the cursor (or the last page when there are fewer).`,
    '',
    '| filter | matching | first page p50 ms | first page p95 ms | deep page | deep p50 ms | deep p95 ms |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...r.rows.map(
      (row) =>
        `| ${row.label} | ${row.matches.toLocaleString('en')} | ${fmt(row.first.p50)} | ${fmt(row.first.p95)} | ${row.deepPage} | ${fmt(row.deep.p50)} | ${fmt(row.deep.p95)} |`,
    ),
    '',
    '| filter | plan, first page | plan, deep page |',
    '|---|---|---|',
    ...r.rows.map((row) => `| ${row.label} | ${row.planFirst.replaceAll('|', '\\|')} | ${row.planDeep.replaceAll('|', '\\|')} |`),
    '',
  ];
}
