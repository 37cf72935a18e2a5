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

/** Nudges are signals-with-start: a dispatcher that ended (past a lowered count) is started by one. */
function recordingClient() {
  const signals: { workflowId: string; at: number; summary: string }[] = [];
  const client = {
    withDeadline: (_deadline: number, call: () => Promise<unknown>) => call(),
    workflow: {
      signalWithStart: async (_workflow: unknown, options: { workflowId: string; signal: { name: string }; staticSummary: string }) => {
        expect(options.signal.name).toBe('nudge');
        signals.push({ workflowId: options.workflowId, at: Date.now(), summary: options.staticSummary });
      },
    },
  } as unknown as Client;
  return { client, signals };
}

const setting = { taskQueue: 'q', partitions: 4 };
/** Nudges partition `d/<n>`'s dispatcher (its workflow id is ht-dispatcher/q/<n>). */
const nudge = (client: Client, name: string, queuedAt: number) => nudgeDispatcher(client, setting, Number(name.slice(2)), queuedAt);
const id = (name: string) => `ht-dispatcher/q/${name.slice(2)}`;

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
    const trigger = (name: string) => nudge(client, name, Date.now() - 2);
    trigger('d/0');
    trigger('d/1');
    await vi.advanceTimersByTimeAsync(0);
    expect(signals.map((s) => s.workflowId)).toEqual([id('d/0'), id('d/1')]);

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
    expect(signals.map((s) => s.workflowId)).toEqual([id('d/0'), id('d/1'), id('d/0')]);
  });

  it('counts the gap from before the earlier commit: a commit that took long does not hide a gap', async () => {
    const { client, signals } = recordingClient();
    nudge(client, 'd/4', Date.now());
    await vi.advanceTimersByTimeAsync(HIGH_THROUGHPUT_NUDGE_INTERVAL_MS);
    // Queued 150 ms ago, committed only now: whatever was claimed since may have ended its session.
    nudge(client, 'd/4', Date.now() - 150);
    await vi.advanceTimersByTimeAsync(HIGH_THROUGHPUT_LINGER_MS - 10);
    nudge(client, 'd/4', Date.now() - 1);
    await vi.advanceTimersByTimeAsync(0);
    // The second and third triggers both nudge: the third's predecessor was queued 240 ms before it.
    expect(signals).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(HIGH_THROUGHPUT_NUDGE_INTERVAL_MS);
    expect(signals).toHaveLength(3);
  });

  it('sends at most one per interval, and the one inside it at its end (trailing edge)', async () => {
    const { client, signals } = recordingClient();
    nudge(client, 'd/5', Date.now());
    for (let i = 0; i < 3; i++) {
      // Gaps of the linger: each trigger needs a nudge, and they come faster than the interval.
      await vi.advanceTimersByTimeAsync(HIGH_THROUGHPUT_LINGER_MS);
      nudge(client, 'd/5', Date.now());
    }
    await vi.advanceTimersByTimeAsync(0);
    expect(signals.map((s) => s.at - signals[0]!.at)).toEqual([0, HIGH_THROUGHPUT_NUDGE_INTERVAL_MS]);
    await vi.advanceTimersByTimeAsync(10 * HIGH_THROUGHPUT_NUDGE_INTERVAL_MS);
    expect(signals.map((s) => s.at - signals[0]!.at)).toEqual([0, HIGH_THROUGHPUT_NUDGE_INTERVAL_MS, 2 * HIGH_THROUGHPUT_NUDGE_INTERVAL_MS]);
  });

  it('costs a failed signal nothing but the nudge (Temporal down): the call that queued the trigger never sees it', async () => {
    const client = {
      withDeadline: (_deadline: number, call: () => Promise<unknown>) => call(),
      workflow: { signalWithStart: () => Promise.reject(new Error('unavailable')) },
    } as unknown as Client;
    expect(() => nudge(client, 'd/2', Date.now())).not.toThrow();
    await vi.advanceTimersByTimeAsync(HIGH_THROUGHPUT_NUDGE_INTERVAL_MS * 2);
  });

  it('starts a dispatcher past the count as one that ends once drained (an API still on a larger count queued there)', async () => {
    const { client, signals } = recordingClient();
    nudge(client, 'd/1', Date.now());
    nudge(client, 'd/6', Date.now());
    await vi.advanceTimersByTimeAsync(0);
    expect(signals.map((s) => s.summary)).toEqual([
      'High-throughput dispatcher, partition 1 of 4',
      'High-throughput dispatcher, partition 6 (past the count of 4: ends once drained)',
    ]);
  });
});
