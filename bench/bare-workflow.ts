// The "bare Temporal" baseline: the same shape of activities as workflows/trigger-execution.ts
// (with the prepare-recipients-in-one-local-activity patch), with every activity a no-op:
// - per execution: loadCampaignSnapshot, then prepareRecipients for all recipients, and
//   completeExecution last (local activities);
// - sendEmail (a normal activity) for every recipient concurrently.
// Same timeouts and retry policies as Herald's. Keep this in step with trigger-execution.ts.
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { BareActivities } from './bare-activities';

export interface BareExecutionInput {
  recipients: number;
}

const local = proxyLocalActivities<BareActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds' },
});

const delivery = proxyActivities<BareActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '23 hours',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

export async function bareExecution(input: BareExecutionInput): Promise<number> {
  await local.loadCampaignSnapshot();
  const recipients = Array.from({ length: input.recipients }, (_, i) => i);
  await local.prepareRecipients();
  await Promise.all(recipients.map(() => delivery.sendEmail()));
  await local.completeExecution();
  return input.recipients;
}
