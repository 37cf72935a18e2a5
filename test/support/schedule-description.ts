import { ServiceError, type ScheduleDescription, type ScheduleHandle } from '@temporalio/client';
import { status as GrpcStatus } from '@grpc/grpc-js';

/**
 * Describes a schedule, retrying while the server is too busy to answer. The dev server answers
 * DescribeSchedule by querying the schedule's internal workflow, and under a loaded CI machine
 * that query can miss its deadline (DEADLINE_EXCEEDED) although nothing is wrong with the schedule.
 */
export async function describeSchedule(handle: ScheduleHandle, timeoutMs = 30_000): Promise<ScheduleDescription> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await handle.describe();
    } catch (error) {
      const code = (error instanceof ServiceError ? (error.cause as { code?: number } | undefined)?.code : undefined) ?? -1;
      if (![GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.UNAVAILABLE].includes(code) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
