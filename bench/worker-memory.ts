// The Herald worker's memory as a section samples it: the kernel's view (/proc, as every mode
// reads RSS) and what bench/worker-memory-probe.ts, loaded into the worker, reports from inside:
// the V8 heap of its main thread and of its workflow thread(s), and the sticky cache.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { memory } from './proc';

/** What the probe writes, twice a second. */
export interface WorkerMemorySample {
  /** When the probe took it (ms since the epoch). */
  at: number;
  rssMiB: number;
  /** V8 heap of the main thread: activities, the SDK, the database driver. */
  mainHeapUsedMiB: number;
  mainHeapTotalMiB: number;
  /** V8 heaps of the worker threads, summed: the SDK's workflow thread, where cached workflows live. */
  threadHeapUsedMiB: number;
  threadHeapTotalMiB: number;
  threads: number;
  /** The main isolate's heap limit, from which the SDK derives its default cache size. */
  heapLimitMiB: number;
  /** The worker's sticky cache limit, as the SDK compiled it; absent until Worker.create returned. */
  maxCachedWorkflows?: number;
  /** Workflows in the sticky cache now. */
  cachedWorkflows?: number;
  /** BENCH_WORKER_MAX_CACHED_WORKFLOWS set the limit instead of the SDK's default. */
  maxCachedWorkflowsOverridden?: boolean;
}

/** Where the probe of the worker with this data dir writes (StackOptions.workerMemoryProbe). */
export function workerMemoryFile(dataDir: string): string {
  return join(dataDir, 'worker-memory.json');
}

export interface WorkerMemoryReading {
  /** From /proc at the time of reading. */
  rssMiB: number;
  peakRssMiB: number;
  /** The probe's latest sample (at most about 0.5 s old), if it has written one. */
  probe?: WorkerMemorySample;
}

export function readWorkerMemory(dataDir: string, pid: number): WorkerMemoryReading {
  const kernel = memory(pid);
  const file = workerMemoryFile(dataDir);
  let probe: WorkerMemorySample | undefined;
  try {
    if (existsSync(file)) probe = JSON.parse(readFileSync(file, 'utf8')) as WorkerMemorySample;
  } catch {
    // Renamed into place while we read: the next reading has it.
  }
  return { rssMiB: kernel?.rssMiB ?? Number.NaN, peakRssMiB: kernel?.peakRssMiB ?? Number.NaN, ...(probe && { probe }) };
}
