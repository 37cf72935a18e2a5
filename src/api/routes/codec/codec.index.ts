import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { codecHandlers } from './codec.handlers';
import * as routes from './codec.routes';

/**
 * The Temporal remote codec protocol at /v1/codec/{encode,decode}. Register `codecCors` before
 * authentication so the UI's preflight is answered without a key.
 */
export function codecRouter(deps: ServiceDependencies) {
  const handlers = codecHandlers(deps);
  return createRouter().openapi(routes.decodePayloads, handlers.decode).openapi(routes.encodePayloads, handlers.encode);
}

export { CODEC_PATH, codecCors } from '../../middlewares/codec-cors';
