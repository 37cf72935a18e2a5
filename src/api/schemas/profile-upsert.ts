import { z } from '@hono/zod-openapi';
import { localeTag } from './localized-content';
import { queryableJsonObject, safeText } from './safe-text';

// What a profile upsert carries, shared by PUT /v1/profiles/{namespace}/{userId} (one profile,
// key in the path) and POST /v1/profiles/import (one profile per NDJSON line, key in the line),
// so that a line is valid exactly when the same PUT would be.

const Consent = z.enum(['in', 'out']);
export const ConsentsSchema = z
  .object({ email: Consent.optional(), sms: Consent.optional(), push: Consent.optional(), inApp: Consent.optional(), whatsapp: Consent.optional() })
  .strict()
  .openapi('Consents');

/** A namespace or a userId: what the PUT accepts as a path segment. */
export const profileKeyPart = () => safeText(1, 255);

const upsertFields = {
  attributes: queryableJsonObject(),
  consents: ConsentsSchema.optional(),
  locale: localeTag()
    .nullable()
    .optional()
    .openapi({ description: 'A BCP 47 language tag, stored in its canonical form (pt-br → pt-BR); null clears it, absent keeps it.', example: 'pt-BR' }),
};

/** The PUT's body. */
export const ProfileUpsertSchema = z.object(upsertFields).strict().openapi('ProfileUpsert');

/** One line of a bulk import: the PUT's body with the key the PUT takes from its path. */
export const ProfileImportLineSchema = z
  .object({ namespace: profileKeyPart().openapi({ example: 'email' }), userId: profileKeyPart().openapi({ example: 'ada@example.com' }), ...upsertFields })
  .strict()
  .openapi('ProfileImportLine', {
    description: 'One line of POST /v1/profiles/import: a profile upsert, as PUT /v1/profiles/{namespace}/{userId} with its body.',
  });
export type ProfileImportLine = z.infer<typeof ProfileImportLineSchema>;
