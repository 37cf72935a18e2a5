import { checkpointAfterErasure } from '../db/database';
import { DomainError } from '../domain/errors';
import { AuditLogRepository } from '../repositories/audit-log';
import { ProfileErasureRepository, type ErasureCounts } from '../repositories/profile-erasure';
import { ReportRollupRepository } from '../repositories/report-rollups';
import type { ServiceDependencies } from './service-dependencies';
import { addressHasherOf } from './suppressions';

/** 404: no profile, delivery, push token, membership, topic subscription, event, event wait, suppression or audit entry about the key (an erased one included). */
export const nothingHeld = () => new DomainError('not-found', 'not-found', 'Not found', 'Herald holds nothing about this profile');

/**
 * Erases a person (GDPR Art. 17): the profile and every row that holds its personal data, in one
 * transaction (src/repositories/profile-erasure.ts says table by table what happens). Counts stay:
 * the report rollups are folded first, so what the person's deliveries and events counted is
 * kept without them, and executions keep their outcome counts. A suppressed address stays
 * suppressed as a keyed hash. The audit entry records the counts under the profile's internal
 * id, never the userId or an address. Not found when Herald holds nothing about the key (so a
 * second erasure answers 404). On SQLite the WAL is then checkpointed and truncated, so no old
 * page image with the person's rows is left in the files (secure_delete zeroed the rest).
 */
export async function eraseProfile(
  deps: Pick<ServiceDependencies, 'db' | 'config'>,
  namespace: string,
  userId: string,
  actorKeyId: string,
): Promise<ErasureCounts> {
  await new ReportRollupRepository(deps.db).foldChanges();
  const hasher = addressHasherOf(deps.config);
  const counts = await deps.db.transaction().execute(async (trx) => {
    const erasure = new ProfileErasureRepository(trx);
    const profile = await erasure.profile(namespace, userId);
    const addresses = await erasure.addresses(namespace, userId, profile?.attributes);
    if (!(await erasure.holdsAnything(namespace, userId, addresses))) throw nothingHeld();
    const erased = await erasure.erase(namespace, userId, profile?.id ?? null, addresses, hasher);
    await new AuditLogRepository(trx).record({
      actorKeyId,
      action: 'profile.erased',
      resourceType: 'profile',
      resourceId: profile?.id ?? 'erased',
      after: erased,
    });
    return erased;
  });
  await checkpointAfterErasure(deps.db);
  return counts;
}
