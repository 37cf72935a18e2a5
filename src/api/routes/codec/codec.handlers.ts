import type { RouteHandler } from '@hono/zod-openapi';
import type { Payload } from '@temporalio/common';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { heraldPayloadCodec } from '../../../temporal-client/data-converter';
import { PayloadDecryptionError } from '../../../temporal-client/payload-codec';
import { Problem } from '../../problem';
import type * as routes from './codec.routes';
import type { CodecPayloadsJson } from './codec.routes';

type PayloadJson = CodecPayloadsJson['payloads'][number];

const fromJson = ({ metadata, data }: PayloadJson): Payload => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
  data: Buffer.from(data ?? '', 'base64'),
});

// protobufjs leaves a field at its default as a plain array, not a Buffer: Buffer.from takes both.
const toBase64 = (bytes: Uint8Array | ArrayLike<number> | null | undefined) => (bytes ? Buffer.from(bytes as Uint8Array).toString('base64') : '');

const toJson = ({ metadata, data }: Payload): Required<PayloadJson> => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([key, value]) => [key, toBase64(value)])),
  data: toBase64(data),
});

export function codecHandlers(deps: ServiceDependencies) {
  // Undefined when HERALD_PAYLOAD_KEYS is unset: payloads pass through, so the UI still shows them.
  const codec = heraldPayloadCodec(deps.config.payloadKeys);
  const namespace = deps.config.temporal.namespace;

  // The Temporal CLI sends an empty X-Namespace: only a named other namespace is refused.
  function checkNamespace(given: string | undefined): void {
    if (given && given !== namespace) {
      throw new Problem(400, 'namespace-mismatch', 'Another namespace', `This codec serves Temporal namespace "${namespace}", not "${given}".`);
    }
  }

  const decode: RouteHandler<typeof routes.decodePayloads> = async (c) => {
    checkNamespace(c.req.valid('header')['x-namespace']);
    const payloads = c.req.valid('json').payloads.map(fromJson);
    if (!codec) return c.json({ payloads: payloads.map(toJson) }, 200);
    const decoded = payloads.map((payload, index) => {
      try {
        return codec.decrypt(payload);
      } catch (error) {
        if (error instanceof PayloadDecryptionError)
          throw new Problem(400, 'payload-not-decodable', 'A payload cannot be decoded', error.message, [
            { field: `payloads.${index}`, message: error.message },
          ]);
        // Decrypted, but not a serialized Payload: only possible with a key reused for something else.
        throw new Problem(400, 'payload-not-decodable', 'A payload cannot be decoded', `payloads.${index} decrypted to bytes that are not a Temporal payload`);
      }
    });
    return c.json({ payloads: decoded.map(toJson) }, 200);
  };

  const encode: RouteHandler<typeof routes.encodePayloads> = async (c) => {
    checkNamespace(c.req.valid('header')['x-namespace']);
    const payloads = c.req.valid('json').payloads.map(fromJson);
    return c.json({ payloads: (codec ? await codec.encode(payloads) : payloads).map(toJson) }, 200);
  };

  return { decode, encode };
}
