import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer } from '../../temporal/dev-server';
import { freePort, sleep } from '../support/process-stack';
import {
  acceptFigures,
  expectNoCrash,
  finishRun,
  HIGH_THROUGHPUT_FAULT_TRIGGERS,
  holdBlocksInFlight,
  progressNow,
  startHighThroughputStack,
  startRunToItsMiddle,
  type HighThroughputFaultStack,
} from './support/high-throughput-run';

/** Long enough for the in-flight batches' completions to give up on the server. */
const OUTAGE_MS = 8_000;

/**
 * The Temporal dev server dies (SIGKILL) in the middle of a high-throughput run (issue 23, ADR
 * 0010) and comes back on the same port and SQLite file, as `npm start` brings it back. Accepting
 * needs no Temporal, so the callers go on; the dispatchers' batches in flight finish on the worker
 * but cannot report it, and are retried (or resumed) once the server is back. This file runs its
 * own dev server, not the run's shared in-memory one.
 */
describe('high-throughput run: Temporal dev server killed with SIGKILL mid-run', () => {
  const count = HIGH_THROUGHPUT_FAULT_TRIGGERS;
  let dir: string;
  let dbFilename: string;
  let port: number;
  let server: TestWorkflowEnvironment | undefined;
  let herald: HighThroughputFaultStack;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-faults-ht-temporal-'));
    dbFilename = join(dir, 'temporal.db');
    port = await freePort();
    server = await startDevServer({ port, dbFilename, log: () => {} });
    herald = await startHighThroughputStack(`127.0.0.1:${port}`);
  });
  afterAll(async () => {
    await herald?.close();
    await server?.teardown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`every one of ${count} accepted triggers is sent exactly once after the server comes back`, async () => {
    const { fake, proxy, stack } = herald;
    const midRun = await startRunToItsMiddle(herald, 'htt');
    const { run } = midRun;

    // Blocks in flight when the server goes: accepted by the provider, answers held.
    await holdBlocksInFlight(proxy);
    // A SIGKILL of the server (startDevServer's teardown).
    await server!.teardown();
    server = undefined;
    const atKill = progressNow(midRun, fake);
    await sleep(1_500);
    // The batches finish while the server is down and cannot report it.
    proxy.releaseHeld();
    await sleep(OUTAGE_MS - 1_500);
    const duringOutage = run.acceptedCount() - atKill.accepted;
    server = await startDevServer({ port, dbFilename, log: () => {} });

    const { accepted, drainedMs, ...figures } = await finishRun(herald, midRun);
    console.info(
      `[ht-temporal-restart] ${acceptFigures(run, count)}; SIGKILL at ${atKill.ms} ms with ${atKill.accepted} accepted and ${atKill.sent} sent; ` +
        `${duringOutage} accepted during the ${OUTAGE_MS} ms outage; all sent once after ${drainedMs} ms; ` +
        `${figures.providerRequests} provider requests, ${figures.keysRepeated} keys repeated`,
    );
    // The kill really was mid-run, and accepting went on without Temporal.
    expect(atKill.sent).toBeGreaterThan(0);
    expect(atKill.accepted).toBeLessThan(count);
    expect(duringOutage).toBeGreaterThan(0);
    // Worker and API rode out the outage without crashing.
    expectNoCrash(stack);
  }, 420_000);
});
