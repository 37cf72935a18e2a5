import type { ConsentValue } from '../domain/consent';
import { AuditLogRepository } from '../repositories/audit-log';
import { ConsentChangeRepository } from '../repositories/consent-changes';
import { FeedbackEventRepository } from '../repositories/feedback-events';
import type { ServiceDependencies } from './service-dependencies';

/** The audit log's actor for consent changes the public makes (no API key is involved). */
export const UNSUBSCRIBE_ACTOR = 'public:unsubscribe';
export const SMS_KEYWORD_ACTOR = 'public:twilio-inbound';

export type UnsubscribeOutcome = 'unsubscribed' | 'unknown-delivery';

/**
 * A one-click unsubscribe: the consent of the delivery's profile on the delivery's channel
 * becomes `out` at once, and, when that changed anything, the delivery gets an `unsubscribed`
 * event, the customer's webhooks a feedback event and the audit log an entry, all in one
 * transaction. A repeat (or a profile that was deleted since) changes nothing and still answers
 * `unsubscribed`: the person is not sent marketing on that channel either way.
 */
export async function unsubscribeDelivery(
  deps: Pick<ServiceDependencies, 'db'>,
  delivery: { executionId: string; position: number; userAgent: string | null },
): Promise<UnsubscribeOutcome> {
  return deps.db.transaction().execute(async (trx) => {
    const consents = new ConsentChangeRepository(trx);
    const recipient = await consents.recipientOf(delivery.executionId, delivery.position);
    if (!recipient) return 'unknown-delivery';
    const changed = await consents.setConsent(recipient, recipient.channel, 'out');
    if (changed) {
      const occurredAt = new Date().toISOString();
      await consents.recordUnsubscribed(delivery.executionId, delivery.position, occurredAt, delivery.userAgent);
      await new FeedbackEventRepository(trx).append(
        [{ type: 'unsubscribed', executionId: delivery.executionId, position: delivery.position, occurredAt }],
        trx,
      );
      const auditLog = new AuditLogRepository(trx);
      await auditLog.record({
        actorKeyId: UNSUBSCRIBE_ACTOR,
        action: 'profile.updated',
        resourceType: 'profile',
        resourceId: await auditLog.profileResourceId(recipient.namespace, recipient.userId),
        after: { consents: { [recipient.channel]: 'out' }, via: 'one-click unsubscribe', executionId: delivery.executionId },
      });
    }
    return 'unsubscribed';
  });
}

/** Whether a delivery exists for an unsubscribe link (the confirmation page is shown only for one). */
export async function unsubscribableDelivery(deps: Pick<ServiceDependencies, 'db'>, executionId: string, position: number): Promise<boolean> {
  return (await new ConsentChangeRepository(deps.db).recipientOf(executionId, position)) !== undefined;
}

/**
 * An inbound SMS keyword (STOP, START…) from a phone number: sets the SMS consent (or, for a WhatsApp
 * message through Twilio, the WhatsApp consent) of every profile
 * of that number, with an audit entry for each one it changed. Returns how many changed.
 */
export async function applySmsKeyword(
  deps: Pick<ServiceDependencies, 'db'>,
  phone: string,
  consent: ConsentValue,
  messageSid: string | undefined,
  channel: 'sms' | 'whatsapp' = 'sms',
): Promise<number> {
  return deps.db.transaction().execute(async (trx) => {
    const consents = new ConsentChangeRepository(trx);
    const auditLog = new AuditLogRepository(trx);
    let changed = 0;
    for (const profile of await consents.profilesWithPhone(phone, channel)) {
      if (!(await consents.setConsent(profile, channel, consent))) continue;
      changed++;
      await auditLog.record({
        actorKeyId: SMS_KEYWORD_ACTOR,
        action: 'profile.updated',
        resourceType: 'profile',
        resourceId: await auditLog.profileResourceId(profile.namespace, profile.userId),
        after: {
          consents: { [channel]: consent },
          via: `inbound ${channel === 'sms' ? 'SMS' : 'WhatsApp'} opt-${consent === 'out' ? 'out' : 'in'} keyword`,
          ...(messageSid && { messageSid }),
        },
      });
    }
    return changed;
  });
}
