// The README's @herald/client example (section "Your first campaign, with the TypeScript client"), kept
// here so that `npx tsc --noEmit` checks it against the generated types. Not run by the suite.
import { createHeraldClient } from '../../sdk/typescript/src/index';

const herald = createHeraldClient({ baseUrl: 'http://127.0.0.1:3000', apiKey: process.env.HERALD_API_KEY });

// 1. Create a campaign (a draft) and activate it
const { data: campaign, error } = await herald.POST('/v1/campaigns', {
  body: {
    name: 'Password reset',
    type: 'transactional',
    channel: 'email',
    content: { subject: 'Reset your password, {{ profile.firstName }}', html: '<p>Your code is <b>{{ context.code }}</b>.</p>' },
    audience: { namespace: 'email', createMissingProfiles: true },
  },
});
if (error) throw new Error(error.detail ?? error.title);
await herald.POST('/v1/campaigns/{id}/activate', { params: { path: { id: campaign.id } } });

// 2. Trigger it: no requestId needed, the client makes one up and keeps it across retries
const { executionId, requestId, replayed } = await herald.trigger({
  campaignId: campaign.id,
  recipients: [{ userId: 'ada@example.com', namespace: 'email', context: { code: '4711' } }],
});
console.log(executionId, requestId, replayed); // '01K…' '3f0c…' false

// 3. Read its status
const { data: execution } = await herald.GET('/v1/executions/{executionId}', { params: { path: { executionId } } });
console.log(execution?.status); // 'running', then 'completed'
