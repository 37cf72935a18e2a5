import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { activationWorkflowId, executionWorkflowId } from '../../workflows/workflow-ids';
import { liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';
import { waitFor } from '../support/process-stack';

/**
 * What docs/operations.md tells operators to do in the Temporal UI, on the server production runs: filter
 * workflows with `CampaignId = "<id>"`. On the cluster that is PostgreSQL's SQL visibility (no
 * Elasticsearch), where Herald's Keyword attributes are mapped onto the schema's Keyword columns,
 * so it is worth proving there. Visibility is eventually consistent: the list is polled.
 */
describe.skipIf(!inject('temporalClusterPostgresUrl'))('search attributes on the cluster', () => {
  let herald: Herald;
  beforeAll(async () => {
    herald = await startHerald();
  });
  afterAll(() => herald?.stop());

  it('CampaignId and RequestId filters find the activation workflow and every trigger of the campaign', async () => {
    const campaign = await liveCampaign(herald);
    const requestIds = [uniqueRequestId('filter'), uniqueRequestId('filter')];
    for (const requestId of requestIds) {
      const res = await herald.request('POST', '/v1/executions/unitary', {
        requestId,
        campaignId: campaign.id,
        recipients: [{ userId: 'ada@example.com', namespace: 'email' }],
      });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      await herald.waitForExecution(res.body.executionId);
    }
    const list = async (query: string) => {
      const ids: string[] = [];
      for await (const workflow of herald.client.workflow.list({ query })) ids.push(workflow.workflowId);
      return ids.sort();
    };
    const expected = [activationWorkflowId(campaign.id), ...requestIds.map((requestId) => executionWorkflowId(campaign.id, requestId))].sort();
    await waitFor(
      `CampaignId = "${campaign.id}" to list ${expected.join(', ')}`,
      async () => JSON.stringify(await list(`CampaignId = "${campaign.id}"`)) === JSON.stringify(expected),
      20_000,
      250,
    );
    expect(await list(`RequestId = "${requestIds[0]}" AND ExecutionStatus = "Completed"`)).toEqual([executionWorkflowId(campaign.id, requestIds[0]!)]);
    expect(await list(`CampaignId = "${campaign.id}" AND Channel = "email" AND CampaignType = "transactional"`)).toEqual(expected);
  });
});
