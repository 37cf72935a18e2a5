import type { Context } from 'hono';

/**
 * A repeated trigger (same requestId, same body) answers like the first call, plus this header,
 * as Novu and Stripe mark replayed idempotent calls: a client can tell a retry that landed twice
 * from a new run without comparing ids. First calls carry no such header.
 */
export const IDEMPOTENCY_REPLAY_HEADER = 'Idempotency-Replay';

/** The header as the trigger operations declare it in the OpenAPI document. */
export const idempotencyReplayResponseHeader = {
  [IDEMPOTENCY_REPLAY_HEADER]: {
    description:
      "Present, with the value `true`, when this call repeats an earlier one with the same requestId and body: the answer is the first call's and nothing new was started. A repeat that arrives while the first call is still starting its workflow waits for that workflow and then answers the same way; it never starts a second one.",
    schema: { type: 'string' as const, enum: ['true'] },
  },
};

export function markReplay(c: Context, replayed: boolean): void {
  if (replayed) c.header(IDEMPOTENCY_REPLAY_HEADER, 'true');
}
