import { hostname } from 'node:os';
import type { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';

const { TaskQueueKind, TaskQueueType } = proto.temporal.api.enums.v1;

/** The identity a worker polls with: the SDK's default, `<pid>@<hostname>`. */
export function workerIdentity(pid: number): string {
  return `${pid}@${hostname()}`;
}

/**
 * The identities polling a task queue for both workflow and activity tasks, as the server sees
 * them: a trigger runs only once some worker takes both. Pollers the server saw in the last few
 * minutes count (it forgets them after that), so ask for one identity to know a given worker polls now.
 */
export async function taskQueuePollers(connection: Connection, namespace: string, taskQueue: string, timeoutMs = 2_000): Promise<string[]> {
  const describe = (taskQueueType: proto.temporal.api.enums.v1.TaskQueueType) =>
    connection.withDeadline(Date.now() + timeoutMs, () =>
      connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL }, taskQueueType }),
    );
  const [workflow, activity] = await Promise.all([describe(TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW), describe(TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)]);
  const activityPollers = new Set((activity.pollers ?? []).map((poller) => poller.identity));
  return [...new Set((workflow.pollers ?? []).map((poller) => poller.identity ?? ''))].filter((identity) => identity && activityPollers.has(identity));
}
