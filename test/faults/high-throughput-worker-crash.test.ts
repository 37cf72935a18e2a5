import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  acceptFigures,
  expectHeldBlocksResentUnderTheirKeys,
  expectNoCrash,
  finishRun,
  HIGH_THROUGHPUT_FAULT_TRIGGERS,
  holdBlocksInFlight,
  progressNow,
  startHighThroughputStack,
  startRunToItsMiddle,
  type HighThroughputFaultStack,
} from './support/high-throughput-run';

/**
 * The worker process dies (SIGKILL) in the middle of a high-throughput run (issue 23, ADR 0010):
 * thousands of triggers accepted, some sent, email blocks accepted by the provider whose answers
 * never reach the worker, and the callers still calling. The restarted worker's dispatchers
 * resume the batches the dead one had claimed, with the same blocks under the same keys.
 */
describe('high-throughput run: worker killed with SIGKILL mid-run', () => {
  const count = HIGH_THROUGHPUT_FAULT_TRIGGERS;
  let herald: HighThroughputFaultStack;

  beforeAll(async () => {
    herald = await startHighThroughputStack(inject('temporalAddress'));
  });
  afterAll(async () => {
    await herald?.close();
  });

  it(`every one of ${count} accepted triggers is sent exactly once after the worker comes back`, async () => {
    const { fake, proxy, stack } = herald;
    const midRun = await startRunToItsMiddle(herald, 'htw');
    const { run } = midRun;

    // Blocks reach the provider and are accepted, but no answer comes back before the kill.
    const heldKeys = await holdBlocksInFlight(proxy);
    await stack.worker.kill('SIGKILL');
    const atKill = progressNow(midRun, fake);
    // The answers go nowhere: the worker that asked is gone. The callers never stopped.
    proxy.releaseHeld();
    await stack.worker.start();

    // The drain session in flight on the dead worker is retried (its batch resumed) once its 10 s heartbeat timeout has passed.
    const { accepted, drainedMs, ...figures } = await finishRun(herald, midRun);
    const held = expectHeldBlocksResentUnderTheirKeys(fake, heldKeys);
    console.info(
      `[ht-worker-crash] ${acceptFigures(run, count)}; SIGKILL at ${atKill.ms} ms with ${atKill.accepted} accepted and ${atKill.sent} sent, ` +
        `${held.blocks} blocks (${held.messages} messages) in flight; all sent once after ${drainedMs} ms; ` +
        `${figures.providerRequests} provider requests, ${figures.keysRepeated} keys repeated`,
    );
    // The kill really was mid-run: some sent before it, not all accepted by then.
    expect(atKill.sent).toBeGreaterThan(0);
    expect(atKill.accepted).toBeLessThan(count);
    expect(held.blocks).toBeGreaterThanOrEqual(2);
    expect(stack.worker.starts).toBe(2);
    expectNoCrash(stack);
  }, 420_000);
});
