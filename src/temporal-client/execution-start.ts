import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowStartOptions } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import type { Campaign } from '../domain/campaign';
import { CampaignIdAttribute, CampaignTypeAttribute, ChannelAttribute, RequestIdAttribute } from '../../workflows/search-attributes';
import { withCallDeadline } from './connection';

/** What operators read in the Temporal UI: ids and counts only, never an address or userId. */
export interface WorkflowDescription {
  summary: string;
  details: string;
}

/** The workflow an execution runs: its input carries ids only (history is no place for personal data). */
export interface WorkflowToStart<W extends Workflow> extends WorkflowDescription {
  /** The workflow function, or its type name where importing workflow code would close an import circle (from activities). */
  workflow: W | string;
  input: Parameters<W>[0];
  /** Positive: Temporal holds the first workflow task that long (a scheduled run), no timer of ours. */
  startDelayMs?: number;
}

/**
 * The search attributes every execution's workflow carries (operators filter on them, e.g.
 * `CampaignId = "01J…"`), with its summary and details.
 */
export function workflowStartMetadata(campaign: Pick<Campaign, 'id' | 'channel' | 'type'>, requestId: string, description: WorkflowDescription) {
  return {
    typedSearchAttributes: [
      { key: CampaignIdAttribute, value: campaign.id },
      { key: RequestIdAttribute, value: requestId },
      { key: ChannelAttribute, value: campaign.channel },
      { key: CampaignTypeAttribute, value: campaign.type },
    ],
    staticSummary: description.summary,
    staticDetails: description.details,
  };
}

export interface ExecutionToStart<W extends Workflow> {
  campaign: Pick<Campaign, 'id' | 'channel' | 'type'>;
  requestId: string;
  workflowId: string;
  taskQueue: string;
  start: WorkflowToStart<W>;
}

/**
 * Starts an execution's workflow, idempotently: the workflow id is the requestId's, a closed run
 * is not run again (REJECT_DUPLICATE) and a racing start joins the running one (USE_EXISTING), so
 * the API, a repeat of the call and the orphan sweep may all start the same execution.
 */
export async function startExecutionWorkflow<W extends Workflow>(
  temporal: Client,
  { campaign, requestId, workflowId, taskQueue, start }: ExecutionToStart<W>,
): Promise<void> {
  const { workflow, input, startDelayMs = 0, ...description } = start;
  // The kind's input was checked against its workflow (WorkflowToStart): here any workflow will do.
  const options: WorkflowStartOptions<Workflow> = {
    taskQueue,
    workflowId,
    args: [input],
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    workflowIdConflictPolicy: 'USE_EXISTING',
    ...(startDelayMs > 0 && { startDelay: startDelayMs }),
    ...workflowStartMetadata(campaign, requestId, description),
  };
  try {
    await withCallDeadline(temporal, () => temporal.workflow.start<Workflow>(workflow, options));
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}
