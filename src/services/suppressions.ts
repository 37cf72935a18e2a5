import { channelRulesOf } from '../channels/registry';
import type { Channel } from '../domain/campaign';
import { invalidRequest, notFound } from '../domain/errors';
import { normaliseAddress, type SuppressionReason } from '../domain/provider-feedback';
import { AddressHasher } from '../domain/address-hash';
import { AuditLogRepository } from '../repositories/audit-log';
import { SuppressionRepository, storedKeyOf, type NewSuppression, type Suppression } from '../repositories/suppressions';
import { CHANNELS } from '../domain/campaign';
import type { ServiceDependencies } from './service-dependencies';
import { importInBatches, type ImportTally, type RejectedImportLine, type UnreadImportLine } from './batched-import';

type Deps = Pick<ServiceDependencies, 'db'>;

/**
 * What recognises (and makes) the hashes erasures leave of suppressed addresses: keyed with
 * HERALD_TRACKING_SECRET (src/domain/address-hash.ts). The worker builds the same from its own
 * configuration for the send-time check.
 */
export const addressHasherOf = (config: Pick<ServiceDependencies['config'], 'tracking'> | undefined) => new AddressHasher(() => config?.tracking.secrets ?? []);

/** The address in its stored form, or 400 naming what a valid one looks like. */
export function storedAddress(channel: Channel, address: string, field = 'address'): string {
  const rules = channelRulesOf(channel);
  const normalised = normaliseAddress(rules, address);
  if (normalised === undefined) throw invalidRequest([{ field, message: `must be ${rules.addressKind}` }]);
  return normalised;
}

/** The cursor is opaque to clients: the last entry's key, base64url JSON. */
const encodeCursor = (entry: Suppression) => Buffer.from(JSON.stringify([entry.channel, storedKeyOf(entry)]), 'utf8').toString('base64url');

function decodeCursor(cursor: string): { channel: Channel; address: string } {
  try {
    const [channel, address] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if ((CHANNELS as readonly unknown[]).includes(channel) && typeof address === 'string') return { channel: channel as Channel, address };
  } catch {
    // fall through
  }
  throw invalidRequest([{ field: 'cursor', message: 'not a cursor from a previous page' }], 'Pass nextCursor from the previous page as it was.');
}

export async function listSuppressions(
  deps: Deps,
  query: { channel?: Channel; limit: number; cursor?: string },
): Promise<{ items: Suppression[]; nextCursor?: string }> {
  const { items, hasMore } = await new SuppressionRepository(deps.db).list({
    ...(query.channel && { channel: query.channel }),
    ...(query.cursor !== undefined && { after: decodeCursor(query.cursor) }),
    limit: query.limit,
  });
  return { items, ...(hasMore && { nextCursor: encodeCursor(items[items.length - 1]!) }) };
}

/** Adds an address (normalised) with its audit entry; `created` false when it was there already (the entry is left as it was). */
export function addSuppression(
  deps: Deps,
  request: { channel: Channel; address: string; reason?: SuppressionReason; detail?: string },
  actorKeyId: string,
): Promise<{ suppression: Suppression; created: boolean }> {
  const address = storedAddress(request.channel, request.address);
  return deps.db.transaction().execute(async (trx) => {
    const suppressions = new SuppressionRepository(trx);
    const created = await suppressions.add({
      channel: request.channel,
      address,
      reason: request.reason ?? 'manual',
      ...(request.detail !== undefined && { detail: request.detail }),
    });
    const suppression = (await suppressions.get(request.channel, address))!;
    if (created)
      await new AuditLogRepository(trx).record({
        actorKeyId,
        action: 'suppression.added',
        resourceType: 'suppression',
        resourceId: `${request.channel}/${address}`,
        after: { reason: suppression.reason },
      });
    return { suppression, created };
  });
}

/**
 * Removes an address (normalised) with its audit entry: later sends go to it again. Not found
 * when it is not listed. An erased person's entry (kept as a hash) is found by the address too.
 */
export function removeSuppression(
  deps: Deps & Partial<Pick<ServiceDependencies, 'config'>>,
  channel: Channel,
  rawAddress: string,
  actorKeyId: string,
): Promise<void> {
  const address = storedAddress(channel, rawAddress);
  return deps.db.transaction().execute(async (trx) => {
    const suppressions = new SuppressionRepository(trx, addressHasherOf(deps.config));
    const before = await suppressions.find(channel, address);
    if (!before || !(await suppressions.remove(channel, address))) throw notFound(`Suppression of ${channel} address ${address}`);
    await new AuditLogRepository(trx).record({
      actorKeyId,
      action: 'suppression.deleted',
      resourceType: 'suppression',
      resourceId: `${channel}/${before.address ?? before.addressHash}`,
      before: { reason: before.reason },
    });
  });
}

export type SuppressionImportEntry = { line: number; kind: 'suppression'; channel: Channel; address: string } | RejectedImportLine | UnreadImportLine;

export interface SuppressionImportSummary extends ImportTally {
  added: number;
  /** Lines naming an address already listed (or listed twice in the body). */
  alreadySuppressed: number;
}

/**
 * Adds the addresses of `entries` as they arrive, IMPORT_BATCH_ROWS per transaction (reason
 * `import`), so an import of any size holds one batch in memory; addresses already listed keep
 * their entry. One audit entry, resource id `import`, records the counts (no address), with the
 * last batch. `complete` is false when an `unread` entry ended it early.
 */
export async function importSuppressions(
  deps: Deps,
  entries: AsyncIterable<SuppressionImportEntry>,
  actorKeyId: string,
): Promise<{ summary: SuppressionImportSummary; complete: boolean }> {
  const summary: SuppressionImportSummary = { received: 0, added: 0, alreadySuppressed: 0, rejected: 0, errors: [] };
  const complete = await importInBatches(entries, summary, {
    rowOf(entry: Extract<SuppressionImportEntry, { kind: 'suppression' }>) {
      const address = normaliseAddress(channelRulesOf(entry.channel), entry.address);
      // Two lines with one address in a batch: the second is counted as already suppressed.
      return address === undefined
        ? { rejected: `address: not a valid ${entry.channel} address` }
        : { row: { channel: entry.channel, address, reason: 'import' as const } };
    },
    writeBatch: (rows: NewSuppression[], last, complete) =>
      deps.db
        .transaction()
        .execute(async (trx) => {
          const added = await new SuppressionRepository(trx).addMany(rows);
          if (last) {
            const after = {
              received: summary.received,
              added: summary.added + added,
              alreadySuppressed: summary.alreadySuppressed + rows.length - added,
              rejected: summary.rejected,
              ...(!complete && { complete }),
            };
            await new AuditLogRepository(trx).record({ actorKeyId, action: 'suppression.imported', resourceType: 'suppression', resourceId: 'import', after });
          }
          // Counted once the transaction commits: a batch the database refused goes again.
          return added;
        })
        .then((added) => {
          summary.added += added;
          summary.alreadySuppressed += rows.length - added;
        }),
  });
  return { summary, complete };
}
