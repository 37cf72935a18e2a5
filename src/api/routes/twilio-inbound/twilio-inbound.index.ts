import { bodyLimit } from 'hono/body-limit';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import type { CallLimiter } from '../../middlewares/rate-limit';
import { Problem, problemResponse } from '../../problem';
import { providerEventsRateLimit } from '../provider-events/provider-events.handlers';
import { twilioInboundHandlers } from './twilio-inbound.handlers';
import { TWILIO_INBOUND_PATH, twilioInbound } from './twilio-inbound.routes';

/** An inbound SMS is at most 1600 characters of body plus a few dozen short parameters. */
const MAX_INBOUND_BODY_BYTES = 64 * 1024;

/**
 * Twilio's inbound SMS webhook, `POST /webhooks/twilio/inbound`: STOP and START keywords set
 * the SMS consent of the sender's profiles. No API key (outside /v1); Twilio's signature instead.
 */
export function twilioInboundRouter(deps: ServiceDependencies, calls: CallLimiter) {
  const router = createRouter();
  // Twilio's status callbacks (/webhooks/twilio) come from the same addresses: one budget for both.
  router.use(TWILIO_INBOUND_PATH, providerEventsRateLimit(deps.config.providerEvents.perSecond, calls));
  router.use(
    TWILIO_INBOUND_PATH,
    bodyLimit({
      maxSize: MAX_INBOUND_BODY_BYTES,
      onError: (c) =>
        problemResponse(
          c,
          new Problem(413, 'payload-too-large', 'Request body too large', `Bodies may be at most ${MAX_INBOUND_BODY_BYTES} bytes.`, undefined, {
            connection: 'close',
          }),
        ),
    }),
  );
  return router.openapi(twilioInbound, twilioInboundHandlers(deps).inbound);
}
