import type { RouteHandler } from '@hono/zod-openapi';
import { storedUserAgent, TrackingTokens } from '../../../domain/tracking';
import { unsubscribableDelivery, unsubscribeDelivery } from '../../../services/public-consent';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { Problem } from '../../problem';
import { confirmationPage, PAGE_HEADERS, unsubscribedPage } from './unsubscribe-page';
import type * as routes from './unsubscribe.routes';

const unknownToken = () => new Problem(404, 'not-found', 'Not found', 'This unsubscribe link does not exist.', undefined, { 'cache-control': 'no-store' });

export function unsubscribeHandlers(deps: ServiceDependencies) {
  const { secrets } = deps.config.tracking;
  // Without a key this deployment signed no link, so every token is unknown.
  const tokens = secrets.length > 0 ? new TrackingTokens(secrets) : undefined;
  /** The delivery a genuine unsubscribe token names; a tracking token of another kind is no unsubscribe link. */
  const verify = (token: string) => {
    const target = tokens?.verify(token);
    return target?.kind === 'unsubscribe' ? target : undefined;
  };

  const page: RouteHandler<typeof routes.unsubscribePage> = async (c) => {
    const target = verify(c.req.valid('param').token);
    if (!target || !(await unsubscribableDelivery(deps, target.executionId, target.position))) throw unknownToken();
    return c.body(confirmationPage(), 200, PAGE_HEADERS);
  };

  const oneClick: RouteHandler<typeof routes.unsubscribeOneClick> = async (c) => {
    const target = verify(c.req.valid('param').token);
    if (!target) throw unknownToken();
    const outcome = await unsubscribeDelivery(deps, {
      executionId: target.executionId,
      position: target.position,
      userAgent: storedUserAgent(c.req.header('user-agent')),
    });
    if (outcome === 'unknown-delivery') throw unknownToken();
    return c.body(unsubscribedPage(), 200, PAGE_HEADERS);
  };

  return { page, oneClick };
}
