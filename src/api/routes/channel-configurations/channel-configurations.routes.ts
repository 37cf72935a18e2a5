import { createRoute, z } from '@hono/zod-openapi';
import { CHANNELS } from '../../../domain/campaign';
import { CHANNEL_PROVIDERS, PROVIDERS } from '../../../domain/channel-configuration';
import { allowKeys } from '../../access';
import { problemContent, v1Responses } from '../../problem';
import { safeText } from '../../schemas/safe-text';

const SETTINGS_DESCRIPTION = [
  'Per provider; never a credential: fields ending in `Env` NAME the environment variable the worker reads the credential from',
  "(A-Z, 0-9 and _, not one of Herald's own variables; the worker reads RESEND_API_KEY and the names listed in HERALD_SENDER_ENV).",
  '**email** `resend`: `from` ("Name <a@example.com>"), `replyTo?` (an address or a list), `headers?` (name → one-line value), `apiKeyEnv` (default RESEND_API_KEY).',
  '`smtp`: `host`, `port` (587), `secure` (false: STARTTLS when offered), `username?` with `passwordEnv?`, `from`, `replyTo?`, `headers?`.',
  '`ses`: `region`, `accessKeyIdEnv`, `secretAccessKeyEnv`, `configurationSet?`, `from`, `replyTo?`, `headers?`, `endpoint?`.',
  '**sms** `twilio`: exactly one of `from` (E.164 or an alphanumeric sender id) and `messagingServiceSid`, with `accountSidEnv`, `authTokenEnv`.',
  '**whatsapp** `twilio`: as for sms, `from` a WhatsApp number; `meta`: `phoneNumberId`, `accessTokenEnv`, `apiVersion?`.',
  '**chat** `slack`: exactly one of `botTokenEnv` (chat.postMessage, with `defaultDestination?`) and `webhookUrlEnv`; `msteams`: `webhookUrlEnv`; `discord`: `webhookUrlEnv`, `username?`.',
  '**push** `fcm`: `projectId`, `serviceAccountEnv`; `apns`: `teamId`, `keyId`, `bundleId`, `privateKeyEnv`, `production?`; `webpush`: `vapidSubject`, `vapidPublicKeyEnv`, `vapidPrivateKeyEnv`.',
  '**every channel** `outbox`: no settings (the built-in development outbox).',
].join(' ');

/** `email: resend, smtp, ses, outbox. sms: …`, from the one list of which channel takes which provider. */
const PROVIDERS_BY_CHANNEL = Object.entries(CHANNEL_PROVIDERS)
  .filter(([, providers]) => providers.length > 0)
  .map(([channel, providers]) => `${channel}: ${providers.join(', ')}.`)
  .join(' ');

const settings = z.record(z.string(), z.unknown()).openapi({
  description: SETTINGS_DESCRIPTION,
  example: { from: 'Acme <no-reply@acme.example>', replyTo: 'support@acme.example', apiKeyEnv: 'RESEND_API_KEY' },
});

const fallback = z
  .array(safeText(1, 64))
  .max(5)
  .openapi({
    description:
      'Configurations of the same channel tried in order when this one cannot take a message now (a 5xx, a 429 past a 10 s Retry-After, a timeout, a refused connection, or its circuit open). A permanent refusal does not fail over. No cycles. docs/failover.md.',
    example: ['01JBACKUPSMTP000000000000'],
  });

const circuitBreaker = z
  .object({
    failureThreshold: z.number().int().min(1).max(1000).openapi({ description: 'Consecutive retryable failures that open the circuit (default 5)' }),
    openSeconds: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .openapi({ description: 'How long an open circuit sends straight to the fallback before one trial send decides (default 30)' }),
  })
  .strict()
  .openapi('CircuitBreakerSettings');

export const ChannelConfigurationCreateSchema = z
  .object({
    name: safeText(1, 255).openapi({ example: 'Acme transactional email' }),
    channel: z.enum(CHANNELS),
    provider: z.enum(PROVIDERS).openapi({ description: PROVIDERS_BY_CHANNEL }),
    settings: settings.optional(),
    fallback: fallback.optional(),
    circuitBreaker: circuitBreaker.optional(),
  })
  .strict()
  .openapi('ChannelConfigurationCreate');

export const ChannelConfigurationPatchSchema = z
  .object({
    name: safeText(1, 255).optional(),
    provider: z.enum(PROVIDERS).optional(),
    settings: settings.optional().openapi({ description: 'Replaces the settings whole. ' + SETTINGS_DESCRIPTION }),
    fallback: fallback.optional().openapi({ description: 'Replaces the fallback list whole; [] removes it.' }),
    circuitBreaker: circuitBreaker.nullable().optional().openapi({ description: 'null: back to the defaults (5 failures, 30 s)' }),
  })
  .strict()
  .refine((value) => Object.keys(value).length > 0, { message: 'send at least one field to change' })
  .openapi('ChannelConfigurationPatch', { minProperties: 1, description: 'The channel never changes; create another configuration instead.' });

export const ChannelConfigurationSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    channel: z.enum(CHANNELS),
    provider: z.enum(PROVIDERS),
    settings,
    fallback: z.array(z.string()),
    circuitBreaker: z.object({ failureThreshold: z.number().int(), openSeconds: z.number().int() }),
    circuit: z.enum(['closed', 'open', 'half-open']).openapi({
      description: "The circuit breaker's state, shared by every worker: open sends straight to the fallback; half-open lets one trial send decide.",
    }),
    consecutiveFailures: z.number().int().openapi({ description: 'Retryable failures since the last success' }),
    openUntil: z.string().nullable().openapi({ description: 'When an open circuit lets its trial send through; null unless open' }),
    missingEnv: z.array(z.string()).openapi({
      description:
        'Variables the settings name that are not set for the worker (names only). A campaign with this configuration fails review until it is empty.',
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('ChannelConfiguration');

const IdParams = z.object({ id: safeText(1, 64).openapi({ param: { name: 'id', in: 'path' } }) });
const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const tags = ['Channel configurations'];
const security = allowKeys('full');

export const createChannelConfiguration = createRoute({
  method: 'post',
  path: '/v1/channel-configurations',
  tags,
  security,
  summary: 'Create a channel configuration (a sender: provider and settings)',
  request: { body: { required: true, content: { 'application/json': { schema: ChannelConfigurationCreateSchema } } } },
  responses: {
    201: json(ChannelConfigurationSchema, 'The new configuration'),
    400: problemContent('Invalid configuration; every problem is listed in errors'),
    ...v1Responses,
    413: problemContent('Body too large'),
  },
});

export const listChannelConfigurations = createRoute({
  method: 'get',
  path: '/v1/channel-configurations',
  tags,
  security,
  summary: 'List channel configurations, newest first',
  request: {
    query: z.object({
      channel: z.enum(CHANNELS).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(20),
      cursor: safeText(0, 64).optional().openapi({ description: 'nextCursor from the previous page' }),
    }),
  },
  responses: {
    200: json(
      z.object({ items: z.array(ChannelConfigurationSchema), nextCursor: z.string().optional() }).openapi('ChannelConfigurationPage'),
      'A page of configurations',
    ),
    400: problemContent('Invalid query'),
    ...v1Responses,
  },
});

export const getChannelConfiguration = createRoute({
  method: 'get',
  path: '/v1/channel-configurations/{id}',
  tags,
  security,
  summary: 'Get a channel configuration',
  request: { params: IdParams },
  responses: {
    200: json(ChannelConfigurationSchema, 'The configuration'),
    400: problemContent('Invalid id'),
    ...v1Responses,
    404: problemContent('Unknown configuration'),
  },
});

export const patchChannelConfiguration = createRoute({
  method: 'patch',
  path: '/v1/channel-configurations/{id}',
  tags,
  security,
  summary: 'Change a channel configuration; campaigns that use it send with the change',
  request: { params: IdParams, body: { required: true, content: { 'application/json': { schema: ChannelConfigurationPatchSchema } } } },
  responses: {
    200: json(ChannelConfigurationSchema, 'The changed configuration'),
    400: problemContent('Invalid change'),
    ...v1Responses,
    404: problemContent('Unknown configuration'),
    413: problemContent('Body too large'),
    422: problemContent('Scheduled or live campaigns use it and the change names variables not set for the worker'),
  },
});

export const deleteChannelConfiguration = createRoute({
  method: 'delete',
  path: '/v1/channel-configurations/{id}',
  tags,
  security,
  summary: 'Delete a channel configuration that no scheduled or live campaign uses',
  request: { params: IdParams },
  responses: {
    204: { description: 'Deleted' },
    400: problemContent('Invalid id'),
    ...v1Responses,
    404: problemContent('Unknown configuration'),
    409: problemContent('A scheduled or live campaign uses it, or another configuration lists it as a fallback'),
  },
});
