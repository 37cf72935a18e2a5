/**
 * The API's nudges to high-throughput dispatchers (ADR 0010): at most one signal per dispatcher
 * per HIGH_THROUGHPUT_NUDGE_INTERVAL_MS, and a trigger queued inside the interval still gets one at
 * its end, so no accepted trigger is left to the dispatcher's idle timer. In process, on fake
 * timers, against a client that records its signals.
 */
import type { Client } from '@temporalio/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HIGH_THROUGHPUT_NUDGE_INTERVAL_MS, nudgeDispatcher } from '../../src/services/high-throughput-dispatchers';

function recordingClient() {
  const signals: { workflowId: string; at: number }[] = [];
  const client = {
    withDeadline: (_deadline: number, call: () => Promise<unknown>) => call(),
    workflow: {
      getHandle: (workflowId: string) => ({
        signal: async () => {
          signals.push({ workflowId, at: Date.now() });
        },
      }),
    },
  } as unknown as Client;
  return { client, signals };
}

describe('nudges to high-throughput dispatchers', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the first at once, folds the rest of the interval into one at its end, per dispatcher', async () => {
    const { client, signals } = recordingClient();
    nudgeDispatcher(client, 'd/0');
    nudgeDispatcher(client, 'd/1');
    await vi.advanceTimersByTimeAsync(10);
    for (let i = 0; i < 20; i++) nudgeDispatcher(client, 'd/0');
    await vi.advanceTimersByTimeAsync(0);
    expect(signals.map((s) => s.workflowId)).toEqual(['d/0', 'd/1']);

    // The trailing nudge, at the interval's end: once for all twenty.
    await vi.advanceTimersByTimeAsync(HIGH_THROUGHPUT_NUDGE_INTERVAL_MS);
    expect(signals.map((s) => s.workflowId)).toEqual(['d/0', 'd/1', 'd/0']);
    expect(signals[2]!.at - signals[0]!.at).toBe(HIGH_THROUGHPUT_NUDGE_INTERVAL_MS);

    // Nothing queued since: nothing more, however long it waits.
    await vi.advanceTimersByTimeAsync(10 * HIGH_THROUGHPUT_NUDGE_INTERVAL_MS);
    expect(signals).toHaveLength(3);

    // Long after the last one: at once again.
    nudgeDispatcher(client, 'd/0');
    await vi.advanceTimersByTimeAsync(0);
    expect(signals).toHaveLength(4);
  });

  it('costs a failed signal nothing but the nudge (Temporal down): the call that queued the trigger never sees it', async () => {
    const client = {
      withDeadline: (_deadline: number, call: () => Promise<unknown>) => call(),
      workflow: { getHandle: () => ({ signal: () => Promise.reject(new Error('unavailable')) }) },
    } as unknown as Client;
    expect(() => nudgeDispatcher(client, 'd/2')).not.toThrow();
    await vi.advanceTimersByTimeAsync(HIGH_THROUGHPUT_NUDGE_INTERVAL_MS * 2);
  });
});
