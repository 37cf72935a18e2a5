/**
 * The API's nudges to high-throughput dispatchers (ADR 0010): none within a steady flow (the
 * drain session finds those triggers), one after a gap of HIGH_THROUGHPUT_LINGER_MS, at most one
 * per HIGH_THROUGHPUT_NUDGE_INTERVAL_MS with the one inside it sent at its end, so no accepted
 * trigger is left to the dispatcher's idle timer. In process, on fake timers, against a client
 * that records its signals.
 */
import type { Client } from '@temporalio/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HIGH_THROUGHPUT_LINGER_MS, HIGH_THROUGHPUT_NUDGE_INTERVAL_MS, nudgeDispatcher } from '../../src/services/high-throughput-dispatchers';

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

  it('nudges after a gap in the flow, not within a steady flow: the session that takes a trigger takes those close behind it', async () => {
    const { client, signals } = recordingClient();
    // Queued just before its commit, nudged just after.
    const trigger = (workflowId: string) => nudgeDispatcher(client, workflowId, Date.now() - 2);
    trigger('d/0');
    trigger('d/1');
    await vi.advanceTimersByTimeAsync(0);
    expect(signals.map((s) => s.workflowId)).toEqual(['d/0', 'd/1']);

    // A steady flow, one trigger every 20 ms for 2 s: covered by the session, no signal at all.
    for (let i = 0; i < 100; i++) {
      await vi.advanceTimersByTimeAsync(20);
      trigger('d/0');
    }
    await vi.advanceTimersByTimeAsync(HIGH_THROUGHPUT_NUDGE_INTERVAL_MS);
    expect(signals).toHaveLength(2);

    // A gap of the linger or more: the session may have ended, so the next trigger nudges.
    await vi.advanceTimersByTimeAsync(HIGH_THROUGHPUT_LINGER_MS);
    trigger('d/0');
    await vi.advanceTimersByTimeAsync(0);
    expect(signals.map((s) => s.workflowId)).toEqual(['d/0', 'd/1', 'd/0']);
  });

  it('counts the gap from before the earlier commit: a commit that took long does not hide a gap', async () => {
    const { client, signals } = recordingClient();
    nudgeDispatcher(client, 'd/4', Date.now());
    await vi.advanceTimersByTimeAsync(HIGH_THROUGHPUT_NUDGE_INTERVAL_MS);
    // Queued 150 ms ago, committed only now: whatever was claimed since may have ended its session.
    nudgeDispatcher(client, 'd/4', Date.now() - 150);
    await vi.advanceTimersByTimeAsync(HIGH_THROUGHPUT_LINGER_MS - 10);
    nudgeDispatcher(client, 'd/4', Date.now() - 1);
    await vi.advanceTimersByTimeAsync(0);
    // The second and third triggers both nudge: the third's predecessor was queued 240 ms before it.
    expect(signals).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(HIGH_THROUGHPUT_NUDGE_INTERVAL_MS);
    expect(signals).toHaveLength(3);
  });

  it('sends at most one per interval, and the one inside it at its end (trailing edge)', async () => {
    const { client, signals } = recordingClient();
    nudgeDispatcher(client, 'd/5', Date.now());
    for (let i = 0; i < 3; i++) {
      // Gaps of the linger: each trigger needs a nudge, and they come faster than the interval.
      await vi.advanceTimersByTimeAsync(HIGH_THROUGHPUT_LINGER_MS);
      nudgeDispatcher(client, 'd/5', Date.now());
    }
    await vi.advanceTimersByTimeAsync(0);
    expect(signals.map((s) => s.at - signals[0]!.at)).toEqual([0, HIGH_THROUGHPUT_NUDGE_INTERVAL_MS]);
    await vi.advanceTimersByTimeAsync(10 * HIGH_THROUGHPUT_NUDGE_INTERVAL_MS);
    expect(signals.map((s) => s.at - signals[0]!.at)).toEqual([0, HIGH_THROUGHPUT_NUDGE_INTERVAL_MS, 2 * HIGH_THROUGHPUT_NUDGE_INTERVAL_MS]);
  });

  it('costs a failed signal nothing but the nudge (Temporal down): the call that queued the trigger never sees it', async () => {
    const client = {
      withDeadline: (_deadline: number, call: () => Promise<unknown>) => call(),
      workflow: { getHandle: () => ({ signal: () => Promise.reject(new Error('unavailable')) }) },
    } as unknown as Client;
    expect(() => nudgeDispatcher(client, 'd/2', Date.now())).not.toThrow();
    await vi.advanceTimersByTimeAsync(HIGH_THROUGHPUT_NUDGE_INTERVAL_MS * 2);
  });
});
