import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sleep } from '../support/process-stack';
import {
  acceptFigures,
  expectNoCrash,
  finishRun,
  HIGH_THROUGHPUT_FAULT_TRIGGERS,
  progressNow,
  startHighThroughputStack,
  startRunToItsMiddle,
  type HighThroughputFaultStack,
} from './support/high-throughput-run';

/**
 * The API process dies (SIGKILL) in the middle of a high-throughput run (issue 23, ADR 0010),
 * with dozens of calls in flight: some in a group commit that never finished, some perhaps
 * committed but not yet answered. The callers see connection errors and retry the same body
 * (same requestId) until the API is back on the same port; a call whose trigger the dead process
 * had committed is answered with that first execution, and every trigger is sent once.
 */
describe('high-throughput run: API killed with SIGKILL mid-run', () => {
  const count = HIGH_THROUGHPUT_FAULT_TRIGGERS;
  let herald: HighThroughputFaultStack;

  beforeAll(async () => {
    herald = await startHighThroughputStack(inject('temporalAddress'));
  });
  afterAll(async () => {
    await herald?.close();
  });

  it(`every one of ${count} triggers is accepted once and sent exactly once across the API's restart`, async () => {
    const { fake, stack } = herald;
    const midRun = await startRunToItsMiddle(herald, 'hta');
    const { run } = midRun;

    await stack.api.kill('SIGKILL');
    const atKill = progressNow(midRun, fake);
    // Meanwhile the callers meet a port nobody listens on, and retry; the worker sends what was committed.
    await sleep(1_000);
    await stack.api.start();

    // Checks among the rest that each call's executionId is the one in the database: the first
    // claim's, when the dead API had committed it.
    const { accepted, drainedMs, ...figures } = await finishRun(herald, midRun);
    const caught = accepted.filter((a) => a.attempts.some((attempt) => attempt.status === 0));
    console.info(
      `[ht-api-restart] ${acceptFigures(run, count)}; SIGKILL at ${atKill.ms} ms with ${atKill.accepted} accepted and ${atKill.sent} sent; ` +
        `${caught.length} calls retried after a connection error (at most ${Math.max(0, ...caught.map((a) => a.attempts.length))} attempts), ` +
        `${caught.filter((a) => a.attempts.at(-1)!.replay).length} answered as a repeat of a claim the dead API had committed; ` +
        `all sent once after ${drainedMs} ms; ${figures.providerRequests} provider requests`,
    );
    // The kill really was mid-run, with calls in flight.
    expect(atKill.sent).toBeGreaterThan(0);
    expect(atKill.accepted).toBeLessThan(count);
    expect(caught.length).toBeGreaterThan(0);
    expect(stack.api.starts).toBe(2);
    expectNoCrash(stack);
  }, 420_000);
});
