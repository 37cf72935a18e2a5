import type { RouteHandler } from '@hono/zod-openapi';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { importProfiles, type ProfileImportEntry } from '../../../services/profile-import';
import { ndjsonLines, type NdjsonLine } from '../../ndjson-lines';
import { checkedNdjsonEntries, NdjsonCutShort, requireNdjson } from '../../ndjson-body';
import { ProfileImportLineSchema } from '../../schemas/profile-upsert';
import type { importProfiles as importRoute } from './profile-import.routes';

/** Each line of the body checked against the PUT's schema; a body over the limit ends in an `unread` entry. */
const importEntries = (lines: AsyncIterable<NdjsonLine>): AsyncGenerator<ProfileImportEntry> =>
  checkedNdjsonEntries(lines, ProfileImportLineSchema, (line, { namespace, userId, attributes, consents, locale }) => ({
    line,
    kind: 'profile' as const,
    profile: { namespace, userId, attributes, ...(consents && { consents }), ...(locale !== undefined && { locale }) },
  }));

export function profileImportHandlers(deps: ServiceDependencies) {
  const importNdjson: RouteHandler<typeof importRoute> = async (c) => {
    requireNdjson(c.req.header('content-type'), 'the profiles, one JSON object per line,');
    const { maxBytes, maxLineBytes } = deps.config.profileImport;
    // The raw stream, never c.req.json() or the like: those would hold the whole body.
    const lines = ndjsonLines(c.req.raw.body, { maxLineBytes, maxBodyBytes: maxBytes });
    const { summary, complete } = await importProfiles(deps, importEntries(lines), c.var.principal.keyId);
    if (!complete) throw new NdjsonCutShort(summary, maxBytes, 'Import');
    return c.json(summary, 200);
  };
  return { importNdjson };
}
