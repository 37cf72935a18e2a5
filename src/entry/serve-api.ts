import { serve, type ServerType } from '@hono/node-server';
import type { Client } from '@temporalio/client';
import { serviceDependencies } from '../services/service-dependencies';
import { createApp } from '../api/create-app';
import { isLoopbackHost, type HeraldConfig } from '../config/env';
import type { HeraldDb } from '../db/database';

export class OpenApiRefusedError extends Error {}

/** The slowest upload a bulk profile import of HERALD_IMPORT_MAX_BYTES is given time for. */
const IMPORT_MIN_BYTES_PER_SECOND = 512 * 1024;

/**
 * Node ends a request whose body has not all arrived after `requestTimeout` (300 s by default, a
 * guard against slow senders), answering 408 in the middle of it. POST /v1/profiles/import streams
 * bodies of up to HERALD_IMPORT_MAX_BYTES, written as they arrive (a 1 GiB import takes minutes):
 * it gets the time to send that much at IMPORT_MIN_BYTES_PER_SECOND, never less than Node's default.
 */
function requestTimeoutMs(config: HeraldConfig): number {
  return Math.max(300_000, Math.ceil((config.profileImport.maxBytes / IMPORT_MIN_BYTES_PER_SECOND) * 1000));
}

/** The API's server, with the workflow starts it answered before they succeeded (ADR 0011). */
export type ApiServer = ServerType & {
  port: number;
  /** Resolves once those starts are done, or after `timeoutMs`: a stopping API waits for them before it closes its Temporal connection. */
  startsSettled(timeoutMs: number): Promise<void>;
};

/** Starts the HTTP API; refuses to run without API keys on anything but loopback. */
export async function serveApi(config: HeraldConfig, db: HeraldDb, temporal: Client, log: (line: string) => void): Promise<ApiServer> {
  if (config.http.apiKeys.length === 0) {
    if (!isLoopbackHost(config.http.host)) {
      throw new OpenApiRefusedError(
        `HERALD_API_KEYS is unset, so the API would be open to anyone on ${config.http.host}. Set HERALD_API_KEYS=<key>[,<key>...] or bind HOST=127.0.0.1.`,
      );
    }
    log(`HERALD_API_KEYS is unset: the API is OPEN (a request without a key has full access), bound to loopback ${config.http.host} only`);
  }
  const deps = serviceDependencies(config, db, temporal);
  const app = createApp(deps);
  return new Promise<ApiServer>((resolve, reject) => {
    const server = serve(
      { fetch: app.fetch, port: config.http.port, hostname: config.http.host, serverOptions: { requestTimeout: requestTimeoutMs(config) } },
      (info) => {
        resolve(Object.assign(server, { port: info.port, startsSettled: (timeoutMs: number) => deps.startWait.settled(timeoutMs) }));
      },
    );
    server.once('error', reject);
    // A closed API tries no start again: what is still failing is left to the orphan sweep.
    server.once('close', () => deps.startWait.stop());
  });
}
