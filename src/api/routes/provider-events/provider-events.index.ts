import { bodyLimit } from 'hono/body-limit';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import type { CallLimiter } from '../../middlewares/rate-limit';
import { Problem, problemResponse } from '../../problem';
import { providerEventHandlers, providerEventsRateLimit } from './provider-events.handlers';
import * as routes from './provider-events.routes';

/** Provider events are small (Resend's are a few KB; Twilio's a few hundred bytes). */
const MAX_PROVIDER_EVENT_BYTES = 256 * 1024;
const PATHS = ['/webhooks/resend', '/webhooks/twilio'];

/**
 * Provider events in, `/webhooks/resend` and `/webhooks/twilio`: public (outside /v1, no API
 * key), limited per client address and in size, and verified by the provider's signature.
 */
export function providerEventsRouter(deps: ServiceDependencies, calls: CallLimiter) {
  const handlers = providerEventHandlers(deps);
  const router = createRouter();
  const limit = bodyLimit({
    maxSize: MAX_PROVIDER_EVENT_BYTES,
    onError: (c) =>
      problemResponse(
        c,
        new Problem(413, 'payload-too-large', 'Request body too large', `Provider events may be at most ${MAX_PROVIDER_EVENT_BYTES} bytes.`, undefined, {
          connection: 'close',
        }),
      ),
  });
  // On these paths only: other /webhooks/* routes (Twilio's inbound messages) bring their own.
  for (const path of PATHS) {
    router.use(path, providerEventsRateLimit(deps.config.providerEvents.perSecond, calls));
    router.use(path, limit);
  }
  return router.openapi(routes.resendEvents, handlers.resend).openapi(routes.twilioStatus, handlers.twilioStatus);
}
