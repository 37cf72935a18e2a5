import type { ProfileUpsert } from '../repositories/profiles';
import type { ServiceDependencies } from './service-dependencies';
import { withTransaction } from './transaction';
import { IMPORT_BATCH_ROWS, importInBatches, type ImportTally, type RejectedImportLine, type UnreadImportLine } from './batched-import';

export { IMPORT_BATCH_ROWS, MAX_IMPORT_ERRORS } from './batched-import';

/** What the caller read from one line of an import, in line order. */
export type ProfileImportEntry = { line: number; kind: 'profile'; profile: ProfileUpsert } | RejectedImportLine | UnreadImportLine;

export interface ProfileImportSummary extends ImportTally {
  created: number;
  updated: number;
}

/**
 * Upserts the profiles of `entries` as they arrive, IMPORT_BATCH_ROWS per transaction, so that an
 * import of any size holds one batch in memory. Each profile is upserted as PUT
 * /v1/profiles/{namespace}/{userId} would (ProfileRepository.upsertMany). Rejected lines are
 * counted and listed, never fatal. One audit entry records the import's counts (never a profile:
 * they are personal data); it commits with the last batch. `complete` is false when an `unread`
 * entry ended the import early.
 */
export async function importProfiles(
  deps: Pick<ServiceDependencies, 'db'>,
  entries: AsyncIterable<ProfileImportEntry>,
  actorKeyId: string,
  batchRows = IMPORT_BATCH_ROWS,
): Promise<{ summary: ProfileImportSummary; complete: boolean }> {
  const summary: ProfileImportSummary = { received: 0, created: 0, updated: 0, rejected: 0, errors: [] };
  const counts = () => ({ received: summary.received, created: summary.created, updated: summary.updated, rejected: summary.rejected });
  try {
    const complete = await importInBatches(entries, summary, {
      batchRows,
      rowOf: (entry: Extract<ProfileImportEntry, { kind: 'profile' }>) => ({ row: entry.profile }),
      async writeBatch(rows: ProfileUpsert[], last, complete) {
        const written = await withTransaction(deps, async ({ profiles, auditLog }) => {
          const result = await profiles.upsertMany(rows);
          if (last) {
            const after = { ...counts(), created: summary.created + result.created, updated: summary.updated + result.updated, ...(!complete && { complete }) };
            await auditLog.record({ actorKeyId, action: 'profile.imported', resourceType: 'profile', resourceId: 'import', after });
          }
          return result;
        });
        summary.created += written.created;
        summary.updated += written.updated;
      },
    });
    return { summary, complete };
  } catch (error) {
    // The body broke off (the client went away) or the database failed: what committed is on
    // record all the same, as far as the database lets us.
    await withTransaction(deps, ({ auditLog }) =>
      auditLog.record({ actorKeyId, action: 'profile.imported', resourceType: 'profile', resourceId: 'import', after: { ...counts(), complete: false } }),
    ).catch(() => undefined);
    throw error;
  }
}
