// The bulk profile import (POST /v1/profiles/import) through the real API: `count` profiles in
// one NDJSON body generated as it is sent (a streamed, chunked request body, never whole in the
// bench's memory either), timed from the first byte to the answer. Run by `npm run bench:import`
// (bench/run.ts, section import) on a fresh stack, or by any caller with an API's port.
import { readFileSync, writeFileSync } from 'node:fs';

export interface ProfileImportBenchResult {
  profiles: number;
  /** Bytes of NDJSON sent. */
  bytes: number;
  seconds: number;
  profilesPerSecond: number;
  /** The API's answer: received, created, updated, rejected, errors. */
  summary: { received: number; created: number; updated: number; rejected: number; errors: unknown[] };
  /** The API process's RSS before the import, and its peak during it (VmHWM reset just before when the kernel lets us, else sampled every 50 ms); MiB, NaN when unknown. */
  apiRssBeforeMiB: number;
  apiPeakRssMiB: number;
  /** How the peak was taken: the kernel's VmHWM since a reset, or sampling. */
  peakSource: 'VmHWM' | 'sampled' | 'unknown';
}

/** One realistic line: a handful of attributes, consents on half of them, a locale on a third (so both upsert statements of a batch run). */
function line(prefix: string, i: number): string {
  return JSON.stringify({
    namespace: 'email',
    userId: `${prefix}-${i}@bench.test`,
    attributes: {
      firstName: `Pat${i}`,
      lastName: `Lee${i % 977}`,
      plan: i % 3 === 0 ? 'pro' : 'free',
      score: i % 101,
      signupAt: '2026-01-15T10:00:00Z',
      tags: ['bench', `cohort-${i % 12}`],
    },
    ...(i % 2 === 0 && { consents: { email: 'in', ...(i % 4 === 0 && { sms: 'out' }) } }),
    ...(i % 3 === 0 && { locale: i % 2 === 0 ? 'pt-br' : 'fr' }),
  });
}

const statusKiB = (pid: number, key: string) => {
  try {
    return Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
};

/** Resets the process's VmHWM to its current RSS (Linux ≥ 4.0, same user); false when not allowed. */
function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface PeakRssTracker {
  /** How the peak is taken: the kernel's VmHWM since a reset, else RSS sampled every 50 ms. */
  readonly source: 'VmHWM' | 'sampled';
  /** RSS when the tracker started, MiB (NaN once the process is gone). */
  readonly rssBeforeMiB: number;
  /** The peak RSS since the tracker started, MiB; stops the sampling. */
  peakMiB(): number;
}

/** Tracks a process's peak RSS from now on (for one measurement: call peakMiB() once, at its end). */
export function peakRssTracker(pid: number): PeakRssTracker {
  const rssBeforeMiB = statusKiB(pid, 'VmRSS') / 1024;
  if (resetPeakRss(pid)) return { source: 'VmHWM', rssBeforeMiB, peakMiB: () => statusKiB(pid, 'VmHWM') / 1024 };
  let peak = rssBeforeMiB;
  const sampler = setInterval(() => (peak = Math.max(peak, statusKiB(pid, 'VmRSS') / 1024)), 50);
  sampler.unref();
  return {
    source: 'sampled',
    rssBeforeMiB,
    peakMiB: () => {
      clearInterval(sampler);
      return Math.max(peak, statusKiB(pid, 'VmRSS') / 1024);
    },
  };
}

/**
 * Imports `count` profiles through the API on `port`; `line(i)` writes the i-th line (default: a
 * realistic profile under `prefix`). With `apiPid`, the API's RSS before and its peak during the import.
 */
export async function benchProfileImport(options: {
  port: number;
  count: number;
  prefix: string;
  apiPid?: number;
  apiKey?: string;
  linesPerChunk?: number;
  line?: (i: number) => string;
}): Promise<ProfileImportBenchResult> {
  const { port, count, prefix, apiPid } = options;
  const lineAt = options.line ?? ((i: number) => line(prefix, i));
  const linesPerChunk = options.linesPerChunk ?? 1000;
  const encoder = new TextEncoder();
  let next = 0;
  let bytes = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (next >= count) return controller.close();
      const end = Math.min(count, next + linesPerChunk);
      let text = '';
      for (; next < end; next++) text += `${lineAt(next)}\n`;
      const chunk = encoder.encode(text);
      bytes += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });

  const tracker = apiPid ? peakRssTracker(apiPid) : undefined;
  const started = performance.now();
  try {
    const response = await fetch(`http://127.0.0.1:${port}/v1/profiles/import`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', ...(options.apiKey && { authorization: `Bearer ${options.apiKey}` }) },
      body,
      duplex: 'half',
      signal: AbortSignal.timeout(600_000),
    } as RequestInit);
    const text = await response.text();
    const seconds = (performance.now() - started) / 1000;
    if (response.status !== 200) throw new Error(`POST /v1/profiles/import answered ${response.status}: ${text.slice(0, 2000)}`);
    const summary = JSON.parse(text) as ProfileImportBenchResult['summary'];
    if (summary.received !== count || summary.rejected !== 0)
      throw new Error(`the import read ${summary.received} of ${count} lines and rejected ${summary.rejected}: ${JSON.stringify(summary.errors.slice(0, 5))}`);
    return {
      profiles: count,
      bytes,
      seconds,
      profilesPerSecond: count / seconds,
      summary,
      apiRssBeforeMiB: tracker?.rssBeforeMiB ?? Number.NaN,
      apiPeakRssMiB: tracker?.peakMiB() ?? Number.NaN,
      peakSource: tracker?.source ?? 'unknown',
    };
  } finally {
    tracker?.peakMiB();
  }
}
