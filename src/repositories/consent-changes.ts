import type { HeraldDb } from '../db/database';
import { mergeJsonValue, queryableJson } from '../db/dialect';
import type { Channel } from '../domain/campaign';
import type { ConsentValue } from '../domain/consent';

/** A profile, by its key. */
export interface ProfileKey {
  namespace: string;
  userId: string;
}

/**
 * Consent changes the public makes without an API key: a one-click unsubscribe (which names a
 * delivery) and an inbound SMS keyword (which names a phone number). Bind it to the transaction
 * that also writes the audit entry and the feedback event.
 */
export class ConsentChangeRepository {
  constructor(private readonly db: HeraldDb) {}

  /** Whom a delivery went to, on which channel; undefined when there is no such delivery (or retention removed it). */
  async recipientOf(executionId: string, position: number): Promise<(ProfileKey & { channel: Channel }) | undefined> {
    const row = await this.db
      .selectFrom('deliveries')
      .select(['namespace', 'user_id', 'channel'])
      .where('execution_id', '=', executionId)
      .where('position', '=', position)
      .executeTakeFirst();
    return row && { namespace: row.namespace, userId: row.user_id, channel: row.channel };
  }

  /**
   * Sets a profile's consent on one channel, merged by the database into the stored consents (a
   * concurrent profile update keeps its other keys). True when it changed: a profile that already
   * has this value, or none at all, is left alone, so a repeated unsubscribe records nothing twice.
   */
  async setConsent(profile: ProfileKey, channel: Channel, value: ConsentValue): Promise<boolean> {
    const result = await this.db
      .updateTable('profiles')
      .set({ consents: mergeJsonValue(this.db, 'consents', { [channel]: value }), updated_at: new Date().toISOString() })
      .where('namespace', '=', profile.namespace)
      .where('user_id', '=', profile.userId)
      .where((eb) => eb.not(queryableJson(this.db, 'consents').equals([channel], value)))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * The profiles a phone number (E.164) belongs to, as SMS preparation finds numbers: a userId in
   * the `phone` namespace, a `phone` attribute written in E.164, and every profile Herald has sent
   * a message of `channel` (an SMS, or a WhatsApp message) to at that number (which also covers attributes written another way, `+44 7911 123456`,
   * and numbers given in a trigger's channelData), while retention keeps the delivery.
   */
  async profilesWithPhone(e164: string, channel: 'sms' | 'whatsapp' = 'sms'): Promise<ProfileKey[]> {
    const [byUserId, byAttribute, bySends] = await Promise.all([
      this.db.selectFrom('profiles').select(['namespace', 'user_id']).where('namespace', '=', 'phone').where('user_id', '=', e164).execute(),
      this.db
        .selectFrom('profiles')
        .select(['namespace', 'user_id'])
        .where(queryableJson(this.db, 'attributes').equals(['phone'], e164))
        .execute(),
      this.db.selectFrom('deliveries').select(['namespace', 'user_id']).distinct().where('channel', '=', channel).where('address', '=', e164).execute(),
    ]);
    const found = new Map<string, ProfileKey>();
    for (const row of [...byUserId, ...byAttribute, ...bySends])
      found.set(JSON.stringify([row.namespace, row.user_id]), { namespace: row.namespace, userId: row.user_id });
    return [...found.values()];
  }

  /** The delivery's `unsubscribed` event, for reports and the execution's status. */
  async recordUnsubscribed(executionId: string, position: number, occurredAt: string, userAgent: string | null): Promise<void> {
    await this.db
      .insertInto('delivery_events')
      .values({ execution_id: executionId, position, type: 'unsubscribed', link_index: null, occurred_at: occurredAt, user_agent: userAgent })
      .execute();
  }
}
