import { createRoute, z } from '@hono/zod-openapi';
import { allowKeys } from '../../access';
import { problemContent, v1Responses } from '../../problem';
import { safeText } from '../../schemas/safe-text';
import { allowSubscribers } from '../../subscriber-access';
import { PreferencesPutSchema, PreferencesSchema } from './preferences.schemas';

const ProfileParams = z.object({
  namespace: safeText(1, 255).openapi({ param: { name: 'namespace', in: 'path' }, example: 'email' }),
  userId: safeText(1, 255).openapi({ param: { name: 'userId', in: 'path' }, example: 'ada@example.com' }),
});
const json = (description: string) => ({ description, content: { 'application/json': { schema: PreferencesSchema } } });
const body = { required: true, content: { 'application/json': { schema: PreferencesPutSchema } } };
const tags = ['Preferences'];
const PUT_DESCRIPTION =
  'Replaces the preferences, at once: the next send reads them, and a message they turn off is excluded with reason `preference` (marketing consent and the suppression list apply on top). Audited. A channel turned off in a critical category, or a category that does not exist, answers 400 naming its path.';
const noProfile = problemContent('No such profile: preferences belong to a profile');

const retryAfter = { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' as const } } };
/** The answers of the subscriber routes: their token, the person's rate, the database. */
const subscriberResponses = {
  401: problemContent('Missing, forged, altered or expired subscriber token'),
  429: { ...problemContent('Over the per-person rate (10 calls/s), or too many wrong tokens from this address'), headers: retryAfter },
  503: { ...problemContent('The database is briefly unavailable'), headers: retryAfter },
};

export const getProfilePreferences = createRoute({
  method: 'get',
  path: '/v1/profiles/{namespace}/{userId}/preferences',
  tags,
  security: allowKeys('full'),
  summary: "Get a person's preferences",
  description: 'What the person set; `{"channels":{},"categories":{}}` when nothing. Settings of deleted categories are left out.',
  request: { params: ProfileParams },
  responses: { 200: json('The preferences'), 400: problemContent('Invalid namespace or userId'), ...v1Responses, 404: noProfile },
});

export const putProfilePreferences = createRoute({
  method: 'put',
  path: '/v1/profiles/{namespace}/{userId}/preferences',
  tags,
  security: allowKeys('full'),
  summary: "Set a person's preferences",
  description: PUT_DESCRIPTION,
  request: { params: ProfileParams, body },
  responses: {
    200: json('The preferences as set'),
    400: problemContent('Invalid preferences: a critical category turned off, an unknown category or channel'),
    ...v1Responses,
    404: noProfile,
    413: problemContent('Body too large'),
  },
});

export const getInboxPreferences = createRoute({
  method: 'get',
  path: '/v1/inbox/preferences',
  tags,
  security: allowSubscribers(),
  summary: 'Get my preferences (subscriber token)',
  description:
    'The preferences of the person the subscriber token names, as GET /v1/profiles/{namespace}/{userId}/preferences answers them. Callable from a browser (CORS, any origin).',
  responses: { 200: json('The preferences'), ...subscriberResponses, 404: noProfile },
});

export const putInboxPreferences = createRoute({
  method: 'put',
  path: '/v1/inbox/preferences',
  tags,
  security: allowSubscribers(),
  summary: 'Set my preferences (subscriber token)',
  description: `The person the subscriber token names sets their own preferences (audit actor \`subscriber:inbox\`). ${PUT_DESCRIPTION}`,
  request: { body },
  responses: {
    200: json('The preferences as set'),
    400: problemContent('Invalid preferences: a critical category turned off, an unknown category or channel'),
    ...subscriberResponses,
    404: noProfile,
    413: problemContent('Body too large'),
  },
});
