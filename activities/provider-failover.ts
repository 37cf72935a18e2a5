import type { Attempt } from '../src/channels/channel-dispatch';
import { ProviderUnavailableError } from '../src/channels/provider-errors';
import type { ChannelConfiguration } from '../src/domain/channel-configuration';
import type { ChannelConfigurationRepository } from '../src/repositories/channel-configurations';
import type { FeedbackEventRepository } from '../src/repositories/feedback-events';
import type { ProviderCircuitRepository } from '../src/repositories/provider-circuits';
import type { SentVia } from '../src/repositories/deliveries';

/**
 * The longest Retry-After (a 429's, or a 503's) waited out on the same provider; a longer one, or a
 * retryable failure without one, fails over to the next configuration at once.
 */
export const RETRY_AFTER_BUDGET_MS = 10_000;

export interface FailoverDependencies {
  configurations: Pick<ChannelConfigurationRepository, 'chainForCampaign'>;
  circuits: ProviderCircuitRepository;
  /** Where circuit changes go for the feedback webhooks (provider.circuit-opened, provider.circuit-closed). */
  feedback: Pick<FeedbackEventRepository, 'append'>;
  /** The breaker's clock; tests move it instead of waiting. */
  now?: () => Date;
}

/** One try through one configuration: the dispatch with that configuration, recording what sent it. */
export type TryConfiguration = (
  configuration: ChannelConfiguration | null | undefined,
  via: SentVia | undefined,
) => Promise<{ attempt: Attempt; calledProvider: boolean }>;

/**
 * Sends one message through the campaign's channel configuration, or its fallbacks in order when
 * it cannot take the message now (docs/failover.md, ADR 0009):
 *
 * - a retryable failure (ProviderUnavailableError: a 5xx, a 429, a timeout, a refused
 *   connection) counts against that configuration's circuit and moves to the next one;
 * - a permanent refusal does not fail over: the address or the sender is wrong, not the provider;
 * - an open circuit is skipped without calling its provider; once its open time is over, one send
 *   is its trial, and that send's outcome closes or reopens it;
 * - when every configuration failed or is open, the message is unavailable, and the workflow's
 *   retry policy tries the whole chain again later (after the shortest open time left, when that
 *   is what stopped it).
 *
 * Each configuration is called at most once per attempt, so a message goes to each provider at
 * most once per attempt; a provider that took the message but whose answer was lost (a timeout)
 * is the one case where a fallback sends a second copy, as docs/failover.md says.
 */
export function providerFailover(deps: FailoverDependencies) {
  const now = deps.now ?? (() => new Date());

  async function circuitEvent(
    type: 'provider.circuit-opened' | 'provider.circuit-closed',
    configuration: ChannelConfiguration,
    executionId: string,
    position: number,
  ) {
    await deps.feedback.append([
      { type, executionId, position, occurredAt: now().toISOString(), detail: { configurationId: configuration.id, provider: configuration.provider } },
    ]);
  }

  /**
   * How an audience run should send a campaign's email block: through the primary's batch endpoint
   * while its circuit is closed; message by message (each through the failover loop) when it is
   * not, or when the batch failed and there is a fallback to go to.
   */
  async function batchPlan(campaignId: string): Promise<{ primaryClosed: boolean; hasFallback: boolean }> {
    const found = await deps.configurations.chainForCampaign(campaignId);
    if (found.kind !== 'found') return { primaryClosed: true, hasFallback: false };
    const permit = await deps.circuits.peek(found.chain[0]!.id, now());
    return { primaryClosed: permit === 'closed', hasFallback: found.chain.length > 1 };
  }

  async function sendWithFailover(
    message: { campaignId: string; executionId: string; position: number; channel: string },
    tryConfiguration: TryConfiguration,
  ): Promise<Attempt> {
    const { campaignId, executionId, position } = message;
    const found = await deps.configurations.chainForCampaign(campaignId);
    // The channel's default has no configuration, so no fallback and no breaker; a missing one is
    // refused by the channel's senderFor; a send step on another channel sends with that channel's default.
    if (found.kind === 'missing') return (await tryConfiguration(undefined, undefined)).attempt;
    if (found.kind === 'none' || found.chain[0]!.channel !== message.channel) return (await tryConfiguration(null, undefined)).attempt;

    let unavailable: ProviderUnavailableError | undefined;
    let soonestReopenMs: number | undefined;
    for (const [index, configuration] of found.chain.entries()) {
      const permit = await deps.circuits.permit(configuration.id, now());
      if (permit.kind === 'open') {
        if (permit.openUntil !== null) {
          const left = Math.max(0, Date.parse(permit.openUntil) - now().getTime());
          soonestReopenMs = soonestReopenMs === undefined ? left : Math.min(soonestReopenMs, left);
        }
        continue;
      }
      const via: SentVia = { configurationId: configuration.id, provider: configuration.provider, failedOver: index > 0 };
      const { attempt, calledProvider } = await tryConfiguration(configuration, via);
      if (attempt.kind === 'unavailable') {
        // A rate limit that asks for a short wait is waited out on this provider (the workflow honours
        // Retry-After), not failed over: the provider is up, and the next attempt starts here again.
        const retryAfter = attempt.error.retryAfterMs;
        if (retryAfter !== undefined && retryAfter <= RETRY_AFTER_BUDGET_MS) return attempt;
        if (await deps.circuits.recordFailure(configuration.id, configuration.circuitBreaker, now())) {
          await circuitEvent('provider.circuit-opened', configuration, executionId, position);
        }
        unavailable = attempt.error;
        continue;
      }
      // Sent, or refused for good: the provider answered, so it is up. A message refused before any
      // provider was called (a malformed address) says nothing about the provider.
      if (calledProvider && (await deps.circuits.recordSuccess(configuration.id, permit, now()))) {
        await circuitEvent('provider.circuit-closed', configuration, executionId, position);
      }
      return attempt;
    }
    if (unavailable) return { kind: 'unavailable', error: unavailable };
    return {
      kind: 'unavailable',
      error: new ProviderUnavailableError(
        `every channel configuration of campaign ${campaignId} has an open circuit; the message is retried when one lets a trial through`,
        soonestReopenMs,
      ),
    };
  }

  return { sendWithFailover, batchPlan };
}

export type SendWithFailover = ReturnType<typeof providerFailover>['sendWithFailover'];
export type BatchPlan = ReturnType<typeof providerFailover>['batchPlan'];
