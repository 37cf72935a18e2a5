import { UNTHROTTLED_BATCH_SIZE } from '../../domain/audience-execution';
import type { ChannelBlocks } from '../channel-blocks';
import type { NewInboxMessage } from '../../repositories/inbox';
import { inboxMessageOf } from './in-app-message';

/**
 * An audience run's in-app messages a block at a time: one insert stores the block in the
 * recipients' inboxes (on PostgreSQL with its NOTIFYs, in the same statement) and one update marks
 * it sent, instead of three round trips per message. Idempotent as the one send is: a retried
 * block finds the rows it stored. A message the one send would fail is failed alike.
 */
export const inAppBlocks: ChannelBlocks = {
  // An unthrottled audience batch is one block.
  size: UNTHROTTLED_BATCH_SIZE,
  async send({ executionId, campaignId, messages }, { inbox, markSentMany, markFailed }) {
    const storable: NewInboxMessage[] = [];
    let failed = 0;
    for (const { position, userId, address, subject, html, text } of messages) {
      const stored = inboxMessageOf({ executionId, campaignId, position, userId, to: address, content: { subject, html, text } });
      if ('message' in stored) {
        storable.push(stored.message);
        continue;
      }
      await markFailed(position, 'rejected' in stored ? `provider-rejected: ${stored.rejected}` : stored.failure);
      failed++;
    }
    const sent = await inbox.storeMany(storable);
    await markSentMany(sent);
    return { sent: sent.length, failed, single: [] };
  },
};
