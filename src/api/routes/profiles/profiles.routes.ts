import { createRoute, z } from '@hono/zod-openapi';
import { allowKeys } from '../../access';
import { problemContent, v1Responses } from '../../problem';
import { safeText } from '../../schemas/safe-text';
import { ConsentsSchema, ProfileUpsertSchema } from '../../schemas/profile-upsert';
import { PushInfoSchema } from '../../schemas/push-info';
import { PUSH_PLATFORMS } from '../../../domain/push';

export { ConsentsSchema };

export const ProfileSchema = z
  .object({
    namespace: z.string(),
    userId: z.string(),
    attributes: z.record(z.string(), z.unknown()),
    consents: ConsentsSchema,
    locale: z
      .string()
      .nullable()
      .openapi({ description: "BCP 47 language tag (canonical form) choosing the content's language variant; null when unknown.", example: 'pt-BR' }),
    autoCreated: z.boolean().openapi({ description: 'true when a trigger call created it (audience.createMissingProfiles)' }),
    pushTokens: z
      .array(z.lazy(() => StoredPushTokenSchema))
      .optional()
      .openapi({ description: 'The devices registered with PUT …/push-tokens, the most recently registered first (push campaigns send to the first).' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Profile');

const StoredPushTokenSchema = z
  .object({ appID: z.string(), platform: z.enum(PUSH_PLATFORMS), token: z.string(), createdAt: z.string(), updatedAt: z.string() })
  .openapi('StoredPushToken');

const ProfileParams = z.object({
  namespace: safeText(1, 255).openapi({ param: { name: 'namespace', in: 'path' }, example: 'email' }),
  userId: safeText(1, 255).openapi({ param: { name: 'userId', in: 'path' }, example: 'ada@example.com' }),
});
const json = (description: string) => ({ description, content: { 'application/json': { schema: ProfileSchema } } });
const tags = ['Profiles'];
const security = allowKeys('full');

export const putProfile = createRoute({
  method: 'put',
  path: '/v1/profiles/{namespace}/{userId}',
  tags,
  security,
  summary: 'Create or replace a profile',
  description:
    'Replaces the attributes; consents given here are merged into the stored ones. `locale` (a BCP 47 tag, stored in canonical form) is set when given, cleared by null and kept when absent.',
  request: {
    params: ProfileParams,
    body: { required: true, content: { 'application/json': { schema: ProfileUpsertSchema } } },
  },
  responses: { 200: json('Updated'), 201: json('Created'), 400: problemContent('Invalid profile'), ...v1Responses, 413: problemContent('Body too large') },
});

export const getProfile = createRoute({
  method: 'get',
  path: '/v1/profiles/{namespace}/{userId}',
  tags,
  security,
  summary: 'Get a profile',
  request: { params: ProfileParams },
  responses: { 200: json('The profile'), 400: problemContent('Invalid path'), ...v1Responses, 404: problemContent('Unknown profile') },
});

export const putPushToken = createRoute({
  method: 'put',
  path: '/v1/profiles/{namespace}/{userId}/push-tokens',
  tags,
  security,
  summary: "Register a device's push token on a profile",
  description:
    "Adds the device `{appID, platform, token}` to the profile's push tokens, or refreshes it when the token is already registered (idempotent). Push campaigns send to the most recently registered token unless the trigger gives `channelData.pushInfo`. A token the provider reports as gone (FCM UNREGISTERED, APNs 410, Web Push 404/410) is removed by the send. Answers the profile with its tokens.",
  request: { params: ProfileParams, body: { required: true, content: { 'application/json': { schema: PushInfoSchema } } } },
  responses: { 200: json('The profile with its push tokens'), 400: problemContent('Invalid token'), ...v1Responses, 404: problemContent('Unknown profile') },
});
