import { createRoute, z } from '@hono/zod-openapi';
import { problemContent } from '../../problem';

export const TWILIO_INBOUND_PATH = '/webhooks/twilio/inbound';

const integer = (description: string) => ({ description, schema: { type: 'integer' as const } });

// Public: Twilio calls it, with no API key but its X-Twilio-Signature. Outside /v1, empty security list.
export const twilioInbound = createRoute({
  method: 'post',
  path: TWILIO_INBOUND_PATH,
  tags: ['Provider webhooks'],
  security: [],
  summary: 'Twilio inbound SMS: STOP and START keywords set SMS consent',
  description: [
    "Set this as the phone number's (or Messaging Service's) \"A message comes in\" webhook, as `{HERALD_PUBLIC_URL}/webhooks/twilio/inbound`, HTTP POST. Twilio signs the request with the account's auth token (TWILIO_AUTH_TOKEN), which Herald checks with the `twilio` SDK against that URL; an unsigned or forged request answers 401 and changes nothing.",
    'A body that is one opt-out keyword (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT; trimmed, any case) sets the SMS consent of the profiles of the sender\'s number to `out`; START, YES or UNSTOP set it back to `in`. The profiles of a number are: the userId in the `phone` namespace, a `phone` attribute equal to it in E.164, and the profiles Herald sent an SMS to at that number. A WhatsApp message through Twilio (`From: whatsapp:+E164`, the WhatsApp sender\'s "A message comes in" webhook set to the same URL) sets the WhatsApp consent instead, of the profiles of that number and those Herald sent a WhatsApp message to. Every change is in the audit log (actor `public:twilio-inbound`). Other messages change nothing.',
    'Answers empty TwiML (`<Response/>`): Twilio sends its own opt-out confirmation.',
  ].join('\n\n'),
  request: {
    body: {
      required: false,
      description: "Twilio's inbound message parameters (form-encoded); all of them are covered by the signature.",
      content: {
        'application/x-www-form-urlencoded': {
          // A plain schema, not zod: the handler reads every parameter itself, since the signature covers them all,
          // and a request that is not even a form is answered 401 (unsigned) rather than 415.
          schema: {
            type: 'object',
            properties: {
              From: { type: 'string', example: '+14155552671' },
              To: { type: 'string' },
              Body: { type: 'string', example: 'STOP' },
              MessageSid: { type: 'string' },
            },
            additionalProperties: { type: 'string' },
          },
        },
      },
    },
  },
  responses: {
    200: {
      description: 'Empty TwiML',
      content: { 'text/xml': { schema: z.string().openapi({ example: '<?xml version="1.0" encoding="UTF-8"?><Response/>' }) } },
    },
    401: problemContent('No valid X-Twilio-Signature (or TWILIO_AUTH_TOKEN is not set): nothing changes'),
    413: problemContent('A body larger than 64 KB'),
    429: {
      ...problemContent('Too many requests from this client address (HERALD_PROVIDER_EVENTS_RATE_LIMIT per second)'),
      headers: { 'Retry-After': integer('Seconds to wait before retrying') },
    },
    503: {
      ...problemContent('The database is briefly unavailable; Twilio retries'),
      headers: { 'Retry-After': integer('Seconds to wait before retrying') },
    },
  },
});
