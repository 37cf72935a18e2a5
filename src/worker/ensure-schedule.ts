import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';

/**
 * `created`: this call created it. `unchanged`: it exists with the configured interval.
 * `updated`: it existed and this call brought its interval in line (configure mode only).
 * `differs`: it exists with another interval, left as it is (create-only mode).
 */
export type ScheduleOutcome = 'created' | 'updated' | 'unchanged' | 'differs';

/**
 * `create-only` is what every worker does at startup: create the schedule when it is missing,
 * never change one that exists, so replicas with different settings cannot overwrite each other.
 * `configure` is the deploy step (`npm run schedules`, and `npm start`): it also applies the
 * configured interval to an existing schedule.
 */
export type ScheduleMode = 'create-only' | 'configure';

export interface ScheduleState {
  outcome: ScheduleOutcome;
  /** The interval the schedule runs at after this call. */
  intervalSeconds: number;
}

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
 * Makes sure Temporal runs a housekeeping workflow every interval. Idempotent: the first caller
 * creates the schedule, and a schedule is created once whatever the number of workers. Only the
 * `configure` mode changes an existing one, and then only its interval: everything else, a pause
 * by an operator included, is left as it is.
 */
export async function ensurePeriodicSchedule<Input>(client: Client, schedule: PeriodicWorkflowSchedule<Input>, mode: ScheduleMode): Promise<ScheduleState> {
  try {
    return await createOrAlign(client, schedule, mode);
  } catch (error) {
    throw new ScheduleSetupError(`Could not create or update the Temporal schedule ${schedule.scheduleId}: ${(error as Error).message}`, { cause: error });
  }
}

async function createOrAlign<Input>(client: Client, schedule: PeriodicWorkflowSchedule<Input>, mode: ScheduleMode): Promise<ScheduleState> {
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
    return { outcome: 'created', intervalSeconds: schedule.intervalSeconds };
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  const handle = client.schedule.getHandle(schedule.scheduleId);
  const current = await handle.describe();
  const intervals = current.spec.intervals ?? [];
  if (intervals.length === 1 && Number(intervals[0]!.every) === everyMs && !intervals[0]!.offset)
    return { outcome: 'unchanged', intervalSeconds: schedule.intervalSeconds };
  if (mode === 'create-only') return { outcome: 'differs', intervalSeconds: intervals.length === 1 ? Number(intervals[0]!.every) / 1000 : NaN };
  await handle.update((previous) => ({ ...previous, spec: { intervals: [{ every: everyMs }] } }));
  return { outcome: 'updated', intervalSeconds: schedule.intervalSeconds };
}
