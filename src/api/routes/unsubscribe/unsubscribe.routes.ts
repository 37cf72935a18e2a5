import { createRoute, z } from '@hono/zod-openapi';
import { problemContent } from '../../problem';
import { publicTokenErrors } from '../../public-token-errors';

const tags = ['Unsubscribe'];

const TokenParams = z.object({
  token: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[A-Za-z0-9._-]+$/, 'must be an unsubscribe token (base64url)')
    .openapi({ param: { name: 'token', in: 'path' }, example: 'dTowMUtFWEFNUExFOjA.SGVyYWxkIHRyYWNraW5nIHRva2VuIGV4YW1wbGUgb25seQ' }),
});

const html = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } });
const errors = {
  ...publicTokenErrors('A token Herald did not sign (forged, altered or garbled), or a delivery retention has removed. Nothing changes.'),
  413: problemContent('A body larger than 16 KB'),
};

// Public: the address is in the List-Unsubscribe header of the marketing emails Herald sends, so it
// takes no API key. Outside /v1 (no authentication, no API key rate limit), with an empty security list.
export const unsubscribePage = createRoute({
  method: 'get',
  path: '/u/{token}',
  tags,
  security: [],
  summary: 'Unsubscribe page: asks the person to confirm',
  description:
    'The page a person reaches from the unsubscribe link of a marketing email. Needs no API key. It only shows a form with an "Unsubscribe" button that POSTs to the same address: a GET changes nothing, since mail scanners and link previews fetch links. A forged token answers 404.',
  request: { params: TokenParams },
  responses: { 200: html('A small HTML page (no script, no outside resource) with the confirmation form'), ...errors },
});

export const unsubscribeOneClick = createRoute({
  method: 'post',
  path: '/u/{token}',
  tags,
  security: [],
  summary: 'One-click unsubscribe (RFC 8058)',
  description:
    "Sets the consent of the delivery's profile on its channel to `out`, at once, so later marketing on that channel is excluded (`no-consent`); records an `unsubscribed` event on the delivery, a feedback event for webhooks and an audit entry (actor `public:unsubscribe`). The mailbox provider posts `List-Unsubscribe=One-Click` (form-encoded); any body is accepted and none is needed. Idempotent: a repeat changes nothing and answers the same. Needs no API key; a forged token answers 404 and changes nothing.",
  request: {
    params: TokenParams,
    body: {
      required: false,
      description: 'RFC 8058: `List-Unsubscribe=One-Click`. Optional; ignored.',
      // A plain schema, not zod: documented, never validated, so any body and any content type is taken.
      content: {
        'application/x-www-form-urlencoded': { schema: { type: 'object', properties: { 'List-Unsubscribe': { type: 'string', enum: ['One-Click'] } } } },
      },
    },
  },
  responses: { 200: html('Unsubscribed: a small HTML page saying so'), ...errors },
});
