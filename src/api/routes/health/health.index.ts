import { createRoute, z } from '@hono/zod-openapi';
import { sql } from 'kysely';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { Problem, problemContent } from '../../problem';

export const health = createRoute({
  method: 'get',
  path: '/health',
  tags: ['Service'],
  summary: 'Readiness: Temporal and the database are reachable',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } },
    503: problemContent('Temporal or the database is unreachable'),
  },
});

const withTimeout = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);

export function healthRouter(deps: ServiceDependencies) {
  return createRouter().openapi(health, async (c) => {
    const failures: { field: string; message: string }[] = [];
    await withTimeout(sql`select 1`.execute(deps.db), 2000).catch((error: Error) => failures.push({ field: 'database', message: error.message }));
    await withTimeout(deps.temporal.workflowService.getSystemInfo({}), 2000).catch((error: Error) => failures.push({ field: 'temporal', message: error.message }));
    if (failures.length > 0) throw new Problem(503, 'unavailable', 'Not ready', 'A dependency is unreachable; see errors.', failures);
    return c.json({ status: 'ok' as const }, 200);
  });
}
