import { HTTPException } from 'hono/http-exception';
import { bodyLimit } from 'hono/body-limit';
import type { ServiceDependencies } from '../services/service-dependencies';
import { createRouter } from './create-router';
import type { Context } from 'hono';
import { declaredOperations, type DeclaredOperations } from './declared-operations';
import { isTransientDependencyError } from './transient-errors';
import { isUnstorableTextError } from '../db/dialect';
import { authenticate } from './middlewares/api-key-auth';
import { authorize } from './middlewares/authorize';
import { subscriberAccess } from './middlewares/subscriber-auth';
import { apiLimitersFor } from './middlewares/limiters-for-database';
import { rateLimit, type ApiLimiters } from './middlewares/rate-limit';
import { DomainError } from '../domain/errors';
import { domainErrorProblem } from './domain-error-problem';
import { Problem, problemResponse } from './problem';
import { apiKeysRouter } from './routes/api-keys/api-keys.index';
import { auditLogRouter } from './routes/audit-log/audit-log.index';
import { audiencesRouter } from './routes/audiences/audiences.index';
import { campaignsRouter } from './routes/campaigns/campaigns.index';
import { campaignToolsRouter } from './routes/campaign-tools/campaign-tools.index';
import { campaignVersionsRouter } from './routes/campaign-versions/campaign-versions.index';
import { channelConfigurationsRouter } from './routes/channel-configurations/channel-configurations.index';
import { cappingRulesRouter } from './routes/capping-rules/capping-rules.index';
import { CODEC_PATH, codecCors, codecRouter } from './routes/codec/codec.index';
import { docsRouter } from './routes/docs/docs.index';
import { inboxComponentRouter } from './routes/inbox-component/inbox-component.index';
import { eventsRouter } from './routes/events/events.index';
import { executionsRouter } from './routes/executions/executions.index';
import { audienceExecutionsRouter } from './routes/audience-executions/audience-executions.index';
import { topicExecutionsRouter } from './routes/topic-executions/topic-executions.index';
import { topicsRouter } from './routes/topics/topics.index';
import { healthRouter } from './routes/health/health.index';
import { categoriesRouter } from './routes/categories/categories.index';
import { preferencesRouter } from './routes/preferences/preferences.index';
import { inboxTokensRouter } from './routes/inbox-tokens/inbox-tokens.index';
import { inboxRouter } from './routes/inbox/inbox.index';
import { preferencePageRouter } from './routes/preference-page/preference-page.index';
import { outboxRouter } from './routes/outbox/outbox.index';
import { profilesRouter } from './routes/profiles/profiles.index';
import { trackingRouter } from './routes/tracking/tracking.index';
import { providerEventsRouter } from './routes/provider-events/provider-events.index';
import { suppressionsRouter } from './routes/suppressions/suppressions.index';
import { webhooksRouter } from './routes/webhooks/webhooks.index';
import { unsubscribeRouter } from './routes/unsubscribe/unsubscribe.index';
import { twilioInboundRouter } from './routes/twilio-inbound/twilio-inbound.index';
import { reportsRouter } from './routes/reports/reports.index';
import { reportPageRouter } from './routes/reports/report-page.index';
import { openApiDocumentConfig } from './openapi/document-config';
import { withCodeSamples } from './openapi/code-samples';

/** Big enough for 20 recipients and 200 KB of context; larger bodies are cut off while streaming. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Routes whose body is an NDJSON stream (bulk profiles, audience members): exempt from MAX_BODY_BYTES, bounded per line and in total instead. */
const NDJSON_STREAM_ROUTES = [/^\/v1\/profiles\/import$/, /^\/v1\/audiences\/[^/]+\/members$/, /^\/v1\/suppressions\/import$/];

/** Routes that take a JSON body, or the same as an NDJSON stream for more (topic subscribers): exempt only when the body is NDJSON. */
const JSON_OR_NDJSON_ROUTES = [/^\/v1\/topics\/[^/]+\/subscribers$/];

export function isNdjsonStreamRoute(method: string, path: string, contentType?: string): boolean {
  if (method === 'PUT')
    return contentType?.split(';')[0]?.trim().toLowerCase() === 'application/x-ndjson' && JSON_OR_NDJSON_ROUTES.some((route) => route.test(path));
  return (method === 'POST' || method === 'DELETE') && NDJSON_STREAM_ROUTES.some((route) => route.test(path));
}

/** `limiters` is a parameter so that tests can look into them; by default they follow the database (one place decides). */
export function createApp(deps: ServiceDependencies, limiters: ApiLimiters = apiLimitersFor(deps.config, deps.db)) {
  const app = createRouter();
  // Before everything else on /v1: the Temporal UI's preflights carry no credentials.
  app.use(`${CODEC_PATH}/*`, codecCors(deps.config.codec.corsOrigins));

  const jsonBodyLimit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    // The rest of the body is never read, so the socket cannot be reused: tell the client to close it.
    onError: (c) =>
      problemResponse(
        c,
        new Problem(413, 'payload-too-large', 'Request body too large', `Bodies may be at most ${MAX_BODY_BYTES} bytes.`, undefined, { connection: 'close' }),
      ),
  });
  // NDJSON streams are read line by line under their own limits (src/api/ndjson-lines.ts).
  app.use('/v1/*', (c, next) => (isNdjsonStreamRoute(c.req.method, c.req.path, c.req.header('content-type')) ? next() : jsonBodyLimit(c, next)));
  // The routes a person calls with a subscriber token (declared with allowSubscribers()) take it
  // instead of an API key: its own check, per-person limit and CORS; the key middlewares skip them.
  const subscribers = subscriberAccess(deps, () => operations(), limiters);
  app.use('/v1/*', subscribers.authenticate);
  // Who is calling (401, or 429 after too many failures), how often (429), and whether the
  // operation's declared scopes admit the caller's key (403; 404 for anything undeclared).
  app.use('/v1/*', subscribers.unlessSubscriberCall(authenticate(deps, limiters.authFailures)));
  app.use('/v1/*', subscribers.unlessSubscriberCall(rateLimit(deps.config.http, limiters.calls)));
  app.use(
    '/v1/*',
    subscribers.unlessSubscriberCall(
      authorize(
        () => operations(),
        (c) => notFound(c),
      ),
    ),
  );

  app.route('/', healthRouter(deps));
  // Public, like /health: outside /v1, so no API key; limited per client address instead.
  app.route('/', trackingRouter(deps, limiters.calls));
  // Provider events in (Resend, Twilio status callbacks): public too, verified by the provider's signature.
  app.route('/', providerEventsRouter(deps, limiters.calls));
  // One-click unsubscribe (RFC 8058) and Twilio's inbound SMS (STOP/START): public too, token or signature verified.
  app.route('/', unsubscribeRouter(deps, limiters.calls));
  app.route('/', twilioInboundRouter(deps, limiters.calls));
  // The hosted preference page ({{ preferencesUrl }}): public too, token verified, limited per address.
  app.route('/', preferencePageRouter(deps, limiters.calls));
  app.route('/', campaignsRouter(deps));
  app.route('/', campaignToolsRouter(deps));
  app.route('/', campaignVersionsRouter(deps));
  app.route('/', channelConfigurationsRouter(deps));
  app.route('/', cappingRulesRouter(deps));
  app.route('/', profilesRouter(deps));
  app.route('/', categoriesRouter(deps));
  app.route('/', preferencesRouter(deps));
  app.route('/', inboxTokensRouter(deps));
  app.route('/', inboxRouter(deps));
  app.route('/', audiencesRouter(deps));
  app.route('/', audienceExecutionsRouter(deps));
  app.route('/', topicsRouter(deps));
  app.route('/', topicExecutionsRouter(deps));
  app.route('/', executionsRouter(deps));
  app.route('/', eventsRouter(deps));
  // The outbox is read over the API while it is the email or the SMS provider, or a push
  // platform's default: the development setup. Chat and WhatsApp messages without a provider go
  // there too; a deployment with real providers for the others does not expose it.
  if (deps.config.email.provider === 'outbox' || deps.config.sms.provider === 'outbox' || deps.config.push.outboxDefault) app.route('/', outboxRouter(deps));
  app.route('/', apiKeysRouter(deps));
  app.route('/', auditLogRouter(deps));
  app.route('/', suppressionsRouter(deps));
  app.route('/', webhooksRouter(deps));
  app.route('/', codecRouter(deps));
  app.route('/', docsRouter());
  app.route('/', inboxComponentRouter());
  app.route('/', reportsRouter(deps));
  // The report page: public HTML that asks for an API key and reads /v1/campaigns/{id}/report with it.
  app.route('/', reportPageRouter());

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API key: one of HERALD_API_KEYS (full access) or one made with POST /v1/api-keys. Each operation lists the key scopes it admits: full, trigger. Without HERALD_API_KEYS (loopback only), a request without a key has full access.',
  });
  // Built once, on first use, when every route is registered; the operations are read back from it.
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  const openApiDocument = () => (document ??= withCodeSamples(app.getOpenAPI31Document(openApiDocumentConfig(deps.config)), deps.config.publicUrl));
  app.get('/openapi.json', (c) => c.json(openApiDocument()));

  let declared: DeclaredOperations | undefined;
  const operations = () => (declared ??= declaredOperations(openApiDocument()));
  const notFound = (c: Context) => {
    const allowed = operations().methods(c.req.path);
    if (allowed && !allowed.includes(c.req.method)) {
      return problemResponse(
        c,
        new Problem(405, 'method-not-allowed', 'Method not allowed', `${c.req.path} supports ${allowed.join(', ')}`, undefined, { allow: allowed.join(', ') }),
      );
    }
    return problemResponse(c, new Problem(404, 'not-found', 'Not found', `No route for ${c.req.method} ${c.req.path}`));
  };
  app.notFound(notFound);
  app.onError((error, c) => {
    if (error instanceof Problem) return problemResponse(c, error);
    if (error instanceof DomainError) return problemResponse(c, domainErrorProblem(error));
    if (error instanceof HTTPException) {
      // Hono raises these for unparseable bodies and wrong content types, before zod sees them.
      const status = error.status;
      const type = status === 400 ? 'malformed-request' : status === 415 ? 'unsupported-media-type' : 'http-error';
      return problemResponse(c, new Problem(status, type, error.message || 'Bad request', error.message));
    }
    if (isUnstorableTextError(error)) {
      return problemResponse(
        c,
        new Problem(
          400,
          'unstorable-text',
          'Bad request',
          'The request holds text the database cannot store (the character U+0000 or a lone UTF-16 surrogate).',
        ),
      );
    }
    if (isTransientDependencyError(error)) {
      // The requestId is already claimed: a retry with the same body resumes where this call stopped.
      return problemResponse(
        c,
        new Problem(
          503,
          'dependency-unavailable',
          'Temporarily unavailable',
          'Temporal or the database did not answer; retry with the same requestId.',
          undefined,
          { 'retry-after': '1' },
        ),
      );
    }
    console.error(`[api] ${c.req.method} ${c.req.path} failed:`, error);
    return problemResponse(c, new Problem(500, 'internal-error', 'Internal error', 'Herald could not complete the request; it has been logged.'));
  });
  return app;
}
