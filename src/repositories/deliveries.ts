import type { ExpressionBuilder, Updateable } from 'kysely';
import { inTransaction } from '../db/in-transaction';
import type { HeraldDb } from '../db/database';
import type { Database, DeliveryTable } from '../db/schema';
import type { Channel } from '../domain/campaign';
import { failureDetail } from '../domain/feedback-webhook';
import { NOT_STARTED_REASON } from './executions';
import { FeedbackEventRepository, type NewFeedbackEvent } from './feedback-events';

/**
 * A delivery without an outcome yet: pending, or closed as not-started by the orphan sweep
 * before a retry of the call finally started its workflow.
 */
function isOpen(eb: ExpressionBuilder<Database, 'deliveries'>) {
  return eb.or([eb('status', '=', 'pending'), eb.and([eb('status', '=', 'failed'), eb('reason', '=', NOT_STARTED_REASON)])]);
}

/** What the preparation step decided for one recipient, by its position in the trigger call. */
export type PreparedDelivery = {
  position: number;
  profileCreated: boolean;
  address?: string;
  /** The content variant rendered: `default` or a translation's tag. */
  locale?: string;
} & (
  | { outcome: { status: 'failed' | 'excluded'; reason: string } }
  | {
      message: { subject?: string; html?: string; text?: string; tracked?: { opens: boolean; clicks: boolean; links: string[] } };
      deferred?: { notBefore: string; reason: string };
    }
);

/** `deliveries.tracking`: what a rendered message tracks, or null. */
function trackingLabel(tracked: { opens: boolean; clicks: boolean } | undefined): string | null {
  const parts = tracked ? [tracked.opens && 'opens', tracked.clicks && 'clicks'].filter(Boolean) : [];
  return parts.length > 0 ? parts.join(',') : null;
}

/** Everything the send activity needs for one recipient, read by reference. */
export interface MessageToSend {
  executionId: string;
  position: number;
  campaignId: string;
  userId: string;
  channel: Channel;
  status: 'pending' | 'sent' | 'failed' | 'excluded';
  messageId?: string;
  address?: string;
  /** The campaign step this is the message of; absent for a step-less campaign. */
  stepId?: string;
  /** Absent when no message was rendered (the recipient was excluded or failed) or retention removed it. */
  content?: { subject: string | null; html: string | null; text: string | null };
}

/**
 * Per-recipient delivery state and the rendered messages behind it. The trigger workflow passes
 * only (executionId, position); addresses and bodies stay in these rows.
 */
/** Which channel configuration sent a message, through which provider, and whether it was a fallback (docs/failover.md). */
export interface SentVia {
  configurationId: string;
  provider: string;
  failedOver: boolean;
}

export class DeliveryRepository {
  private readonly feedback: FeedbackEventRepository;

  constructor(private readonly db: HeraldDb) {
    this.feedback = new FeedbackEventRepository(db);
  }

  /**
   * Stores the preparation of every recipient at once: addresses, final outcomes of those
   * excluded or failed, and the rendered message of those ready to send. Safe to repeat: a
   * retried preparation writes the same rows again and never touches a recipient already sent.
   */
  async recordPreparation(executionId: string, channel: Channel, prepared: PreparedDelivery[]): Promise<void> {
    const now = new Date().toISOString();
    await this.db.transaction().execute(async (trx) => {
      // Failed and excluded outcomes this call closed, for the customer's feedback webhooks.
      const closed: NewFeedbackEvent[] = [];
      for (const p of prepared) {
        // A deferred message (quiet hours) stays pending with why and until when; sending clears the reason.
        const final =
          'outcome' in p
            ? { status: p.outcome.status, reason: p.outcome.reason }
            : p.deferred
              ? { reason: p.deferred.reason, not_before: p.deferred.notBefore }
              : {};
        const tracking = 'message' in p ? trackingLabel(p.message.tracked) : null;
        const updated = await trx
          .updateTable('deliveries')
          .set({ ...final, address: p.address ?? null, profile_created: p.profileCreated ? 1 : 0, locale: p.locale ?? null, tracking, updated_at: now })
          .where('execution_id', '=', executionId)
          .where('position', '=', p.position)
          .where(isOpen)
          .executeTakeFirst();
        if ('outcome' in p && Number(updated.numUpdatedRows) > 0) {
          // Decided before any provider call: consent, suppression, no profile or address.
          closed.push({ type: p.outcome.status, executionId, position: p.position, occurredAt: now, detail: failureDetail('recipient', p.outcome.reason) });
        }
        if (!('message' in p)) continue;
        const content = { subject: p.message.subject ?? null, html: p.message.html ?? null, text: p.message.text ?? null };
        await trx
          .insertInto('rendered_messages')
          .values({ execution_id: executionId, position: p.position, channel, ...content, created_at: now })
          .onConflict((oc) => oc.columns(['execution_id', 'position']).doUpdateSet(content))
          .execute();
        // The links the message's tracked URLs stand for, replaced whole with the message
        // (untracked messages cost no query here).
        if (!p.message.tracked) continue;
        await trx.deleteFrom('tracked_links').where('execution_id', '=', executionId).where('position', '=', p.position).execute();
        const links = p.message.tracked.links;
        if (links.length > 0) {
          await trx
            .insertInto('tracked_links')
            .values(links.map((url, linkIndex) => ({ execution_id: executionId, position: p.position, link_index: linkIndex, url })))
            .execute();
        }
      }
      await this.feedback.append(closed, trx);
    });
  }

  async messageToSend(executionId: string, position: number): Promise<MessageToSend | undefined> {
    const row = await this.db
      .selectFrom('deliveries as d')
      .innerJoin('executions as e', 'e.id', 'd.execution_id')
      .leftJoin('rendered_messages as m', (join) => join.onRef('m.execution_id', '=', 'd.execution_id').onRef('m.position', '=', 'd.position'))
      .select([
        'e.campaign_id',
        'd.user_id',
        'd.channel',
        'd.status',
        'd.reason',
        'd.message_id',
        'd.address',
        'd.step_id',
        'm.created_at as rendered_at',
        'm.subject',
        'm.html',
        'm.text',
      ])
      .where('d.execution_id', '=', executionId)
      .where('d.position', '=', position)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      executionId,
      position,
      campaignId: row.campaign_id,
      userId: row.user_id,
      channel: row.channel,
      status: row.status === 'failed' && row.reason === NOT_STARTED_REASON ? 'pending' : row.status,
      ...(row.message_id && { messageId: row.message_id }),
      ...(row.address && { address: row.address }),
      ...(row.step_id && { stepId: row.step_id }),
      ...(row.rendered_at && { content: { subject: row.subject, html: row.html, text: row.text } }),
    };
  }

  /** Records the provider's acceptance; a recipient already closed keeps its outcome. */
  async markSent(executionId: string, position: number, messageId: string, via?: SentVia): Promise<void> {
    const now = new Date().toISOString();
    await this.close(
      executionId,
      position,
      {
        status: 'sent',
        reason: null,
        message_id: messageId,
        updated_at: now,
        ...(via && { configuration_id: via.configurationId, provider: via.provider, failed_over: via.failedOver ? 1 : 0 }),
      },
      { type: 'sent', executionId, position, occurredAt: now },
    );
  }

  /** Records a permanent failure with its full reason, which stays in Herald's database only. */
  async markFailed(executionId: string, position: number, reason: string): Promise<void> {
    const now = new Date().toISOString();
    await this.close(
      executionId,
      position,
      { status: 'failed', reason, updated_at: now },
      { type: 'failed', executionId, position, occurredAt: now, detail: failureDetail('provider', reason) },
    );
  }

  /**
   * Closes an open delivery and records its feedback event in the same transaction. Without an
   * enabled webhook endpoint (a cached answer) it is the bare update, no transaction: sending
   * pays nothing for webhooks it does not have.
   */
  private async close(executionId: string, position: number, set: Updateable<DeliveryTable>, event: NewFeedbackEvent): Promise<void> {
    const update = (db: HeraldDb) =>
      db.updateTable('deliveries').set(set).where('execution_id', '=', executionId).where('position', '=', position).where(isOpen).executeTakeFirst();
    if (!(await this.feedback.active())) {
      await update(this.db);
      return;
    }
    await inTransaction(this.db, async (trx) => {
      const updated = await update(trx);
      if (Number(updated.numUpdatedRows) > 0) await this.feedback.append([event], trx);
    });
  }
}
