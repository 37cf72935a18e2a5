// Section import: 100,000 profiles (× BENCH_SCALE, at least 1,000) through POST
// /v1/profiles/import in one streamed NDJSON body (bench/profile-import.ts does the measuring):
// the rate a bulk load goes at, and that the API's memory stays flat however large the body.
import { benchProfileImport, type ProfileImportBenchResult } from '../profile-import';
import type { BenchSettings } from '../settings';
import type { Stack } from '../stack';
import { fmt } from '../stats';

export async function profileImport(bench: BenchSettings, stack: Stack): Promise<ProfileImportBenchResult> {
  const count = Math.max(1000, Math.round(100_000 * bench.scale));
  bench.log(`bulk profile import: ${count} profiles in one streamed NDJSON body ...`);
  const result = await benchProfileImport({ port: stack.apiPorts[0]!, count, prefix: `${bench.runId}-import`, apiPid: stack.parts.apis[0]!.pid });
  bench.log(`  ${fmt(result.seconds)} s, ${fmt(result.profilesPerSecond, 0)} profiles/s, API peak RSS ${fmt(result.apiPeakRssMiB, 0)} MiB`);
  return result;
}

export function profileImportReport(r: ProfileImportBenchResult): string[] {
  return [
    '## Bulk profile import: POST /v1/profiles/import, one streamed NDJSON body',
    '',
    `${r.profiles.toLocaleString('en')} new profiles (${fmt(r.bytes / 2 ** 20)} MiB of NDJSON, sent as it is generated), timed from the first byte to the answer. API RSS: before the import, and its peak during it (${r.peakSource === 'VmHWM' ? 'VmHWM, reset just before' : r.peakSource === 'sampled' ? 'sampled every 50 ms' : 'unknown'}).`,
    '',
    '| profiles | MiB sent | seconds | profiles/s | created | updated | rejected | API RSS before MiB | API peak RSS MiB |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${r.profiles.toLocaleString('en')} | ${fmt(r.bytes / 2 ** 20)} | ${fmt(r.seconds)} | ${fmt(r.profilesPerSecond, 0)} | ${r.summary.created} | ${r.summary.updated} | ${r.summary.rejected} | ${fmt(r.apiRssBeforeMiB, 0)} | ${fmt(r.apiPeakRssMiB, 0)} |`,
    '',
  ];
}
