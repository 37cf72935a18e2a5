import type { RouteHandler } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { Webhook } from 'svix';
// The SDK's signature check alone, without loading its REST client.
import { validateRequest } from 'twilio/lib/webhooks/webhooks.js';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { applyProviderEvent } from '../../../services/provider-events';
import { clientAddressKey, type CallLimiter } from '../../middlewares/rate-limit';
import { Problem, problemResponse } from '../../problem';
import { resendEvent, twilioEvent } from './provider-event-payloads';
import type * as routes from './provider-events.routes';

const unsigned = (provider: string) =>
  new Problem(401, 'invalid-signature', 'Unauthorized', `The request does not carry a valid ${provider} signature; nothing was changed.`);

/**
 * HERALD_PROVIDER_EVENTS_RATE_LIMIT requests a second per client address (IPv6: per /64), under
 * their own key (`provider-events:<address>`) in the API's call limiter. Generous by default:
 * providers send bursts from few addresses, and a 429 only delays an event (they retry).
 */
export function providerEventsRateLimit(perSecond: number, calls: CallLimiter): MiddlewareHandler {
  return async (c, next) => {
    const { allowed, headers, retryAfterSeconds } = await calls.take(`provider-events:${clientAddressKey(c)}`, perSecond);
    if (!allowed) {
      return problemResponse(
        c,
        new Problem(
          429,
          'rate-limited',
          'Too many requests',
          `This address may make ${perSecond} provider event requests per second; retry after ${retryAfterSeconds} s.`,
          undefined,
          { ...headers, 'retry-after': String(retryAfterSeconds) },
        ),
      );
    }
    await next();
  };
}

/** A signed body that is not JSON is acknowledged and ignored (`resendEvent` finds no event in it). */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function providerEventHandlers(deps: ServiceDependencies) {
  const { resendWebhookSecret } = deps.config.providerEvents;
  // Without a secret nothing can be verified, so every call is refused.
  const resendVerifier = resendWebhookSecret ? new Webhook(resendWebhookSecret) : undefined;

  const resend: RouteHandler<typeof routes.resendEvents> = async (c) => {
    // The raw body, as signed: never a re-serialised parse.
    const raw = await c.req.text();
    const headers = c.req.valid('header');
    const svixId = headers['svix-id'];
    if (!resendVerifier || !svixId || !headers['svix-timestamp'] || !headers['svix-signature']) throw unsigned('Resend (Svix)');
    try {
      // Checks the HMAC over id, timestamp and body, and that the timestamp is within 5 minutes.
      resendVerifier.verify(raw, { 'svix-id': svixId, 'svix-timestamp': headers['svix-timestamp'], 'svix-signature': headers['svix-signature'] });
    } catch {
      throw unsigned('Resend (Svix)');
    }
    // Parsed only once verified, from the very text that was.
    const event = resendEvent(parseJson(raw), svixId);
    return c.json({ outcome: event ? await applyProviderEvent(deps.db, event) : ('ignored' as const) }, 200);
  };

  const twilioStatus: RouteHandler<typeof routes.twilioStatus> = async (c) => {
    const authToken = deps.config.sms.authToken;
    const signature = c.req.valid('header')['x-twilio-signature'];
    const raw = await c.req.text();
    if (!authToken || !signature) throw unsigned('Twilio');
    const params = Object.fromEntries(new URLSearchParams(raw));
    // Twilio signs the URL it called: HERALD_PUBLIC_URL, the path and the query, never the Host header.
    const url = `${deps.config.publicUrl}${c.req.path}${new URL(c.req.url).search}`;
    if (!validateRequest(authToken, signature, url, params)) throw unsigned('Twilio');
    const event = twilioEvent(params);
    return c.json({ outcome: event ? await applyProviderEvent(deps.db, event) : ('ignored' as const) }, 200);
  };

  return { resend, twilioStatus };
}
