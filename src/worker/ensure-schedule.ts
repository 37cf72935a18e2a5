import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';

export type ScheduleOutcome = 'created' | 'updated' | 'unchanged';

export class ScheduleSetupError extends Error {
  override name = 'ScheduleSetupError';
}

export interface PeriodicWorkflowSchedule<Input> {
  scheduleId: string;
  /** A housekeeping workflow that takes one input object. */
  workflowType: (input: Input) => Promise<unknown>;
  input: Input;
  taskQueue: string;
  intervalSeconds: number;
  summary: string;
  details: string;
}

/**
 * Makes sure Temporal runs a housekeeping workflow every interval. Every worker calls it at
 * startup, so it is idempotent: the first creates the schedule, the others find it and only bring
 * its interval in line with their configuration. Everything else about an existing schedule, a
 * pause by an operator included, is left as it is.
 */
export async function ensurePeriodicSchedule<Input>(client: Client, schedule: PeriodicWorkflowSchedule<Input>): Promise<ScheduleOutcome> {
  try {
    return await createOrAlign(client, schedule);
  } catch (error) {
    throw new ScheduleSetupError(`Could not create or update the Temporal schedule ${schedule.scheduleId}: ${(error as Error).message}`, { cause: error });
  }
}

async function createOrAlign<Input>(client: Client, schedule: PeriodicWorkflowSchedule<Input>): Promise<ScheduleOutcome> {
  const everyMs = schedule.intervalSeconds * 1000;
  try {
    await client.schedule.create({
      scheduleId: schedule.scheduleId,
      spec: { intervals: [{ every: everyMs }] },
      action: {
        type: 'startWorkflow',
        workflowType: schedule.workflowType.name,
        workflowId: schedule.scheduleId,
        taskQueue: schedule.taskQueue,
        args: [schedule.input],
        staticSummary: schedule.summary,
        staticDetails: schedule.details,
      },
      policies: {
        // A run still working through a backlog is not joined by a second one.
        overlap: ScheduleOverlapPolicy.SKIP,
        // After an outage one run catches up with everything, so missed runs are not replayed.
        catchupWindow: Math.max(everyMs, 10_000),
      },
    });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  const handle = client.schedule.getHandle(schedule.scheduleId);
  const current = await handle.describe();
  const intervals = current.spec.intervals ?? [];
  if (intervals.length === 1 && Number(intervals[0]!.every) === everyMs && !intervals[0]!.offset) return 'unchanged';
  await handle.update((previous) => ({ ...previous, spec: { intervals: [{ every: everyMs }] } }));
  return 'updated';
}
