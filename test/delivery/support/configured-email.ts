import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { liveCampaign, uniqueRequestId } from '../../support/campaigns';
import type { Herald } from '../../support/herald-harness';

/** Creates an email channel configuration over HTTP and a live campaign that uses it. */
export async function liveEmailCampaignWith(
  herald: Herald,
  configuration: { name: string; provider: string; settings: Record<string, unknown> },
): Promise<{ configurationId: string; campaignId: string }> {
  const created = await herald.request('POST', '/v1/channel-configurations', { channel: 'email', ...configuration });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect(created.body).toMatchObject({ provider: configuration.provider, missingEnv: [] });
  const campaign = await liveCampaign(herald, { channelConfigurationId: created.body.id });
  return { configurationId: created.body.id as string, campaignId: campaign.id as string };
}

/** A fresh address per test, so the fakes' records tell the tests apart. */
export const freshAddress = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.com`;

/** One recipient's outcome in an execution's status. */
export const outcomeOf = (execution: any, userId: string) => execution.recipients.find((r: any) => r.userId === userId);

/** Triggers the campaign for these email addresses and returns the execution id, failing the test unless it is accepted. */
export async function triggerEmail(
  herald: Herald,
  campaignId: string,
  recipients: string[],
  context: Record<string, unknown> = { code: '1' },
): Promise<string> {
  const res = await herald.request('POST', '/v1/executions/unitary', {
    requestId: uniqueRequestId('email'),
    campaignId,
    recipients: recipients.map((userId) => ({ userId, namespace: 'email' })),
    context,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.executionId as string;
}
