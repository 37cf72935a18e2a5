import { createRoute, z } from '@hono/zod-openapi';
import { AUDIT_ACTIONS, AUDIT_RESOURCE_TYPES } from '../../../domain/audit';
import { allowKeys } from '../../access';
import { problemContent, v1Responses } from '../../problem';
import { safeText } from '../../schemas/safe-text';

const Snapshot = z.record(z.string(), z.unknown());

export const AuditEntrySchema = z
  .object({
    id: z.string(),
    occurredAt: z.string(),
    actorKeyId: z.string().openapi({
      description: 'The API key that made the change: a key id, env-<12 hex> for a key from HERALD_API_KEYS, or open',
      example: 'env-5e884898da28',
    }),
    action: z.enum(AUDIT_ACTIONS),
    resourceType: z.enum(AUDIT_RESOURCE_TYPES),
    resourceId: z.string().openapi({
      description:
        "A campaign or key id; a profile's internal id (`prf_…`; entries written before it existed: <namespace>/<userId>). Filtering by <namespace>/<userId> finds both while the profile exists.",
    }),
    before: Snapshot.optional().openapi({ description: 'The resource before the change (campaigns; key metadata on revocation)' }),
    after: Snapshot.optional().openapi({
      description: 'The resource after the change (campaigns; key metadata on creation). Profiles are named, never copied.',
    }),
  })
  .openapi('AuditEntry');

export const listAuditLog = createRoute({
  method: 'get',
  path: '/v1/audit-log',
  tags: ['Audit log'],
  security: allowKeys('full'),
  summary: 'Changes to campaigns, API keys and profiles, newest first',
  request: {
    query: z.object({
      resourceType: z.enum(AUDIT_RESOURCE_TYPES).optional(),
      resourceId: safeText(1, 600).optional(),
      actorKeyId: safeText(1, 64).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
      cursor: safeText(0, 200).optional().openapi({ description: 'nextCursor from the previous page' }),
    }),
  },
  responses: {
    200: {
      description: 'A page of entries',
      content: { 'application/json': { schema: z.object({ items: z.array(AuditEntrySchema), nextCursor: z.string().optional() }).openapi('AuditLogPage') } },
    },
    400: problemContent('Invalid query or cursor'),
    ...v1Responses,
  },
});
