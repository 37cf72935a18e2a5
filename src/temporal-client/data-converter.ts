import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import type { PayloadKey } from '../config/env';
import { AesGcmPayloadCodec } from './payload-codec';

/**
 * Moves failure messages and stack traces into an encoded payload. A path, because the SDK
 * `require()`s it and also bundles it into the workflow sandbox (see `bundleWorkflows`).
 */
export const encodedFailureConverterPath = fileURLToPath(new URL('./encoded-failure-converter.cjs', import.meta.url));

/**
 * The one data converter of every Temporal client and worker Herald creates. With payload keys
 * (HERALD_PAYLOAD_KEYS) every payload is AES-256-GCM encrypted (see AesGcmPayloadCodec), failure
 * messages and stack traces included; without keys it is Temporal's default converter.
 *
 * The codec encrypts everything the SDK routes through it: workflow and activity inputs and
 * results, local-activity markers, signals, queries, updates, memos, static summaries/details,
 * heartbeat details and failure details. It never sees search attributes (the server must index
 * them) or headers.
 */
export function heraldDataConverter(payloadKeys: readonly PayloadKey[] | undefined): DataConverter {
  if (!payloadKeys || payloadKeys.length === 0) return {};
  return { payloadCodecs: [new AesGcmPayloadCodec(payloadKeys)], failureConverterPath: encodedFailureConverterPath };
}

/** The codec alone, for the codec endpoint; undefined when encryption is off. */
export function heraldPayloadCodec(payloadKeys: readonly PayloadKey[] | undefined): AesGcmPayloadCodec | undefined {
  return payloadKeys && payloadKeys.length > 0 ? new AesGcmPayloadCodec(payloadKeys) : undefined;
}
