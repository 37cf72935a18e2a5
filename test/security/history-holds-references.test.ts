import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionWorkflowId } from '../../workflows/workflow-ids';
import { liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';

/**
 * The trigger workflow carries references, not content: with payload encryption OFF, so nothing
 * hides behind the codec, its history (input, activity inputs and results, markers, summary,
 * result) still holds no address, userId, context value or rendered body.
 */
describe('trigger workflow history holds references, not content', () => {
  let herald: Herald;
  let raw: Client;
  let rawConnection: Connection;
  let campaign: { id: string };

  beforeAll(async () => {
    herald = await startHerald({ encryption: false });
    rawConnection = await Connection.connect({ address: herald.config.temporal.address });
    raw = new Client({ connection: rawConnection, namespace: herald.config.temporal.namespace });
    campaign = await liveCampaign(herald, {
      content: {
        subject: 'Subject for {{ profile.firstName }}',
        html: '<p>Body {{ context.secret }} for {{ profile.firstName }}</p>',
        text: 'Text {{ context.secret }}',
      },
    });
  });
  afterAll(async () => {
    await rawConnection?.close();
    await herald?.stop();
  });

  it('a 20-recipient trigger: no address, userId, context value or body in the raw history', async () => {
    const tag = randomUUID().slice(0, 8);
    const recipients = Array.from({ length: 20 }, (_, i) => ({
      userId: `person-${i}-${tag}@example.com`,
      namespace: 'email',
      // One sends to another address than its userId, to cover channelData.
      ...(i === 0 && { channelData: { emailAddress: `inbox-${tag}@example.org` } }),
      context: { secret: `ctx-${i}-${tag}` },
    }));
    await herald.request('PUT', `/v1/profiles/email/${encodeURIComponent(recipients[1]!.userId)}`, { attributes: { firstName: `Name${tag}` } });
    const body = { requestId: uniqueRequestId('refs'), campaignId: campaign.id, recipients, context: { shared: `shared-${tag}` } };
    const accepted = await herald.request('POST', '/v1/executions/unitary', body);
    expect(accepted.status).toBe(202);
    const execution = await herald.waitForExecution(accepted.body.executionId);
    expect(execution).toMatchObject({ status: 'completed', counts: { sent: 20, failed: 0, excluded: 0, pending: 0 } });

    // The content did reach the outbox, so the strings below are real and findable.
    const outbox = (await herald.request('GET', `/v1/outbox?campaignId=${campaign.id}&limit=100`)).body.items as { to: string; html: string }[];
    expect(outbox.map((m) => m.to)).toContain(`inbox-${tag}@example.org`);
    expect(outbox.some((m) => m.html.includes(`ctx-3-${tag}`))).toBe(true);

    const handle = raw.workflow.getHandle(executionWorkflowId(campaign.id, body.requestId));
    // The whole history: the execution is closed from inside the last step, before the workflow ends.
    const result = await handle.result();
    const history = JSON.stringify(await handle.fetchHistory());
    const description = await handle.describe();
    const visible = `${history} ${await description.staticSummary()} ${await description.staticDetails()} ${JSON.stringify(result)}`;
    // Payloads are base64 in the history's JSON: decode every one, so a value cannot hide in it.
    const decodedPayloads = [...history.matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8')).join(' ');
    const everything = `${visible} ${decodedPayloads}`;

    expect(everything).toContain(accepted.body.executionId);
    for (const forbidden of [tag, 'example.com', 'inbox-', 'ctx-', 'shared-', `Name${tag}`, 'Body ', 'Subject for']) {
      expect(everything, `history must not contain "${forbidden}"`).not.toContain(forbidden);
    }
  });
});
