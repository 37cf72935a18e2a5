import { createRoute, z, type RouteHandler } from '@hono/zod-openapi';
import { sql } from 'kysely';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { Problem, problemContent } from '../../problem';

const tags = ['Service'];
const ok = { description: 'OK', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }).openapi('HealthStatus') } } };
const notReady = problemContent('Not ready: the database or Temporal is unreachable. The answer says no more; the reason is in the API log.');

export const live = createRoute({
  method: 'get',
  path: '/health/live',
  tags,
  summary: 'Liveness: the process is up (checks nothing else)',
  responses: { 200: ok },
});

const readiness = (path: string, summary: string) => createRoute({ method: 'get', path, tags, summary, responses: { 200: ok, 503: notReady } });

export const ready = readiness('/health/ready', 'Readiness: the database and Temporal are reachable');
export const health = readiness('/health', 'Readiness, as /health/ready');

const CHECK_TIMEOUT_MS = 2000;

const withTimeout = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);

/**
 * Health for orchestrators and anonymous callers: the answer carries only the status, never an
 * error message, a hostname or a version. Why a check failed goes to the API log.
 */
export function healthRouter(deps: ServiceDependencies) {
  const noStore = { 'cache-control': 'no-store' };
  const checks: Record<string, () => Promise<unknown>> = {
    database: () => sql`select 1`.execute(deps.db),
    // The namespace, not only the frontend: a server that is up without it (a new cluster, a
    // dev server still registering it, a typo in TEMPORAL_NAMESPACE) starts no workflow.
    // Bounded by an abort signal, not only raced: the client's retries would otherwise go on
    // after the answer, and outlive a connection that is closed in the meantime.
    temporal: () =>
      deps.temporal.withAbortSignal(AbortSignal.timeout(CHECK_TIMEOUT_MS), () =>
        deps.temporal.workflowService.describeNamespace({ namespace: deps.temporal.options.namespace }),
      ),
  };
  const checkReady: RouteHandler<typeof ready> = async (c) => {
    const results = await Promise.all(
      Object.entries(checks).map(([name, check]) =>
        withTimeout(check(), CHECK_TIMEOUT_MS).then(
          () => true,
          (error: Error) => {
            console.warn(`[api] readiness: ${name} is unreachable: ${error.message}`);
            return false;
          },
        ),
      ),
    );
    if (results.includes(false)) throw new Problem(503, 'not-ready', 'Not ready', undefined, undefined, noStore);
    return c.json({ status: 'ok' as const }, 200, noStore);
  };
  return createRouter()
    .openapi(live, (c) => c.json({ status: 'ok' as const }, 200, noStore))
    .openapi(ready, checkReady)
    .openapi(health, checkReady);
}
