// The "bare Temporal" baseline: the same shape of activities as workflows/trigger-execution.ts
// (its REFERENCES_NOT_CONTENT path, runByReference), with every activity a no-op and the same
// timeouts and retry policies as Herald's:
// - local activities loadCampaignGate, then prepareExecution for all recipients;
// - the sends, in one of two shapes (bench/run.ts picks the one the trigger workflow has):
//   'activity-per-recipient': a normal sendMessage activity per recipient, concurrently;
//   'send-in-the-same-task' (the SEND_IN_THE_SAME_TASK patch): one local sendPreparedNow for all
//   recipients in the same workflow task, the durable per-recipient path being only for retries;
// - local closeExecution last.
// Keep this in step with trigger-execution.ts.
// 'one-local-activity', a workflow of ONE no-op local activity (closeExecution, which the bare
// worker counts), is the least a durable workflow per trigger can cost on a server: the ceiling,
// which bench/run.ts reports Herald as a fraction of. Since the ONE_STEP_ON_THE_HAPPY_PATH patch
// it is also the mirror of Herald's happy path (runTriggerNow, one local activity).
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { BareActivities } from './bare-activities';

export type BareShape = 'activity-per-recipient' | 'send-in-the-same-task' | 'one-local-activity';

export interface BareExecutionInput {
  recipients: number;
  /** Default 'activity-per-recipient'. */
  shape?: BareShape;
}

const steps = proxyLocalActivities<BareActivities>({
  startToCloseTimeout: '60 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '15 seconds', maximumAttempts: 10 },
});

const quick = proxyLocalActivities<BareActivities>({
  startToCloseTimeout: '40 seconds',
  retry: { maximumAttempts: 1 },
});

const delivery = proxyActivities<BareActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '23 hours',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

export async function bareExecution(input: BareExecutionInput): Promise<number> {
  if (input.shape === 'one-local-activity') {
    await steps.closeExecution();
    return input.recipients;
  }
  await steps.loadCampaignGate();
  const positions = Array.from({ length: input.recipients }, (_, i) => i);
  await steps.prepareExecution();
  if (input.shape === 'send-in-the-same-task') await quick.sendPreparedNow();
  else await Promise.all(positions.map(() => delivery.sendMessage()));
  await steps.closeExecution();
  return input.recipients;
}
