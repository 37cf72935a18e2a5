import type { Channel } from '../src/domain/campaign';
import type { PreparedDelivery } from '../src/repositories/deliveries';
import type { SuppressionRepository } from '../src/repositories/suppressions';

/** Why a recipient whose address is on the suppression list is not sent to. */
export const SUPPRESSED = 'suppressed';

/**
 * The preparation with every message whose address is on the channel's suppression list turned
 * into an exclusion (reason `suppressed`, the address kept), whatever the campaign's type: a hard
 * bounce or a complaint stops transactional messages too. One query for the whole batch's
 * addresses, once they are known. `onSuppressed` hears each position excluded this way (so the
 * caller can drop it from what it defers).
 */
export async function excludeSuppressed(
  suppressions: SuppressionRepository | undefined,
  channel: Channel,
  prepared: PreparedDelivery[],
  onSuppressed?: (position: number) => void,
): Promise<PreparedDelivery[]> {
  const addresses = prepared.flatMap((p) => ('message' in p && p.address !== undefined ? [p.address] : []));
  if (!suppressions || addresses.length === 0) return prepared;
  const suppressed = await suppressions.suppressedAddresses(channel, addresses);
  if (suppressed.size === 0) return prepared;
  return prepared.map((p): PreparedDelivery => {
    if (!('message' in p) || p.address === undefined || !suppressed.has(p.address)) return p;
    onSuppressed?.(p.position);
    return {
      position: p.position,
      profileCreated: p.profileCreated,
      address: p.address,
      ...(p.locale && { locale: p.locale }),
      outcome: { status: 'excluded', reason: SUPPRESSED },
    };
  });
}
