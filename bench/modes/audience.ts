// Section audience: 100,000 profiles (× BENCH_SCALE, at least 1,000) imported, then one
// unthrottled audience run of a marketing email campaign to all of them through the outbox
// provider (bench/audience-run.ts does the measuring): the messages/s of a broadcast, how long
// freezing the audience takes, and the worker's peak memory while it sends.
import { benchAudienceRun, type AudienceRunBenchResult } from '../audience-run';
import type { BenchSettings } from '../settings';
import type { Stack } from '../stack';
import { fmt } from '../stats';

export async function audienceRun(bench: BenchSettings, stack: Stack): Promise<AudienceRunBenchResult> {
  const { log } = bench;
  const count = Math.max(1000, Math.round(100_000 * bench.scale));
  log(`audience run: ${count} members, unthrottled, to the outbox ...`);
  const result = await benchAudienceRun({
    port: stack.apiPorts[0]!,
    count,
    prefix: `${bench.runId}-audience`,
    apiPid: stack.parts.apis[0]!.pid,
    workerPid: stack.parts.workers[0]!.pid,
    log,
  });
  log(`  ${fmt(result.seconds)} s, ${fmt(result.messagesPerSecond, 0)} messages/s, worker peak RSS ${fmt(result.workerPeakRssMiB, 0)} MiB`);
  return result;
}

export function audienceRunReport(r: AudienceRunBenchResult): string[] {
  return [
    '## Audience execution: POST /v1/executions/audience, one unthrottled run to the outbox provider',
    '',
    `A rule audience of ${r.profiles.toLocaleString('en')} profiles (imported in ${fmt(r.importSeconds)} s), a marketing email campaign rendering profile attributes and context, timed from the call to the execution's completion. Freezing is the run's first activity (one INSERT … SELECT of every member); sending is the batches after it. Peak RSS is the kernel's VmHWM, reset just before the run.`,
    '',
    '| members | sent | seconds | messages/s end to end | freeze s | messages/s while sending | worker peak RSS MiB | API peak RSS MiB |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${r.profiles.toLocaleString('en')} | ${r.sent.toLocaleString('en')} | ${fmt(r.seconds)} | ${fmt(r.messagesPerSecond, 0)} | ${fmt(r.freezeSeconds)} | ${fmt(r.sendingMessagesPerSecond, 0)} | ${fmt(r.workerPeakRssMiB, 0)} | ${fmt(r.apiPeakRssMiB, 0)} |`,
    '',
  ];
}
