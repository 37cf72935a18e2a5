import { isTransientTemporalError } from '../temporal-client/transient-errors';

/**
 * Starts the API has answered before they succeeded and is still making, per process: past this
 * many, a call makes its one start itself and waits for it as before (ADR 0011), so a slow or
 * absent Temporal holds callers back (503) instead of piling up starts in memory.
 */
export const MAX_STARTS_IN_FLIGHT = 256;

/**
 * How long the API keeps trying a start it answered before: a Temporal restart on one machine
 * takes seconds. Past it the start is left to the orphan sweep, which starts any such execution
 * still without a workflow after HERALD_ORPHAN_GRACE_SECONDS.
 */
export const START_RETRY_WINDOW_MS = 60_000;

/** Pauses between tries of a start that failed transiently: the last one repeats. */
const RETRY_DELAYS_MS = [250, 500, 1_000, 2_000, 4_000];

/**
 * How long a unitary trigger's answer waits for its workflow's start (HERALD_START_WAIT_MS, ADR
 * 0011). The trigger's claim was synced to disk first, so once the wait is over the call is
 * answered and the start goes on: tried again while Temporal is unavailable, for up to
 * START_RETRY_WINDOW_MS, and after that left to the orphan sweep. A start refused for another
 * reason within the wait fails the call, as before.
 */
export class StartWait {
  private inFlight = 0;
  private stopped = false;
  private readonly whenIdle: (() => void)[] = [];

  constructor(
    private readonly waitMs: number,
    private readonly maxInFlight = MAX_STARTS_IN_FLIGHT,
    private readonly retryWindowMs = START_RETRY_WINDOW_MS,
  ) {}

  /** Starts being made beyond, or before, their caller's answer. */
  get startsInFlight(): number {
    return this.inFlight;
  }

  /**
   * Resolves once `start` has succeeded, or once the wait is over while it is still being tried;
   * rejects when it fails for good within the wait. `gaveUp` hears of a start that fails for good
   * after the answer.
   */
  async forStart(start: () => Promise<void>, gaveUp: (error: unknown) => void): Promise<void> {
    if (this.stopped || this.inFlight >= this.maxInFlight) return start();
    this.inFlight++;
    let answered = false;
    // Reported before the slot is released, so whoever waits for the last starts (settled) hears of it first.
    const started = this.keepStarting(start).then(
      () => this.release(),
      (error: unknown) => {
        if (answered) gaveUp(error);
        this.release();
        if (!answered) throw error;
      },
    );
    let timer: NodeJS.Timeout | undefined;
    // Answered as the wait ends: a failure from then on is reported, not thrown into a settled race.
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        answered = true;
        resolve();
      }, this.waitMs);
    });
    try {
      await Promise.race([started, waited]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** No more tries after this (the API is stopping): starts still failing are left to the orphan sweep. */
  stop(): void {
    this.stopped = true;
  }

  /** Resolves once no start is in flight, or after `timeoutMs`: what a stopping API gives its last starts. */
  settled(timeoutMs: number): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.whenIdle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private release(): void {
    this.inFlight--;
    if (this.inFlight === 0) for (const resolve of this.whenIdle.splice(0)) resolve();
  }

  private async keepStarting(start: () => Promise<void>): Promise<void> {
    const until = Date.now() + this.retryWindowMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await start();
      } catch (error) {
        const pause = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]!;
        if (this.stopped || !isTransientTemporalError(error) || Date.now() + pause > until) throw error;
        await new Promise((resolve) => setTimeout(resolve, pause).unref());
      }
    }
  }
}
