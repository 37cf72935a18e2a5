/**
 * How long a unitary trigger's answer waits for its workflow's start (src/services/start-wait.ts,
 * ADR 0011), on fake timers: the answer comes with the start when it is quick, after the wait when
 * it is not (the start goes on, tried again while Temporal is unavailable, and a failure for good
 * is reported, not thrown), and with the start itself once too many starts are in flight.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { START_RETRY_WINDOW_MS, StartWait } from '../../src/services/start-wait';

/** Temporal unreachable, as the client reports it (gRPC UNAVAILABLE). */
const unavailable = () => Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 });

/** Starts that the test settles by hand, one per try. */
function startsByHand() {
  const tries: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const start = () =>
    new Promise<void>((resolve, reject) => {
      tries.push({ resolve, reject });
    });
  return { start, tries };
}

describe('StartWait', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('answers with a start that is quicker than the wait', async () => {
    const wait = new StartWait(100);
    const { start, tries } = startsByHand();
    let answered = false;
    const answer = wait.forStart(start, () => {}).then(() => (answered = true));
    await vi.advanceTimersByTimeAsync(20);
    expect(answered).toBe(false);
    tries[0]!.resolve();
    await answer;
    expect(wait.startsInFlight).toBe(0);
  });

  it('fails the call with a start refused for good within the wait', async () => {
    const wait = new StartWait(100);
    const { start, tries } = startsByHand();
    const answer = wait.forStart(start, () => {});
    tries[0]!.reject(new Error('search attribute CampaignId is not defined'));
    await expect(answer).rejects.toThrow('search attribute CampaignId is not defined');
    expect(tries).toHaveLength(1);
    expect(wait.startsInFlight).toBe(0);
  });

  it('answers after the wait while Temporal is unavailable, and starts once it is back', async () => {
    const wait = new StartWait(100);
    const { start, tries } = startsByHand();
    const gaveUp: unknown[] = [];
    let answered = false;
    const answer = wait.forStart(start, (error) => gaveUp.push(error)).then(() => (answered = true));
    tries[0]!.reject(unavailable());
    await vi.advanceTimersByTimeAsync(99);
    expect(answered).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await answer;
    expect(wait.startsInFlight).toBe(1);
    // Tried again with pauses that grow, until one goes through.
    await vi.advanceTimersByTimeAsync(250);
    expect(tries).toHaveLength(2);
    tries[1]!.reject(unavailable());
    await vi.advanceTimersByTimeAsync(500);
    expect(tries).toHaveLength(3);
    tries[2]!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(wait.startsInFlight).toBe(0);
    expect(gaveUp).toEqual([]);
  });

  it('leaves a start to the orphan sweep once its window is over, and reports it', async () => {
    const wait = new StartWait(100);
    const gaveUp: unknown[] = [];
    let tries = 0;
    await Promise.all([
      wait.forStart(
        async () => {
          tries++;
          throw unavailable();
        },
        (error) => gaveUp.push(error),
      ),
      vi.advanceTimersByTimeAsync(100),
    ]);
    await vi.advanceTimersByTimeAsync(START_RETRY_WINDOW_MS);
    expect(gaveUp).toHaveLength(1);
    expect(tries).toBeGreaterThan(10);
    expect(tries).toBeLessThan(30);
    expect(wait.startsInFlight).toBe(0);
  });

  it('makes its one start itself, and waits for it, once as many starts as allowed are in flight', async () => {
    const wait = new StartWait(100, 2);
    const stuck = startsByHand();
    for (let i = 0; i < 2; i++) await Promise.all([wait.forStart(stuck.start, () => {}), vi.advanceTimersByTimeAsync(100)]);
    expect(wait.startsInFlight).toBe(2);
    const third = startsByHand();
    let answered = false;
    const answer = wait.forStart(third.start, () => {}).then(() => (answered = true));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(answered).toBe(false);
    // Not tried again: its caller gets the failure (503) and retries with the same requestId.
    third.tries[0]!.reject(unavailable());
    await expect(answer).rejects.toThrow('UNAVAILABLE');
    expect(third.tries).toHaveLength(1);
    for (const { resolve } of stuck.tries) resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(wait.startsInFlight).toBe(0);
  });

  it('stops trying when the API stops, and lets it wait for its last starts', async () => {
    const wait = new StartWait(100);
    const { start, tries } = startsByHand();
    const gaveUp: unknown[] = [];
    await Promise.all([wait.forStart(start, (error) => gaveUp.push(error)), vi.advanceTimersByTimeAsync(100)]);
    let settled = false;
    const lastStarts = wait.settled(5_000).then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(settled).toBe(false);
    wait.stop();
    tries[0]!.reject(unavailable());
    await lastStarts;
    expect(tries).toHaveLength(1);
    expect(gaveUp).toHaveLength(1);
  });
});
