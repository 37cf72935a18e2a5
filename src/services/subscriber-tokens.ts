import type { HeraldConfig } from '../config/env';
import type { Principal } from '../domain/api-key';
import { DomainError, forbidden } from '../domain/errors';
import { SUBSCRIBER_TOKEN_TTL_SECONDS, SubscriberTokens, type Subscriber } from '../domain/subscriber-token';
import type { ServiceDependencies } from './service-dependencies';

/** The signer of subscriber and preference page tokens; undefined without HERALD_TRACKING_SECRET. */
export function subscriberTokensOf(config: Pick<HeraldConfig, 'tracking'>): SubscriberTokens | undefined {
  return config.tracking.secrets.length > 0 ? new SubscriberTokens(config.tracking.secrets) : undefined;
}

export interface SubscriberTokenRequest extends Subscriber {
  ttlSeconds?: number;
}

export interface IssuedSubscriberToken {
  token: string;
  expiresAt: string;
}

/**
 * `POST /v1/inbox/tokens`: a short-lived token for one person's inbox calls. A full-access key
 * may ask for anyone; a trigger key limited to campaigns only for a person in the namespace of
 * one of them (it could reach them with a trigger anyway), an unlimited trigger key for anyone.
 * Refused (422) when HERALD_TRACKING_SECRET, which the signing key is derived from, is not set.
 */
export async function issueSubscriberToken(
  deps: Pick<ServiceDependencies, 'config' | 'campaigns'>,
  principal: Principal,
  request: SubscriberTokenRequest,
  nowMs = Date.now(),
): Promise<IssuedSubscriberToken> {
  if (principal.scope === 'trigger' && principal.campaignIds !== undefined) {
    const namespaces = new Set<string>();
    for (const campaignId of principal.campaignIds) {
      const campaign = await deps.campaigns.get(campaignId);
      if (campaign) namespaces.add(campaign.audience.namespace);
    }
    if (!namespaces.has(request.namespace)) {
      throw forbidden(`This trigger key may ask for tokens only in the namespaces of its campaigns (${[...namespaces].sort().join(', ') || 'none'}).`);
    }
  }
  const tokens = subscriberTokensOf(deps.config);
  if (!tokens) {
    throw new DomainError(
      'unprocessable',
      'subscriber-tokens-unavailable',
      'Subscriber tokens are not available',
      'HERALD_TRACKING_SECRET is not set: subscriber tokens are signed with a key derived from it. Set it (at least 32 characters, e.g. `openssl rand -base64 32`) to the same value on every API.',
    );
  }
  const ttlSeconds = request.ttlSeconds ?? SUBSCRIBER_TOKEN_TTL_SECONDS.default;
  // Whole seconds, as the token's `exp` claim holds it.
  const expiresAtMs = (Math.floor(nowMs / 1000) + ttlSeconds) * 1000;
  const token = await tokens.inboxToken({ namespace: request.namespace, userId: request.userId }, nowMs, expiresAtMs);
  return { token, expiresAt: new Date(expiresAtMs).toISOString() };
}
