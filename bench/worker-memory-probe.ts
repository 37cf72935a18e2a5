// Loaded into the Herald worker with `--import` when a bench section asks for its memory
// (StackOptions.workerMemoryProbe; bench/worker-memory.ts reads what it writes). The kernel's RSS
// covers the whole process, but V8 heaps are per isolate: the worker's main thread holds the
// activities and the SDK, and the SDK's workflow thread (worker_threads) holds every workflow in
// the sticky cache. So the probe tracks the threads the process starts and, twice a second,
// writes both heaps, the cache's size and its limit (maxCachedWorkflows) to the file named by
// BENCH_WORKER_MEMORY_FILE.
//
// Nothing here changes what the worker does, except BENCH_WORKER_MAX_CACHED_WORKFLOWS, which
// overrides the SDK's default sticky cache size to measure another setting without editing
// src/worker/create-worker.ts. Forked children (the render pool) and worker threads inherit the
// `--import`: the probe acts only in the main thread of the process the bench spawned, and takes
// its variables out of the environment before anything forks.
import { renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { getHeapStatistics } from 'node:v8';
import { isMainThread, type Worker as WorkerThread } from 'node:worker_threads';
import type { Worker as TemporalWorker, WorkerOptions } from '@temporalio/worker';
import type { WorkerMemorySample } from './worker-memory';

const file = process.env.BENCH_WORKER_MEMORY_FILE;
const maxCachedOverride = Number(process.env.BENCH_WORKER_MAX_CACHED_WORKFLOWS) || undefined;
delete process.env.BENCH_WORKER_MEMORY_FILE;
delete process.env.BENCH_WORKER_MAX_CACHED_WORKFLOWS;

if (isMainThread && file) {
  const require = createRequire(import.meta.url);
  const MiB = 2 ** 20;

  // The SDK reads `worker_threads.Worker` when it starts its workflow thread(s), after this ran.
  const workerThreads = require('node:worker_threads') as typeof import('node:worker_threads');
  const threads = new Set<WorkerThread>();
  const ThreadClass = workerThreads.Worker;
  workerThreads.Worker = class TrackedThread extends ThreadClass {
    constructor(...args: ConstructorParameters<typeof ThreadClass>) {
      super(...args);
      threads.add(this);
      this.once('exit', () => threads.delete(this));
    }
  };

  // Worker.create is a static of the one class every importer shares: wrap it to keep the
  // instance (its cache size and compiled options) and to apply the override.
  const sdk = require('@temporalio/worker') as typeof import('@temporalio/worker');
  let temporalWorker: TemporalWorker | undefined;
  const create = sdk.Worker.create.bind(sdk.Worker);
  sdk.Worker.create = async (options: WorkerOptions) => {
    temporalWorker = await create(maxCachedOverride === undefined ? options : { ...options, maxCachedWorkflows: maxCachedOverride });
    return temporalWorker;
  };

  /** Node 22.16 and 24 (the worker's runtime here); @types/node 20 does not declare it. */
  type HeapReadable = WorkerThread & { getHeapStatistics?: () => Promise<{ used_heap_size: number; total_heap_size: number }> };
  const threadHeaps = async () => {
    let used = 0;
    let total = 0;
    let counted = 0;
    for (const thread of threads) {
      try {
        const heap = await (thread as HeapReadable).getHeapStatistics?.();
        if (!heap) continue;
        used += heap.used_heap_size;
        total += heap.total_heap_size;
        counted += 1;
      } catch {
        // Not running yet, or gone.
      }
    }
    return { used, total, counted };
  };

  const write = async () => {
    const main = getHeapStatistics();
    const thread = await threadHeaps();
    const sample: WorkerMemorySample = {
      at: Date.now(),
      rssMiB: process.memoryUsage.rss() / MiB,
      mainHeapUsedMiB: main.used_heap_size / MiB,
      mainHeapTotalMiB: main.total_heap_size / MiB,
      threadHeapUsedMiB: thread.used / MiB,
      threadHeapTotalMiB: thread.total / MiB,
      threads: thread.counted,
      heapLimitMiB: main.heap_size_limit / MiB,
      ...(temporalWorker && {
        maxCachedWorkflows: temporalWorker.options.maxCachedWorkflows,
        cachedWorkflows: temporalWorker.getStatus().numCachedWorkflows,
      }),
      ...(maxCachedOverride !== undefined && { maxCachedWorkflowsOverridden: true }),
    };
    // Whole or not at all: the bench may read between two writes.
    writeFileSync(`${file}.tmp`, JSON.stringify(sample));
    renameSync(`${file}.tmp`, file);
  };
  let writing = false;
  setInterval(() => {
    if (writing) return;
    writing = true;
    write()
      .catch(() => {})
      .finally(() => {
        writing = false;
      });
  }, 500).unref();
}
