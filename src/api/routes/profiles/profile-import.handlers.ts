import type { RouteHandler } from '@hono/zod-openapi';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { importProfiles, type ProfileImportEntry } from '../../../services/profile-import';
import { NdjsonBodyTooLarge, ndjsonLines, type NdjsonLine } from '../../ndjson-lines';
import { lineRejection, NdjsonCutShort, requireNdjson } from '../../ndjson-body';
import { ProfileImportLineSchema } from '../../schemas/profile-upsert';
import type { importProfiles as importRoute } from './profile-import.routes';

/** Each line of the body checked against the PUT's schema; a body over the limit ends in an `unread` entry. */
async function* importEntries(lines: AsyncIterable<NdjsonLine>): AsyncGenerator<ProfileImportEntry> {
  try {
    for await (const line of lines) {
      if (line.kind === 'invalid') {
        yield { line: line.line, kind: 'rejected', reason: line.reason };
        continue;
      }
      const parsed = ProfileImportLineSchema.safeParse(line.value);
      if (!parsed.success) {
        yield { line: line.line, kind: 'rejected', reason: lineRejection(parsed.error.issues) };
        continue;
      }
      const { namespace, userId, attributes, consents, locale } = parsed.data;
      yield {
        line: line.line,
        kind: 'profile',
        profile: { namespace, userId, attributes, ...(consents && { consents }), ...(locale !== undefined && { locale }) },
      };
    }
  } catch (error) {
    if (!(error instanceof NdjsonBodyTooLarge)) throw error;
    yield {
      line: error.afterLine + 1,
      kind: 'unread',
      reason: `the body exceeds ${error.maxBodyBytes} bytes (HERALD_IMPORT_MAX_BYTES): this line and those after it were not read`,
    };
  }
}

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
