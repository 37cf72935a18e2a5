import type { BatchMessage } from '../repositories/audience-runs';
import type { InboxRepository } from '../repositories/inbox';

/** One block of an audience run's ready messages (activities/audience-run.ts), read once with their addresses. */
export interface MessageBlock {
  executionId: string;
  campaignId: string;
  /** The block's number: its positions are [block × size, (block + 1) × size), so a retry rebuilds the same block. */
  block: number;
  messages: BatchMessage[];
}

/** What became of a block: how many were sent and failed for good, and the positions to send one by one instead. */
export interface BlockOutcome {
  sent: number;
  failed: number;
  single: number[];
}

/** What the audience run hands a channel's block sender: its ways out, and how outcomes are recorded. */
export interface BlockContext {
  /** The block through the campaign's email provider's batch endpoint, behind the failover plan (the activity's: it holds the senders). */
  emailBatch(block: MessageBlock): Promise<BlockOutcome>;
  /** In-app: the inbox a block is stored in. */
  inbox: Pick<InboxRepository, 'storeMany'>;
  /** Records messages sent, in one transaction. */
  markSentMany(sent: { position: number; messageId: string }[]): Promise<void>;
  /** Records one message failed with the reason as given. */
  markFailed(position: number, reason: string): Promise<void>;
}

/**
 * How an audience run sends a channel's messages in blocks of `size` positions instead of one by
 * one: each channel that can gives its own `send` in the registry (src/channels/registry.ts).
 */
export interface ChannelBlocks {
  size: number;
  send(block: MessageBlock, context: BlockContext): Promise<BlockOutcome>;
}
