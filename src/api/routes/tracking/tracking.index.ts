import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import type { CallLimiter } from '../../middlewares/rate-limit';
import { trackingHandlers, trackingRateLimit } from './tracking.handlers';
import * as routes from './tracking.routes';

/**
 * The public engagement endpoints, `/t/o/{token}` and `/t/c/{token}`: no API key (they are
 * outside /v1), a rate limit per client address, and HMAC-verified tokens.
 */
export function trackingRouter(deps: ServiceDependencies, calls: CallLimiter) {
  const handlers = trackingHandlers(deps);
  const router = createRouter();
  router.use('/t/*', trackingRateLimit(deps.config.tracking.perSecond, calls));
  return router.openapi(routes.trackOpen, handlers.open).openapi(routes.trackClick, handlers.click);
}
