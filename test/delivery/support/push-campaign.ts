import { expect } from 'vitest';
import { uniqueRequestId } from '../../support/campaigns';
import type { Herald } from '../../support/herald-harness';

/** The push campaign the provider tests trigger: templated title and body, fixed data and deep link. */
export const ORDER_SHIPPED_CONTENT = {
  title: 'Order {{ context.orderId }} shipped',
  body: 'Hi {{ profile.firstName }}',
  data: { orderId: '42' },
  deepLink: 'myapp://orders/42',
};

/** Creates a channel configuration and a live push campaign that uses it; returns the campaign id. */
export async function livePushCampaignWith(
  herald: Herald,
  configuration: { name: string; provider: string; settings: Record<string, unknown> },
): Promise<string> {
  const created = await herald.request('POST', '/v1/channel-configurations', { channel: 'push', ...configuration });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const campaign = await herald.request('POST', '/v1/campaigns', {
    name: 'Order shipped',
    type: 'transactional',
    channel: 'push',
    content: ORDER_SHIPPED_CONTENT,
    audience: { namespace: 'crm', createMissingProfiles: true },
    channelConfigurationId: created.body.id,
  });
  expect(campaign.status, JSON.stringify(campaign.body)).toBe(201);
  const activated = await herald.request('POST', `/v1/campaigns/${campaign.body.id}/activate`);
  expect(activated.status, JSON.stringify(activated.body)).toBe(200);
  return campaign.body.id as string;
}

export interface PushTrigger {
  requestId?: string;
  recipients: Record<string, unknown>[];
  context?: Record<string, unknown>;
}

/** Triggers the campaign and returns the execution id, failing the test unless it is accepted. */
export async function triggerPush(herald: Herald, campaignId: string, prefix: string, body: PushTrigger): Promise<string> {
  const res = await herald.request('POST', '/v1/executions/unitary', { requestId: uniqueRequestId(prefix), campaignId, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.executionId as string;
}

/** A profile in namespace `crm` (first name Ada) with one registered device token. */
export async function profileWithPushToken(
  herald: Herald,
  device: { userId: string; appID: string; platform: 'ios' | 'android' | 'web'; token: string },
): Promise<void> {
  expect((await herald.request('PUT', `/v1/profiles/crm/${device.userId}`, { attributes: { firstName: 'Ada' } })).status).toBe(201);
  expect(
    (await herald.request('PUT', `/v1/profiles/crm/${device.userId}/push-tokens`, { appID: device.appID, platform: device.platform, token: device.token }))
      .status,
  ).toBe(200);
}
