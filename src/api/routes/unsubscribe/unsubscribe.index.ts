import { bodyLimit } from 'hono/body-limit';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import type { CallLimiter } from '../../middlewares/rate-limit';
import { Problem, problemResponse } from '../../problem';
import { trackingRateLimit } from '../tracking/tracking.handlers';
import { unsubscribeHandlers } from './unsubscribe.handlers';
import * as routes from './unsubscribe.routes';

/** RFC 8058's body is 26 bytes; a form post of the page a little more. */
const MAX_UNSUBSCRIBE_BODY_BYTES = 16 * 1024;

/**
 * The public one-click unsubscribe endpoints, `GET` and `POST /u/{token}`: no API key (they are
 * outside /v1), the tracking endpoints' rate limit per client address, HMAC-verified tokens.
 */
export function unsubscribeRouter(deps: ServiceDependencies, calls: CallLimiter) {
  const handlers = unsubscribeHandlers(deps);
  const router = createRouter();
  router.use('/u/*', trackingRateLimit(deps.config.tracking.perSecond, calls));
  router.use(
    '/u/*',
    bodyLimit({
      maxSize: MAX_UNSUBSCRIBE_BODY_BYTES,
      onError: (c) =>
        problemResponse(
          c,
          new Problem(413, 'payload-too-large', 'Request body too large', `Bodies may be at most ${MAX_UNSUBSCRIBE_BODY_BYTES} bytes.`, undefined, {
            connection: 'close',
          }),
        ),
    }),
  );
  return router.openapi(routes.unsubscribePage, handlers.page).openapi(routes.unsubscribeOneClick, handlers.oneClick);
}
