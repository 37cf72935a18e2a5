export interface ChatMessage {
  /**
   * Where the message goes: a Slack channel or user id for chat.postMessage (`''`: the
   * configuration's default destination). A webhook (Slack's, Teams', Discord's) names its own
   * channel, so it ignores this.
   */
  destination: string;
  /** The plain text: the message itself, or the fallback shown where blocks cannot be (notifications). */
  text: string;
  /** The provider's rich layout as rendered: Slack blocks, a Teams card's body, Discord embeds. */
  blocks?: unknown[];
  /**
   * Stable per execution, recipient and channel. No chat provider deduplicates sends, so only the
   * outbox does; see docs/chat.md for what Herald guarantees.
   */
  idempotencyKey: string;
  campaignId: string;
  executionId: string;
  userId: string;
}

export interface ChatProvider {
  readonly name: string;
  /** Resolves with the provider's message id (or Herald's, for a webhook that answers none); throws ProviderUnavailableError or ProviderRejectedError. */
  send(message: ChatMessage): Promise<{ messageId: string }>;
}
