import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { channelConfigurationHandlers } from './channel-configurations.handlers';
import * as routes from './channel-configurations.routes';

export function channelConfigurationsRouter(deps: ServiceDependencies) {
  const handlers = channelConfigurationHandlers(deps);
  return createRouter()
    .openapi(routes.createChannelConfiguration, handlers.create)
    .openapi(routes.listChannelConfigurations, handlers.list)
    .openapi(routes.getChannelConfiguration, handlers.get)
    .openapi(routes.patchChannelConfiguration, handlers.patch)
    .openapi(routes.deleteChannelConfiguration, handlers.remove);
}
