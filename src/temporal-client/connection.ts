import { readFileSync } from 'node:fs';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { HeraldConfig } from '../config/env';
import { heraldDataConverter } from './data-converter';

function tlsConfig(temporal: HeraldConfig['temporal']): TLSConfig | undefined {
  if (!temporal.tls) return undefined;
  const { certPath, keyPath, caPath } = temporal.tls;
  return {
    ...(certPath && keyPath && { clientCertPair: { crt: readFileSync(certPath), key: readFileSync(keyPath) } }),
    ...(caPath && { serverRootCACertificate: readFileSync(caPath) }),
  };
}

function connectionOptions(temporal: HeraldConfig['temporal']) {
  return { address: temporal.address, tls: tlsConfig(temporal), ...(temporal.apiKey && { apiKey: temporal.apiKey }) };
}

export function connect(temporal: HeraldConfig['temporal']): Promise<Connection> {
  return Connection.connect(connectionOptions(temporal));
}

/** A client with Herald's data converter: pass `config.payloadKeys` so payloads are encrypted when keys are set. */
export async function connectClient(temporal: HeraldConfig['temporal'], payloadKeys: HeraldConfig['payloadKeys']): Promise<Client> {
  return new Client({ connection: await connect(temporal), namespace: temporal.namespace, dataConverter: heraldDataConverter(payloadKeys) });
}

export function connectWorkerConnection(temporal: HeraldConfig['temporal']): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(temporal));
}

/**
 * How long an API request waits for Temporal. Without a deadline the client keeps retrying an
 * unreachable server for ~20 s; with one, the caller gets a 503 and retries with the same
 * requestId, which is safe because every start is keyed and idempotent.
 */
export const TEMPORAL_CALL_DEADLINE_MS = 5_000;

export function withCallDeadline<R>(client: Client, call: () => Promise<R>): Promise<R> {
  return client.withDeadline(Date.now() + TEMPORAL_CALL_DEADLINE_MS, call);
}
