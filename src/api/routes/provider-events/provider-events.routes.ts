import { createRoute, z } from '@hono/zod-openapi';
import { problemContent } from '../../problem';

const tags = ['Provider events'];

const integer = (description: string) => ({ description, schema: { type: 'integer' as const } });

export const ProviderEventAnswerSchema = z
  .object({
    outcome: z.enum(['recorded', 'replayed', 'unknown-message', 'ignored']).openapi({
      description:
        '`recorded`: applied; `replayed`: this event was applied before, nothing changed; `unknown-message`: no delivery has this message id (ignored, so the provider does not retry); `ignored`: an event type Herald does not track.',
    }),
  })
  .openapi('ProviderEventAnswer');

const errors = {
  401: problemContent(
    'Not signed by the provider with the configured secret (forged, altered, unsigned, too old, or no secret configured): nothing is changed',
  ),
  413: problemContent('Body over 256 KiB'),
  429: {
    ...problemContent('Too many requests from this client address (HERALD_PROVIDER_EVENTS_RATE_LIMIT per second)'),
    headers: { 'Retry-After': integer('Seconds to wait before retrying') },
  },
  503: {
    ...problemContent('The database is briefly unavailable; the provider retries'),
    headers: { 'Retry-After': integer('Seconds to wait before retrying') },
  },
};
const answered = { 200: { description: 'Verified and handled (see outcome)', content: { 'application/json': { schema: ProviderEventAnswerSchema } } } };

// Bodies are plain JSON Schemas, not zod: a zod body would put a validator in front that parses
// the body, and the signature is computed over the raw bytes, which the handler reads itself.
// Headers are optional here: a missing signature is a 401 from the handler, not a 400.
const SvixHeaders = z.object({
  'svix-id': z.string().optional().openapi({ description: 'The event id: a replay carries the same' }),
  'svix-timestamp': z.string().optional().openapi({ description: 'Seconds since the epoch' }),
  'svix-signature': z.string().optional().openapi({ description: '`v1,<base64 HMAC-SHA256>`, space-separated when several' }),
});
const TwilioHeaders = z.object({
  'x-twilio-signature': z.string().optional().openapi({ description: 'Base64 HMAC-SHA1 of the URL and the sorted form parameters' }),
});

// Public: the providers call these. Outside /v1 (no API key), an empty security list; the
// provider's signature is the authentication.
export const resendEvents = createRoute({
  method: 'post',
  path: '/webhooks/resend',
  tags,
  security: [],
  summary: "Resend's event webhook: delivered, bounced, complained, delayed, opened, clicked",
  description: [
    'Point a Resend webhook at `HERALD_PUBLIC_URL/webhooks/resend` and set its signing secret as RESEND_WEBHOOK_SECRET (`whsec_…`). Every call is verified with the Svix signature (`svix-id`, `svix-timestamp`, `svix-signature`, at most 5 minutes old) over the raw body; anything else answers 401 and changes nothing.',
    "Events are matched to deliveries by `data.email_id` (the message id Herald stored when Resend took the email). `email.delivered`, `email.delivery_delayed`, `email.bounced` (`data.bounce.type` Permanent: hard, else soft), `email.complained` move the delivery's feedback forward only (delayed < delivered < bounced < complained); `email.opened` and `email.clicked` are recorded as opens and clicks. Each event is stored once, keyed by its `svix-id`: a replay answers 200 and changes nothing.",
    'A hard bounce or a complaint puts the address on the email suppression list.',
  ].join('\n\n'),
  request: {
    headers: SvixHeaders,
    body: {
      required: true,
      content: {
        'application/json': { schema: { type: 'object' as const, description: 'A Resend webhook event: `{type, created_at, data: {email_id, …}}`' } },
      },
    },
  },
  responses: { ...answered, ...errors },
});

export const twilioStatus = createRoute({
  method: 'post',
  path: '/webhooks/twilio',
  tags,
  security: [],
  summary: 'Twilio status callbacks for SMS: delivered, undelivered, failed',
  description: [
    "Set `HERALD_PUBLIC_URL/webhooks/twilio` as the StatusCallback of the messaging service (or the number). Every call is verified with Twilio's `X-Twilio-Signature` (HMAC-SHA1 of the URL and the form parameters, keyed with TWILIO_AUTH_TOKEN), through the Twilio SDK; the URL checked is HERALD_PUBLIC_URL + the path, so HERALD_PUBLIC_URL must be the address Twilio calls. Anything else answers 401 and changes nothing.",
    'Matched to deliveries by `MessageSid`. `delivered` moves the delivery to delivered; `undelivered` and `failed` to bounced, hard for error codes that mean the number will never take a message (30004, 30005, 30006, 21211, 21610, 21614), soft for the rest (30003, a switched-off handset, among them). Other statuses (queued, sent…) are acknowledged and ignored. A callback is stored once per (MessageSid, MessageStatus): a replay changes nothing.',
    'A hard bounce puts the number on the SMS suppression list.',
  ].join('\n\n'),
  request: {
    headers: TwilioHeaders,
    body: {
      required: true,
      content: {
        'application/x-www-form-urlencoded': {
          schema: { type: 'object' as const, description: 'Twilio status callback parameters: MessageSid, MessageStatus, ErrorCode, …' },
        },
      },
    },
  },
  responses: { ...answered, ...errors },
});
