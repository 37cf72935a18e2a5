import { createRoute, z } from '@hono/zod-openapi';
import { allowKeys } from '../../access';
import { problemContent, v1Responses } from '../../problem';
import { queryableJsonObject, safeText } from '../../schemas/safe-text';
import { localeTag } from '../../schemas/localized-content';

const Consent = z.enum(['in', 'out']);
export const ConsentsSchema = z.object({ email: Consent.optional(), sms: Consent.optional(), push: Consent.optional() }).strict().openapi('Consents');

export const ProfileSchema = z
  .object({
    namespace: z.string(),
    userId: z.string(),
    attributes: z.record(z.string(), z.unknown()),
    consents: ConsentsSchema,
    locale: z.string().nullable().openapi({ description: "BCP 47 language tag (canonical form) choosing the content's language variant; null when unknown.", example: 'pt-BR' }),
    autoCreated: z.boolean().openapi({ description: 'true when a trigger call created it (audience.createMissingProfiles)' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Profile');

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
    body: { required: true, content: { 'application/json': { schema: z.object({ attributes: queryableJsonObject(), consents: ConsentsSchema.optional(), locale: localeTag().nullable().optional().openapi({ description: 'A BCP 47 language tag, stored in its canonical form (pt-br → pt-BR); null clears it, absent keeps it.', example: 'pt-BR' }) }).strict().openapi('ProfileUpsert') } } },
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
