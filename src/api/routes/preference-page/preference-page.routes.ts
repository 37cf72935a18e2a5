import { createRoute, z } from '@hono/zod-openapi';
import { MAX_SUBSCRIBER_TOKEN_CHARS } from '../../../domain/subscriber-token';
import { problemContent } from '../../problem';
import { publicTokenErrors } from '../../public-token-errors';

const tags = ['Preferences'];

const TokenParams = z.object({
  token: z
    .string()
    .min(1)
    .max(MAX_SUBSCRIBER_TOKEN_CHARS)
    .regex(/^[A-Za-z0-9._-]+$/, 'must be a preference page token (base64url parts)')
    .openapi({ param: { name: 'token', in: 'path' }, example: 'eyJhbGciOiJIUzI1NiJ9.eyJucyI6ImNybSJ9.c2lnbmF0dXJl' }),
});

const html = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } });
const errors = {
  ...publicTokenErrors('A token Herald did not sign (forged, altered or garbled), or a person Herald no longer holds (erased). Nothing changes.'),
  413: problemContent('A body larger than 64 KB'),
};

// Public: the link is in the messages Herald sends ({{ preferencesUrl }}), so it takes no API key.
// Outside /v1, with an empty security list, limited per client address like /u/{token}.
export const preferencePage = createRoute({
  method: 'get',
  path: '/preferences/{token}',
  tags,
  security: [],
  summary: 'Hosted preference page',
  description:
    'The page a person reaches from `{{ preferencesUrl }}` in a message: their channels and the categories, as checkboxes, in a form that posts back to the same address. Needs no API key and no JavaScript; a GET changes nothing. A forged token answers 404.',
  request: { params: TokenParams },
  responses: { 200: html('A small HTML page (no script, no outside resource) with the form'), ...errors },
});

export const savePreferencePage = createRoute({
  method: 'post',
  path: '/preferences/{token}',
  tags,
  security: [],
  summary: 'Save the hosted preference page',
  description:
    "The page's form (`application/x-www-form-urlencoded`): each checked toggle, and `shown`, what the page showed. Only the toggles the person changed are stored, at once, with an audit entry (actor `public:preferences`); the answer is the page again, saying so. A forged token answers 404 and changes nothing.",
  request: {
    params: TokenParams,
    body: {
      required: false,
      description: 'The form as the page posts it.',
      // A plain schema, not zod: read by the handler from the form, so a garbled form changes nothing rather than failing.
      content: {
        'application/x-www-form-urlencoded': {
          schema: {
            type: 'object',
            properties: {
              shown: { type: 'string', description: 'name=1|0 of every toggle the page showed, comma-separated' },
            },
            additionalProperties: { type: 'string', enum: ['on'] },
          },
        },
      },
    },
  },
  responses: { 200: html('Saved: the page with the new toggles'), ...errors },
});
