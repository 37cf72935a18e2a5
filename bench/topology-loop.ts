// The topology loop: every topology on a fresh stack of its own, one after the other, BENCH_ROUNDS
// times (every other round in reverse, A B C then C B A, so drift over the run weighs on all
// alike). On each stack the wanted sections run in a fixed order after one warm-up, and the
// stack's report is printed as soon as it stops, so a long run shows its results as it goes.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { cpuDelta, cpuSnapshot } from './cpu';
import { acceptRows } from './modes/accept';
import { audienceRun } from './modes/audience';
import { BARE_SHAPE, pair, warmUp } from './modes/end-to-end';
import { executionListing } from './modes/executions-list';
import { profileRows, recipientPairs } from './modes/growth';
import { HIGH_THROUGHPUT_API_PROFILE, highThroughput } from './modes/high-throughput';
import { profileImport } from './modes/import';
import { processMemory } from './modes/resources';
import { stepsCost } from './modes/steps-cost';
import { waitingRuns } from './modes/waiting-runs';
import { summarizeProfiles } from './profile-summary';
import type { Results } from './results';
import type { BenchSettings } from './settings';
import { Stack } from './stack';
import { closeDbOf } from './stack-database';
import { stackReport } from './stack-report';
import { topologyName, type Topology } from './topology';

const PROFILED_KINDS = ['worker', 'api', 'accept-api', 'bare-worker'];

async function runTopology(bench: BenchSettings, topology: Topology, order: number, round: number, cpuProfDir: string | undefined): Promise<Results> {
  const { sections: wanted, log } = bench;
  const startedAt = new Date().toISOString();
  // waiting-runs watches the worker's memory from inside it, and alone it runs as npm start would,
  // housekeeping included (the orphan sweep looks at the waiting runs once they are 2 minutes old).
  const watchesWorkerMemory = wanted.has('waiting-runs');
  const alone = watchesWorkerMemory && wanted.size === 1;
  if (watchesWorkerMemory && !alone) log('waiting-runs with other sections: it runs last, with the orphan sweep and the retention purge quieted as for them');
  const stack = await Stack.start({
    temporalPort: bench.portBase + 233,
    apiPort: bench.portBase,
    acceptApiPort: bench.portBase + 1,
    ...(cpuProfDir && { cpuProfDir }),
    keepData: bench.keepData,
    temporal: topology.temporal,
    ...(topology.temporalDb && { temporalDb: topology.temporalDb }),
    database: topology.database,
    replicas: topology.replicas,
    codec: bench.codec,
    ...(watchesWorkerMemory && { workerMemoryProbe: true }),
    ...(bench.workerMaxCachedWorkflows !== undefined && { workerMaxCachedWorkflows: bench.workerMaxCachedWorkflows }),
    ...(bench.highThroughputPartitions !== undefined && { highThroughputPartitions: bench.highThroughputPartitions }),
    ...(alone && { housekeeping: 'as-npm-start' as const }),
    log,
  });
  const stopOnSignal = () => {
    log('interrupted: stopping the stack ...');
    void stack.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const client = new Client({ connection, namespace: 'default' });
  const cpuAtStart = cpuSnapshot(stack);
  const results: Results = { order, round, topology, startedAt, codec: bench.codec, bareShape: BARE_SHAPE, pairs: [], memory: {}, totalCpu: cpuAtStart };
  try {
    const needsE2e = wanted.has('e2e') || wanted.has('resources') || wanted.has('growth-recipients');
    if (needsE2e || wanted.has('growth-profiles') || wanted.has('steps-cost') || wanted.has('high-throughput')) await warmUp(bench, stack);
    if (needsE2e) results.pairs.push(await pair(bench, stack, client, 1, bench.scaled(600), bench.ceiling));
    if (wanted.has('growth-recipients')) results.pairs.push(...(await recipientPairs(bench, stack, client)));
    if (wanted.has('growth-profiles')) results.profiles = await profileRows(bench, stack);
    if (wanted.has('steps-cost')) results.stepsCost = await stepsCost(bench, stack, client);
    if (wanted.has('accept')) results.accept = await acceptRows(bench, stack);
    if (wanted.has('import')) results.profileImport = await profileImport(bench, stack);
    if (wanted.has('audience')) results.audienceRun = await audienceRun(bench, stack);
    if (wanted.has('executions-list')) results.executionListing = await executionListing(bench, stack);
    if (wanted.has('high-throughput')) results.highThroughput = await highThroughput(bench, stack, client);
    // Last: it leaves its runs waiting on the stack.
    if (wanted.has('waiting-runs')) results.waitingRuns = await waitingRuns(bench, stack);
    results.memory = processMemory(stack);
    results.totalCpu = cpuDelta(cpuAtStart, cpuSnapshot(stack));
  } finally {
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
    await connection.close();
    await closeDbOf(stack);
    log('stopping the stack ...');
    await stack.stop();
  }
  return results;
}

/**
 * Runs every topology `bench.rounds` times and prints each stack's report (and, with profRoot, its
 * CPU profile summaries) to stdout as it finishes; returns the results in the order they ran.
 */
export async function runTopologies(bench: BenchSettings, topologies: Topology[], profRoot: string | undefined): Promise<Results[]> {
  const { log } = bench;
  const sequence: Array<{ topology: Topology; round: number }> = [];
  for (let round = 1; round <= bench.rounds; round++)
    for (const topology of round % 2 === 1 ? topologies : [...topologies].reverse()) sequence.push({ topology, round });
  if (sequence.length > 1) log(`${sequence.length} stacks, in this order: ${sequence.map((s, i) => `${i + 1}. ${topologyName(s.topology)}`).join('; ')}`);
  // The high-throughput section profiles the API it starts (with the raised rate limit) too.
  const profiledKinds = bench.sections.has('high-throughput') ? [...PROFILED_KINDS, HIGH_THROUGHPUT_API_PROFILE] : PROFILED_KINDS;
  const all: Results[] = [];
  for (const [index, { topology, round }] of sequence.entries()) {
    const name = topologyName(topology);
    const cpuProfDir = profRoot && join(profRoot, `${index + 1}-${name.replace(/[^a-z0-9]+/gi, '-')}`);
    if (cpuProfDir) for (const kind of profiledKinds) mkdirSync(join(cpuProfDir, kind), { recursive: true });
    log(`=== stack ${index + 1} of ${sequence.length}: ${name}${bench.rounds > 1 ? ` (round ${round})` : ''} ===`);
    const results = await runTopology(bench, topology, index + 1, round, cpuProfDir);
    all.push(results);
    console.log(stackReport(results, bench));
    if (cpuProfDir) {
      for (const kind of profiledKinds) console.log(`\n## CPU profile (${name}): ${kind}\n\n${summarizeProfiles(join(cpuProfDir, kind))}`);
    }
  }
  return all;
}
