import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { profileHandlers } from './profiles.handlers';
import * as routes from './profiles.routes';
import { profileImportHandlers } from './profile-import.handlers';
import { importProfiles } from './profile-import.routes';
import { ProfileImportLineSchema } from '../../schemas/profile-upsert';
import { profileErasureHandlers } from './profile-erasure.handlers';
import { eraseProfile, exportProfile } from './profile-erasure.routes';

export function profilesRouter(deps: ServiceDependencies) {
  const handlers = profileHandlers(deps);
  const router = createRouter()
    .openapi(routes.putProfile, handlers.put)
    .openapi(routes.getProfile, handlers.get)
    .openapi(routes.putPushToken, handlers.putPushToken);
  // The import's lines are a string body in the document; the line schema is listed for reference.
  router.openAPIRegistry.register('ProfileImportLine', ProfileImportLineSchema);
  const erasure = profileErasureHandlers(deps);
  return router
    .openapi(importProfiles, profileImportHandlers(deps).importNdjson)
    .openapi(eraseProfile, erasure.erase)
    .openapi(exportProfile, erasure.exportAll);
}
