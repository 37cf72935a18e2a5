import type { AudienceDefinition } from '../domain/audience-rule';
import { DomainError, notFound } from '../domain/errors';
import { AuditLogRepository } from '../repositories/audit-log';
import { AudienceRepository, type AudienceRecord } from '../repositories/audiences';
import type { ServiceDependencies } from './service-dependencies';

export interface AudienceRequest {
  name: string;
  namespace: string;
  definition: AudienceDefinition;
}

export type AudienceView = AudienceRecord & { estimatedSize: number };

/** One line of a members stream: a user id, or why the line was refused. */
export type MemberLine = { line: number; userId: string } | { line: number; reason: string };

/** Inserts and deletes per statement: 500 rows × 4 parameters stays far below both dialects' limits. */
export const MEMBER_BATCH_SIZE = 500;
/** Refused lines listed in an answer; the count covers them all. */
export const MAX_REPORTED_MEMBER_ERRORS = 100;

export interface MemberReport {
  received: number;
  rejected: number;
  errors: { line: number; reason: string }[];
}
export type AddMembersReport = MemberReport & { added: number; alreadyMembers: number };
export type RemoveMembersReport = MemberReport & { removed: number; notMembers: number };

const repository = (deps: Pick<ServiceDependencies, 'db'>) => new AudienceRepository(deps.db);

export function createAudience(deps: ServiceDependencies, request: AudienceRequest, actorKeyId: string): Promise<AudienceRecord> {
  return deps.db.transaction().execute(async (trx) => {
    const created = await new AudienceRepository(trx).create(request);
    await new AuditLogRepository(trx).record({ actorKeyId, action: 'audience.created', resourceType: 'audience', resourceId: created.id, after: created });
    return created;
  });
}

export async function audienceView(deps: ServiceDependencies, id: string): Promise<AudienceView> {
  const audiences = repository(deps);
  const audience = await audiences.get(id);
  if (!audience) throw notFound(`Audience ${id}`);
  return { ...audience, estimatedSize: await audiences.estimatedSize(audience) };
}

export function listAudiences(deps: ServiceDependencies, options: { namespace?: string; limit: number; cursor?: string }) {
  return repository(deps).list(options);
}

/** Deletes an audience (and a static one's members) unless a run that has not frozen its members yet still needs it (409). */
export function deleteAudience(deps: ServiceDependencies, id: string, actorKeyId: string): Promise<void> {
  return deps.db.transaction().execute(async (trx) => {
    const audiences = new AudienceRepository(trx);
    const before = await audiences.get(id);
    if (!before) throw notFound(`Audience ${id}`);
    const pending = await audiences.pendingRunIds(id);
    if (pending.length > 0) {
      throw new DomainError(
        'conflict',
        'audience-in-use',
        'The audience is in use',
        `Audience execution(s) ${pending.join(', ')} have not started yet and will read audience ${id}; cancel them first.`,
      );
    }
    await audiences.delete(id);
    await new AuditLogRepository(trx).record({ actorKeyId, action: 'audience.deleted', resourceType: 'audience', resourceId: id, before });
  });
}

/** The static audience members are added to or removed from: 404 when unknown, 409 for a rule audience. */
export async function staticAudience(deps: ServiceDependencies, id: string): Promise<AudienceRecord> {
  const audience = await repository(deps).get(id);
  if (!audience) throw notFound(`Audience ${id}`);
  if (audience.definition.type !== 'static') {
    throw new DomainError(
      'conflict',
      'audience-not-static',
      'Not a static audience',
      `Audience ${id} is a rule audience: its members are the profiles matching its rule, and cannot be added or removed.`,
    );
  }
  return audience;
}

/**
 * Reads a members stream in batches of MEMBER_BATCH_SIZE, applying each batch as it fills (one
 * statement each, committed on its own: a stream cut short keeps the batches before the cut,
 * and sending it again is harmless). `apply` answers how many rows the batch changed.
 */
async function applyInBatches(
  lines: AsyncIterable<MemberLine>,
  apply: (userIds: string[]) => Promise<number>,
): Promise<MemberReport & { valid: number; changed: number }> {
  const report = { received: 0, rejected: 0, errors: [] as { line: number; reason: string }[], valid: 0, changed: 0 };
  let batch: string[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const userIds = batch;
    batch = [];
    report.changed += await apply(userIds);
  };
  try {
    for await (const line of lines) {
      report.received += 1;
      if ('reason' in line) {
        report.rejected += 1;
        if (report.errors.length < MAX_REPORTED_MEMBER_ERRORS) report.errors.push({ line: line.line, reason: line.reason });
        continue;
      }
      report.valid += 1;
      batch.push(line.userId);
      if (batch.length >= MEMBER_BATCH_SIZE) await flush();
    }
  } finally {
    // Also when the stream fails (a body over the limit): what was read is kept.
    await flush();
  }
  return report;
}

export async function addMembers(deps: ServiceDependencies, audience: AudienceRecord, lines: AsyncIterable<MemberLine>): Promise<AddMembersReport> {
  const audiences = repository(deps);
  const { valid, changed, ...report } = await applyInBatches(lines, (userIds) => audiences.addMembers(audience, userIds));
  return { ...report, added: changed, alreadyMembers: valid - changed };
}

export async function removeMembers(deps: ServiceDependencies, audience: AudienceRecord, lines: AsyncIterable<MemberLine>): Promise<RemoveMembersReport> {
  const audiences = repository(deps);
  const { valid, changed, ...report } = await applyInBatches(lines, (userIds) => audiences.removeMembers(audience.id, userIds));
  return { ...report, removed: changed, notMembers: valid - changed };
}

export async function removeMember(deps: ServiceDependencies, audience: AudienceRecord, userId: string): Promise<void> {
  if ((await repository(deps).removeMembers(audience.id, [userId])) === 0) throw notFound(`Member ${userId} of audience ${audience.id}`);
}
