import { z, type RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import {
  addMembers,
  audienceView,
  createAudience,
  deleteAudience,
  listAudiences,
  removeMember,
  removeMembers,
  staticAudience,
  type MemberLine,
  type MemberReport,
} from '../../../services/audiences';
import { NdjsonBodyTooLarge, ndjsonLines, type NdjsonLine } from '../../ndjson-lines';
import { lineRejection, NdjsonCutShort, requireNdjson } from '../../ndjson-body';
import { safeText } from '../../schemas/safe-text';
import type {
  addMembers as addRoute,
  createAudience as createRoute,
  deleteAudience as deleteRoute,
  getAudience as getRoute,
  listAudiences as listRoute,
  removeMember as removeOneRoute,
  removeMembers as removeRoute,
} from './audiences.routes';

const MemberLineSchema = z.object({ userId: safeText(1, 255) }).strict();

/**
 * The body's lines as user ids, or the reason a line is refused. A body over the limit ends the
 * lines quietly and is recorded in `cut`, so that what was read is still applied.
 */
async function* memberLines(lines: AsyncIterable<NdjsonLine>, cut: { tooLarge?: NdjsonBodyTooLarge }): AsyncGenerator<MemberLine> {
  try {
    for await (const line of lines) {
      if (line.kind === 'invalid') {
        yield { line: line.line, reason: line.reason };
        continue;
      }
      const parsed = MemberLineSchema.safeParse(line.value);
      if (parsed.success) yield { line: line.line, userId: parsed.data.userId };
      else yield { line: line.line, reason: lineRejection(parsed.error.issues) };
    }
  } catch (error) {
    if (!(error instanceof NdjsonBodyTooLarge)) throw error;
    cut.tooLarge = error;
  }
}

export function audienceHandlers(deps: ServiceDependencies) {
  const create: RouteHandler<typeof createRoute> = async (c) => c.json(await createAudience(deps, c.req.valid('json'), c.var.principal.keyId), 201);

  const list: RouteHandler<typeof listRoute> = async (c) => c.json(await listAudiences(deps, c.req.valid('query')), 200);

  const get: RouteHandler<typeof getRoute> = async (c) => c.json(await audienceView(deps, c.req.valid('param').id), 200);

  const remove: RouteHandler<typeof deleteRoute> = async (c) => {
    await deleteAudience(deps, c.req.valid('param').id, c.var.principal.keyId);
    return c.body(null, 204);
  };

  /** Reads the NDJSON body of a members call as a stream and applies it with `apply`. */
  async function streamMembers<R extends MemberReport>(c: Context, id: string, apply: (lines: AsyncIterable<MemberLine>) => Promise<R>): Promise<R> {
    requireNdjson(c.req.header('content-type'), 'the user ids, one {"userId": "…"} per line,');
    const { maxBytes, maxLineBytes } = deps.config.profileImport;
    const cut: { tooLarge?: NdjsonBodyTooLarge } = {};
    // The raw stream, never c.req.json() or the like: those would hold the whole body.
    const report = await apply(memberLines(ndjsonLines(c.req.raw.body, { maxLineBytes, maxBodyBytes: maxBytes }), cut));
    if (cut.tooLarge) throw new NdjsonCutShort(report, maxBytes, 'Member');
    return report;
  }

  const addMembersHandler: RouteHandler<typeof addRoute> = async (c) => {
    const audience = await staticAudience(deps, c.req.valid('param').id);
    return c.json(await streamMembers(c, audience.id, (lines) => addMembers(deps, audience, lines)), 200);
  };

  const removeMembersHandler: RouteHandler<typeof removeRoute> = async (c) => {
    const audience = await staticAudience(deps, c.req.valid('param').id);
    return c.json(await streamMembers(c, audience.id, (lines) => removeMembers(deps, audience, lines)), 200);
  };

  const removeMemberHandler: RouteHandler<typeof removeOneRoute> = async (c) => {
    const { id, userId } = c.req.valid('param');
    await removeMember(deps, await staticAudience(deps, id), userId);
    return c.body(null, 204);
  };

  return { create, list, get, remove, addMembers: addMembersHandler, removeMembers: removeMembersHandler, removeMember: removeMemberHandler };
}
