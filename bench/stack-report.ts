// The markdown report of one stack, printed to stdout as soon as the stack is done: a heading
// naming the machine and topology, then each section's tables in a fixed order, then the targets.
// bench/compare-builds.ts keeps this output as each run's .md, so headings and columns stay put.
import { cpus, freemem, totalmem } from 'node:os';
import { acceptReport, acceptTargets } from './modes/accept';
import { audienceRunReport } from './modes/audience';
import { endToEndReport, endToEndTargets } from './modes/end-to-end';
import { executionListingReport } from './modes/executions-list';
import { profilesReport } from './modes/growth';
import { highThroughputReport, highThroughputTargets } from './modes/high-throughput';
import { profileImportReport } from './modes/import';
import { resourcesReport } from './modes/resources';
import { stepsCostReport } from './modes/steps-cost';
import { waitingRunsReport } from './modes/waiting-runs';
import type { Results } from './results';
import type { BenchSettings } from './settings';
import { topologyName, topologyText } from './topology';

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `node ${process.version}, ${cpus().length} logical CPUs (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM (${(freemem() / 2 ** 30).toFixed(1)} GiB free at the end)`;
}

export function stackReport(results: Results, bench: BenchSettings): string {
  const { sections } = bench;
  const pg = results.topology.database === 'postgres';
  const replicas = results.topology.replicas;
  const out: string[] = [
    `# Herald benchmark, ${new Date().toISOString()}: ${topologyName(results.topology)} (stack ${results.order}${bench.rounds > 1 ? `, round ${results.round}` : ''})`,
    '',
    `Machine: ${machine()}. Scale ${bench.scale}. ${topologyText(results.topology)}. Payload encryption ${results.codec === 'on' ? 'on (a fresh AES-GCM key, as npm start; the bare baseline uses the same data converter)' : 'off (BENCH_CODEC=off)'}.`,
    '',
  ];
  if (results.accept) out.push(...acceptReport(results.accept, replicas, pg, bench.scaled));
  out.push(...endToEndReport(results.pairs, replicas, pg));
  if (results.profiles) out.push(...profilesReport(results.profiles, pg));
  if (results.stepsCost) out.push(...stepsCostReport(results.stepsCost));
  if (results.profileImport) out.push(...profileImportReport(results.profileImport));
  if (results.audienceRun) out.push(...audienceRunReport(results.audienceRun));
  if (results.executionListing) out.push(...executionListingReport(results.executionListing));
  if (results.waitingRuns) out.push(...waitingRunsReport(results.waitingRuns));
  if (results.highThroughput) out.push(...highThroughputReport(results.highThroughput, replicas, pg));
  if (sections.has('resources') || sections.has('e2e')) out.push(...resourcesReport(results.memory, results.totalCpu, replicas, pg));
  const targets = [
    ...(results.accept ? acceptTargets(results.accept) : []),
    ...endToEndTargets(results.pairs),
    ...(results.highThroughput ? highThroughputTargets(results.highThroughput, pg) : []),
  ];
  if (targets.length > 0) out.push('## Targets', '', ...targets, '');
  return out.join('\n');
}
