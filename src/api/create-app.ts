import { HTTPException } from 'hono/http-exception';
import { bodyLimit } from 'hono/body-limit';
import type { ServiceDependencies } from '../services/service-dependencies';
import { createRouter } from './create-router';
import { declaredMethods } from './method-not-allowed';
import { isTransientDependencyError } from './transient-errors';
import { apiKeyAuth } from './middlewares/api-key-auth';
import { rateLimit } from './middlewares/rate-limit';
import { DomainError } from '../domain/errors';
import { domainErrorProblem } from './domain-error-problem';
import { Problem, problemResponse } from './problem';
import { campaignsRouter } from './routes/campaigns/campaigns.index';
import { docsRouter } from './routes/docs/docs.index';
import { executionsRouter } from './routes/executions/executions.index';
import { healthRouter } from './routes/health/health.index';
import { outboxRouter } from './routes/outbox/outbox.index';
import { profilesRouter } from './routes/profiles/profiles.index';

/** Big enough for 20 recipients and 200 KB of context; larger bodies are cut off while streaming. */
export const MAX_BODY_BYTES = 1024 * 1024;

export function createApp(deps: ServiceDependencies) {
  const app = createRouter();

  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      // The rest of the body is never read, so the socket cannot be reused: tell the client to close it.
      onError: (c) =>
        problemResponse(c, new Problem(413, 'payload-too-large', 'Request body too large', `Bodies may be at most ${MAX_BODY_BYTES} bytes.`, undefined, { connection: 'close' })),
    }),
  );
  if (deps.config.http.apiKeys.length > 0) app.use('/v1/*', apiKeyAuth(deps.config.http.apiKeys));
  app.use('/v1/*', rateLimit(deps.config.http.rateLimit));

  app.route('/', healthRouter(deps));
  app.route('/', campaignsRouter(deps));
  app.route('/', profilesRouter(deps));
  app.route('/', executionsRouter(deps));
  app.route('/', outboxRouter(deps));
  app.route('/', docsRouter());

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'One of the keys in HERALD_API_KEYS. Not required when Herald runs open on loopback.',
  });
  const documentConfig = {
    openapi: '3.1.0',
    info: {
      title: 'Herald API',
      version: '0.1.0',
      description: 'API-triggered campaigns on Temporal. Errors are application/problem+json (RFC 9457).',
    },
  };
  app.doc31('/openapi.json', documentConfig);

  let methodsFor: ((path: string) => string[] | undefined) | undefined;
  app.notFound((c) => {
    methodsFor ??= declaredMethods(app.getOpenAPI31Document(documentConfig));
    const allowed = methodsFor(c.req.path);
    if (allowed && !allowed.includes(c.req.method)) {
      return problemResponse(c, new Problem(405, 'method-not-allowed', 'Method not allowed', `${c.req.path} supports ${allowed.join(', ')}`, undefined, { allow: allowed.join(', ') }));
    }
    return problemResponse(c, new Problem(404, 'not-found', 'Not found', `No route for ${c.req.method} ${c.req.path}`));
  });
  app.onError((error, c) => {
    if (error instanceof Problem) return problemResponse(c, error);
    if (error instanceof DomainError) return problemResponse(c, domainErrorProblem(error));
    if (error instanceof HTTPException) {
      // Hono raises these for unparseable bodies and wrong content types, before zod sees them.
      const status = error.status;
      const type = status === 400 ? 'malformed-request' : status === 415 ? 'unsupported-media-type' : 'http-error';
      return problemResponse(c, new Problem(status, type, error.message || 'Bad request', error.message));
    }
    if (isTransientDependencyError(error)) {
      // The requestId is already claimed: a retry with the same body resumes where this call stopped.
      return problemResponse(c, new Problem(503, 'dependency-unavailable', 'Temporarily unavailable', 'Temporal or the database did not answer; retry with the same requestId.', undefined, { 'retry-after': '1' }));
    }
    console.error(`[api] ${c.req.method} ${c.req.path} failed:`, error);
    return problemResponse(c, new Problem(500, 'internal-error', 'Internal error', 'Herald could not complete the request; it has been logged.'));
  });
  return app;
}
