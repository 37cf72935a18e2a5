import { bodyLimit } from 'hono/body-limit';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import type { CallLimiter } from '../../middlewares/rate-limit';
import { Problem, problemResponse } from '../../problem';
import { trackingRateLimit } from '../tracking/tracking.handlers';
import { preferencePageHandlers } from './preference-page.handlers';
import * as routes from './preference-page.routes';

/** A form of a few hundred toggles fits many times over. */
const MAX_FORM_BYTES = 64 * 1024;

/**
 * The hosted preference page, `GET` and `POST /preferences/{token}`: no API key (outside /v1),
 * the tracking endpoints' rate limit per client address (as /u/{token}), signed tokens.
 */
export function preferencePageRouter(deps: ServiceDependencies, calls: CallLimiter) {
  const handlers = preferencePageHandlers(deps);
  const router = createRouter();
  router.use('/preferences/*', trackingRateLimit(deps.config.tracking.perSecond, calls));
  router.use(
    '/preferences/*',
    bodyLimit({
      maxSize: MAX_FORM_BYTES,
      onError: (c) =>
        problemResponse(
          c,
          new Problem(413, 'payload-too-large', 'Request body too large', `Bodies may be at most ${MAX_FORM_BYTES} bytes.`, undefined, { connection: 'close' }),
        ),
    }),
  );
  return router.openapi(routes.preferencePage, handlers.page).openapi(routes.savePreferencePage, handlers.save);
}
