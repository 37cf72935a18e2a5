import type { components } from './generated/openapi.js';

type Problem = components['schemas']['Problem'];

/**
 * The API answered a trigger with a problem (application/problem+json). `retryable` says whether
 * sending the same body again with this requestId may still succeed: a 429 or 503 the client
 * stopped retrying at its deadline. Anything else (400, 401, 403, 404, 409) will answer the same.
 */
export class TriggerRejectedError extends Error {
  override readonly name = 'TriggerRejectedError';
  readonly retryable: boolean;

  constructor(
    readonly requestId: string,
    readonly status: number,
    readonly problem: Problem | undefined,
    readonly response: Response,
  ) {
    super(`trigger ${requestId} answered ${status}${problem ? `: ${problem.title}${problem.detail ? ` (${problem.detail})` : ''}` : ''}`);
    this.retryable = status === 429 || status === 503;
  }
}

/**
 * A trigger that got no answer before the deadline (or was aborted). It may or may not have
 * started: sending the same body again with this requestId is safe, and answers the execution it
 * started if it did.
 */
export class TriggerNotAnsweredError extends Error {
  override readonly name = 'TriggerNotAnsweredError';
  readonly retryable = true;

  constructor(
    readonly requestId: string,
    cause: unknown,
  ) {
    super(`trigger ${requestId} got no answer (${cause instanceof Error ? cause.message : String(cause)}); send it again with the same requestId`, { cause });
  }
}
