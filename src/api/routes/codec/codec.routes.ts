import { createRoute, z } from '@hono/zod-openapi';
import { allowKeys } from '../../access';
import { problemContent, v1Responses } from '../../problem';

/** The Temporal UI asks for one event's payloads at a time; the bound only stops abuse. */
export const MAX_CODEC_PAYLOADS = 1000;
const MAX_METADATA_ENTRIES = 64;
/** The /v1 body limit (MAX_BODY_BYTES in create-app, not imported: create-app imports this file) caps the total anyway. */
const MAX_DATA_CHARS = 1024 * 1024;

/** Proto JSON `bytes`: standard or URL-safe base64, padding optional. */
const base64 = (max: number) =>
  z
    .string()
    .max(max, `at most ${max} characters of base64`)
    .regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64');

const PayloadJsonSchema = z
  .object({
    metadata: z
      .record(z.string().min(1).max(256), base64(64 * 1024))
      .refine((metadata) => Object.keys(metadata).length <= MAX_METADATA_ENTRIES, `at most ${MAX_METADATA_ENTRIES} metadata entries`)
      .optional()
      .openapi({ description: 'Metadata values in base64', example: { encoding: 'YmluYXJ5L2VuY3J5cHRlZA==', 'encryption-key-id': 'a2V5LTIwMjY=' } }),
    data: base64(MAX_DATA_CHARS).optional().openapi({ description: 'The payload bytes in base64' }),
  })
  .openapi('CodecPayload');

export const CodecPayloadsSchema = z
  .object({
    // Proto JSON leaves an empty repeated field out: the CLI sends `{}` for no payloads (a query's empty details).
    payloads: z.array(PayloadJsonSchema).max(MAX_CODEC_PAYLOADS, `at most ${MAX_CODEC_PAYLOADS} payloads per call`).default([]),
  })
  .openapi('CodecPayloads', { description: 'Temporal `Payloads` in proto JSON form, as the Temporal UI and CLI send them to a remote codec.' });

export type CodecPayloadsJson = z.infer<typeof CodecPayloadsSchema>;

const tags = ['Codec'];
// Decoding reads personal data out of Temporal history: full-access keys only.
const security = allowKeys('full');
const XNamespace = z.object({
  'x-namespace': z
    .string()
    .max(1000)
    .optional()
    .openapi({ description: 'Sent by the Temporal UI and CLI; when present it must be the namespace Herald runs in (TEMPORAL_NAMESPACE).' }),
});
const body = { required: true, content: { 'application/json': { schema: CodecPayloadsSchema } } };
const payloadsResponse = (description: string) => ({ description, content: { 'application/json': { schema: CodecPayloadsSchema } } });
const errors = {
  400: problemContent('Not a Payloads body, a payload Herald cannot decrypt (unknown key id, altered bytes), or another namespace in X-Namespace'),
  ...v1Responses,
  403: problemContent('An API key without full access, or a browser Origin that HERALD_CODEC_CORS_ORIGINS does not allow'),
  413: problemContent('Body too large'),
};

export const decodePayloads = createRoute({
  method: 'post',
  path: '/v1/codec/decode',
  tags,
  security,
  summary: 'Decrypt Temporal payloads (remote codec for the Temporal UI and CLI)',
  description:
    "Point the Temporal UI's codec endpoint (or `temporal … --codec-endpoint`) at `/v1/codec`. Payloads encrypted with any key in HERALD_PAYLOAD_KEYS come back decrypted; others come back unchanged, as do all payloads when HERALD_PAYLOAD_KEYS is unset.",
  request: { headers: XNamespace, body },
  responses: { 200: payloadsResponse('The decoded payloads, in the same order'), ...errors },
});

export const encodePayloads = createRoute({
  method: 'post',
  path: '/v1/codec/encode',
  tags,
  security,
  summary: 'Encrypt Temporal payloads (remote codec for the Temporal UI and CLI)',
  description:
    "Encrypts with the first key in HERALD_PAYLOAD_KEYS, as Herald's workers and clients do, e.g. for a signal sent from the UI. Unchanged when HERALD_PAYLOAD_KEYS is unset.",
  request: { headers: XNamespace, body },
  responses: { 200: payloadsResponse('The encoded payloads, in the same order'), ...errors },
});
