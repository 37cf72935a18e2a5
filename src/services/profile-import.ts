import { setTimeout as sleep } from 'node:timers/promises';
import { isTransientDatabaseError } from '../db/dialect';
import type { ProfileUpsert } from '../repositories/profiles';
import type { ServiceDependencies } from './service-dependencies';
import { withTransaction } from './transaction';

/** What the caller read from one line of an import, in line order. */
export type ProfileImportEntry =
  | { line: number; kind: 'profile'; profile: ProfileUpsert }
  /** A line that is not a valid profile; skipped, the rest goes on. */
  | { line: number; kind: 'rejected'; reason: string }
  /** Reading stopped at this line (the body was too large): it and the rest were not read. Ends the import. */
  | { line: number; kind: 'unread'; reason: string };

export interface ProfileImportSummary {
  /** Lines read, blank ones left out: created + updated + rejected. */
  received: number;
  created: number;
  updated: number;
  rejected: number;
  /** The first MAX_IMPORT_ERRORS problems, by 1-based line number. */
  errors: Array<{ line: number; reason: string }>;
  /** Present when more problems occurred than `errors` lists. */
  errorsTruncated?: true;
}

/** Rows per transaction: big enough that a statement per row does not dominate, small enough that the API holds little. */
export const IMPORT_BATCH_ROWS = 500;
export const MAX_IMPORT_ERRORS = 1000;
/** A batch meets a busy database (SQLite's writer lock, a PostgreSQL deadlock) at most this many times before the import fails. */
const BATCH_ATTEMPTS = 5;

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
  const report = (line: number, reason: string) => {
    if (summary.errors.length < MAX_IMPORT_ERRORS) summary.errors.push({ line, reason });
    else summary.errorsTruncated = true;
  };
  const counts = () => ({ received: summary.received, created: summary.created, updated: summary.updated, rejected: summary.rejected });
  let batch: ProfileUpsert[] = [];
  let complete = true;

  const flush = async (last: boolean) => {
    const rows = batch;
    batch = [];
    for (let attempt = 1; ; attempt++) {
      try {
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
        return;
      } catch (error) {
        // The transaction rolled back: the same rows can go again.
        if (attempt >= BATCH_ATTEMPTS || !isTransientDatabaseError(error)) throw error;
        await sleep(50 * 2 ** attempt);
      }
    }
  };

  try {
    for await (const entry of entries) {
      if (entry.kind === 'unread') {
        report(entry.line, entry.reason);
        complete = false;
        break;
      }
      summary.received += 1;
      if (entry.kind === 'rejected') {
        summary.rejected += 1;
        report(entry.line, entry.reason);
        continue;
      }
      batch.push(entry.profile);
      if (batch.length >= batchRows) await flush(false);
    }
  } catch (error) {
    // The body broke off (the client went away) or the database failed: what committed is on
    // record all the same, as far as the database lets us.
    await withTransaction(deps, ({ auditLog }) => auditLog.record({ actorKeyId, action: 'profile.imported', resourceType: 'profile', resourceId: 'import', after: { ...counts(), complete: false } })).catch(() => undefined);
    throw error;
  }
  await flush(true);
  return { summary, complete };
}
