import type { Herald } from './herald-harness';

export const emailCampaign = (overrides: Record<string, unknown> = {}) => ({
  name: 'Password reset',
  type: 'transactional',
  channel: 'email',
  content: {
    subject: 'Hello {{ profile.firstName }}',
    html: '<p>Hi {{ profile.firstName }}, your code is {{ context.code }}</p>',
    text: 'Code {{ context.code }}',
  },
  audience: { namespace: 'email', createMissingProfiles: true },
  ...overrides,
});

/** Creates and activates a campaign, returning it as the activate route answered. */
export async function liveCampaign(herald: Herald, overrides: Record<string, unknown> = {}) {
  const created = await herald.request('POST', '/v1/campaigns', emailCampaign(overrides));
  if (created.status !== 201) throw new Error(`create failed: ${JSON.stringify(created.body)}`);
  const activated = await herald.request('POST', `/v1/campaigns/${created.body.id}/activate`);
  if (activated.status !== 200) throw new Error(`activate failed: ${JSON.stringify(activated.body)}`);
  return activated.body;
}

let counter = 0;
export const uniqueRequestId = (label = 'req') => `${label}-${Date.now()}-${++counter}`;
