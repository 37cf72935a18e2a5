import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { auditLogHandlers } from './audit-log.handlers';
import * as routes from './audit-log.routes';

export function auditLogRouter(deps: ServiceDependencies) {
  return createRouter().openapi(routes.listAuditLog, auditLogHandlers(deps).list);
}
