import { ServiceError } from '@temporalio/client';

const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;
/** The namespace's or the server's rate limit. */
const GRPC_RESOURCE_EXHAUSTED = 8;

/** A failure of a Temporal call that goes away by itself: the server restarting, unreachable, rate-limiting, or too slow for the call's deadline. */
export function isTransientTemporalError(error: unknown): boolean {
  if (error instanceof ServiceError) {
    const code = (error.cause as { code?: number } | undefined)?.code;
    return code === undefined || code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED || code === GRPC_RESOURCE_EXHAUSTED;
  }
  return (error as { code?: unknown } | undefined)?.code === GRPC_UNAVAILABLE;
}
