import type { RouteHandler } from '@hono/zod-openapi';
import { listAuditLog } from '../../../services/audit-log';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import type * as routes from './audit-log.routes';

export function auditLogHandlers(deps: ServiceDependencies) {
  const list: RouteHandler<typeof routes.listAuditLog> = async (c) => c.json(await listAuditLog(deps, c.req.valid('query')), 200);
  return { list };
}
