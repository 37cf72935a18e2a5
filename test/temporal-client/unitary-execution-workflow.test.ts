/**
 * The workflow a unitary trigger runs is named by its type (src/temporal-client/unitary-execution-workflow.ts),
 * so the orphan sweep, an activity, can start it without importing workflow code: the names must
 * stay those of the workflows the worker registers.
 */
import { describe, expect, it } from 'vitest';
import * as workflows from '../../workflows/index';
import { UNITARY_WORKFLOW_TYPES, unitaryExecutionWorkflow } from '../../src/temporal-client/unitary-execution-workflow';

const campaign = { id: 'c1', name: 'Receipt', version: 3, channel: 'email' as const };

describe('unitaryExecutionWorkflow', () => {
  it('names workflows the worker registers', () => {
    for (const name of Object.values(UNITARY_WORKFLOW_TYPES)) expect(typeof (workflows as Record<string, unknown>)[name]).toBe('function');
  });

  it('runs a campaign without steps in triggerExecution and one with steps in campaignStepsExecution, from ids only', () => {
    const ref = { executionId: 'e1', requestId: 'r1', recipientCount: 2 };
    const plain = unitaryExecutionWorkflow(campaign, ref);
    expect(plain.workflow).toBe(workflows.triggerExecution.name);
    expect(plain.input).toEqual({ executionId: 'e1', requestId: 'r1', campaignId: 'c1' });
    expect(plain.summary).toBe('email "Receipt" to 2 recipients (request r1)');
    const withSteps = unitaryExecutionWorkflow({ ...campaign, steps: [{ type: 'send' }] as never }, ref);
    expect(withSteps.workflow).toBe(workflows.campaignStepsExecution.name);
    expect(withSteps.summary).toBe('email "Receipt" to 2 recipients in 1 step (request r1)');
  });
});
