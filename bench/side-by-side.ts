// The table that ends a run of more than one stack: each stack's key figures (accept at 16
// callers, the 1-recipient end-to-end pair, CPU per trigger by process kind, history size) on one
// row, in the order the stacks ran, so topologies and rounds read side by side.
import { heraldCpu, msPer, type ProcName } from './cpu';
import type { E2eResult } from './modes/end-to-end';
import type { Results } from './results';
import { fmt } from './stats';
import { topologyName } from './topology';

/** Key figures of every stack of the run next to each other, in the order they ran; skipped: topologies left out. */
export function sideBySide(all: Results[], ceiling: boolean, skipped: string[]): string {
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
    `Accept: Herald's POST /v1/executions/unitary, 1 recipient, 16 concurrent callers (spread round-robin over the APIs). End to end: 1 recipient per trigger, Herald (H), bare workflows of Herald's shape (B)${ceiling ? ' and the ceiling, bare workflows of one no-op local activity (C), run H B C C B H' : ', run H B B H (BENCH_CEILING=off)'} on the same server. CPU: ms per Herald trigger in the end-to-end runs, per process kind, summed over replicas; PostgreSQL is Herald's own server ("–" on SQLite, whose work is inside the API and worker). History: events of one 1-recipient trigger's workflow. "(to 95%)": the first 95% of the executions over the time until the last of them finished, which one straggling workflow task does not move.${skipped.length > 0 ? ` Skipped (SQLite is for one replica): ${skipped.join(', ')}.` : ''}`,
    '',
    '| # | started | topology | accept c=16 calls/s | accept c=16 p99 ms | bare start c=16 per s | e2e Herald triggers/s (to 95%) | e2e bare per s (to 95%) | e2e ceiling per s (to 95%) | Herald / bare (to 95%) | Herald / ceiling (to 95%) | CPU ms/trigger: API | worker | PostgreSQL | Temporal | total | history events / trigger |',
    '|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...all.map((r) => {
      const h = accept(r);
      const b = bareStart(r);
      const p = e2e(r);
      const rate = (x: E2eResult | undefined) => (x ? `${fmt(x.perSecond)} (${fmt(x.perSecond95)})` : 'n/a');
      const ratio = (a: E2eResult | undefined, b: E2eResult | undefined) =>
        a && b ? `${fmt((100 * a.perSecond) / b.perSecond, 0)}% (${fmt((100 * a.perSecond95) / b.perSecond95, 0)}%)` : 'n/a';
      return `| ${r.order} | ${r.startedAt.slice(11, 19)} | ${topologyName(r.topology)} | ${h ? fmt(h.perSecond, 0) : 'n/a'} | ${h ? fmt(h.latency.p99) : 'n/a'} | ${b ? fmt(b.perSecond, 0) : 'n/a'} | ${rate(p?.herald)} | ${rate(p?.bare)} | ${rate(p?.ceiling)} | ${ratio(p?.herald, p?.bare)} | ${ratio(p?.herald, p?.ceiling)} | ${ms(r, 'api')} | ${ms(r, 'worker')} | ${r.topology.database === 'postgres' ? ms(r, 'postgres') : '–'} | ${ms(r, 'temporal')} | ${p ? fmt(msPer(heraldCpu(p.herald.cpu), p.herald.triggers)) : 'n/a'} | ${p?.heraldHistory?.events ?? 'n/a'} |`;
    }),
    '',
  ].join('\n');
}
