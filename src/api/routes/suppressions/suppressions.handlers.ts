import type { RouteHandler } from '@hono/zod-openapi';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { addSuppression, importSuppressions, listSuppressions, removeSuppression, type SuppressionImportEntry } from '../../../services/suppressions';
import { checkedNdjsonEntries, NdjsonCutShort, requireNdjson } from '../../ndjson-body';
import { ndjsonLines, type NdjsonLine } from '../../ndjson-lines';
import { SuppressionImportLineSchema, type importSuppressions as importRoute } from './suppressions.routes';
import type * as routes from './suppressions.routes';

/** Each line of the body checked against its schema; a body over the limit ends in an `unread` entry. */
const importEntries = (lines: AsyncIterable<NdjsonLine>): AsyncGenerator<SuppressionImportEntry> =>
  checkedNdjsonEntries(lines, SuppressionImportLineSchema, (line, { channel, address }) => ({ line, kind: 'suppression' as const, channel, address }));

export function suppressionHandlers(deps: ServiceDependencies) {
  const list: RouteHandler<typeof routes.listSuppressions> = async (c) => c.json(await listSuppressions(deps, c.req.valid('query')), 200);

  const add: RouteHandler<typeof routes.addSuppression> = async (c) => {
    const { suppression, created } = await addSuppression(deps, c.req.valid('json'), c.var.principal.keyId);
    return created ? c.json(suppression, 201) : c.json(suppression, 200);
  };

  const remove: RouteHandler<typeof routes.deleteSuppression> = async (c) => {
    const { channel, address } = c.req.valid('param');
    await removeSuppression(deps, channel, address, c.var.principal.keyId);
    return c.body(null, 204);
  };

  const importNdjson: RouteHandler<typeof importRoute> = async (c) => {
    requireNdjson(c.req.header('content-type'), 'the addresses, one {channel, address} per line,');
    const { maxBytes, maxLineBytes } = deps.config.profileImport;
    // The raw stream, never c.req.json() or the like: those would hold the whole body.
    const lines = ndjsonLines(c.req.raw.body, { maxLineBytes, maxBodyBytes: maxBytes });
    const { summary, complete } = await importSuppressions(deps, importEntries(lines), c.var.principal.keyId);
    if (!complete) throw new NdjsonCutShort(summary, maxBytes, 'Import');
    return c.json(summary, 200);
  };

  return { list, add, remove, importNdjson };
}
