import { ServiceError } from '@temporalio/client';

const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

/** A failure of a Temporal call that goes away by itself: the server restarting, unreachable, or too slow for the call's deadline. */
export function isTransientTemporalError(error: unknown): boolean {
  if (error instanceof ServiceError) {
    const code = (error.cause as { code?: number } | undefined)?.code;
    return code === undefined || code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED;
  }
  return (error as { code?: unknown } | undefined)?.code === GRPC_UNAVAILABLE;
}
