import type { Campaign } from '../domain/campaign';
import type { WorkflowDescription, WorkflowToStart } from './execution-start';

/**
 * The workflow types a unitary trigger runs (workflows/trigger-execution.ts and
 * workflows/campaign-steps-execution.ts), by name: the orphan sweep, an activity, starts them too,
 * and activities cannot import workflow code (workflows import the activities' types).
 * test/temporal-client/unitary-execution-workflow.test.ts checks both names against workflows/index.ts.
 */
export const UNITARY_WORKFLOW_TYPES = { trigger: 'triggerExecution', steps: 'campaignStepsExecution' } as const;

/** Both workflows' input: ids only. */
export interface UnitaryExecutionInput {
  executionId: string;
  requestId: string;
  campaignId: string;
}

export interface UnitaryExecutionRef {
  executionId: string;
  requestId: string;
  recipientCount: number;
}

/** What operators read in the Temporal UI: ids and counts only, never an address or userId. */
export function unitaryExecutionDescription(
  campaign: Pick<Campaign, 'name' | 'version' | 'channel' | 'id' | 'steps'>,
  { executionId, requestId, recipientCount }: UnitaryExecutionRef,
): WorkflowDescription {
  const recipients = `${recipientCount} recipient${recipientCount === 1 ? '' : 's'}`;
  const stepCount = campaign.steps?.length ?? 0;
  const steps = stepCount > 0 ? ` in ${stepCount} step${stepCount === 1 ? '' : 's'}` : '';
  return {
    summary: `${campaign.channel} "${campaign.name}" to ${recipients}${steps} (request ${requestId})`,
    details: `Execution ${executionId} · campaign ${campaign.id} v${campaign.version} · ${recipients}. Recipients, context and rendered content are in Herald: GET /v1/executions/${executionId}`,
  };
}

/**
 * The workflow a unitary trigger's execution runs, from ids only (the recipients and context are
 * stored with its claim): the API starts it, and the orphan sweep when the API did not (ADR 0011).
 * A campaign with steps runs them in a workflow of its own (workflows/campaign-steps-execution.ts).
 */
export function unitaryExecutionWorkflow(
  campaign: Pick<Campaign, 'name' | 'version' | 'channel' | 'id' | 'steps'>,
  ref: UnitaryExecutionRef,
): WorkflowToStart<(input: UnitaryExecutionInput) => Promise<unknown>> {
  const input = { executionId: ref.executionId, requestId: ref.requestId, campaignId: campaign.id };
  const workflow = campaign.steps && campaign.steps.length > 0 ? UNITARY_WORKFLOW_TYPES.steps : UNITARY_WORKFLOW_TYPES.trigger;
  return { workflow, input, ...unitaryExecutionDescription(campaign, ref) };
}
