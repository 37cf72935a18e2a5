// What every part of one `npm run bench` shares, parsed once by bench/run.ts from the command line
// and the environment and handed down: the modes, the topology loop and the reports read these
// instead of process.env, so the knobs are read (and checked) in one place.
import type { CodecMode } from './stack';

/** The sections, in the order they run on each stack; `growth` is growth-recipients + growth-profiles. */
export const SECTIONS = [
  'accept',
  'e2e',
  'resources',
  'growth-recipients',
  'growth-profiles',
  'steps-cost',
  'import',
  'audience',
  'executions-list',
  'waiting-runs',
  'high-throughput',
] as const;
export type Section = (typeof SECTIONS)[number];
/**
 * Run only when named, never by `all`: waiting-runs leaves 10,000 runs waiting on the stack and
 * loads a memory probe into the worker, so it runs last and wants the stack to itself;
 * high-throughput sends some 70,000 messages through an API of its own for minutes.
 */
export const NAMED_ONLY_SECTIONS: readonly Section[] = ['waiting-runs', 'high-throughput'];

export interface BenchSettings {
  /** Names the run's request ids, user ids and JSON file, so that runs never collide. */
  runId: string;
  sections: Set<Section>;
  /** BENCH_SCALE: multiplies every call count. */
  scale: number;
  /** A call count times the scale, at least 10. */
  scaled: (n: number) => number;
  /** BENCH_PORT_BASE. */
  portBase: number;
  /** BENCH_CODEC. */
  codec: CodecMode;
  /** BENCH_CEILING: whether the 1-recipient end-to-end pair also runs the ceiling. */
  ceiling: boolean;
  /** BENCH_ROUNDS. */
  rounds: number;
  /** BENCH_WORKER_MAX_CACHED_WORKFLOWS: waiting-runs only, the worker's sticky cache limit instead of the SDK's default. */
  workerMaxCachedWorkflows?: number;
  /** BENCH_HT_PARTITIONS: HERALD_HIGH_THROUGHPUT_PARTITIONS for the stack's workers and APIs. */
  highThroughputPartitions?: number;
  /** --keep-data: leave each stack's data directory behind. */
  keepData: boolean;
  /** Progress to stderr; stdout carries only the markdown report. */
  log: (line: string) => void;
}
