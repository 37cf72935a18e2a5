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

/** Starts the HTTP API; refuses to run without API keys on anything but loopback. */
export async function serveApi(config: HeraldConfig, db: HeraldDb, temporal: Client, log: (line: string) => void): Promise<ServerType & { port: number }> {
  if (config.http.apiKeys.length === 0) {
    if (!isLoopbackHost(config.http.host)) {
      throw new OpenApiRefusedError(
        `HERALD_API_KEYS is unset, so the API would be open to anyone on ${config.http.host}. Set HERALD_API_KEYS=<key>[,<key>...] or bind HOST=127.0.0.1.`,
      );
    }
    log(`HERALD_API_KEYS is unset: the API is OPEN (a request without a key has full access), bound to loopback ${config.http.host} only`);
  }
  const app = createApp(serviceDependencies(config, db, temporal));
  return new Promise<ServerType & { port: number }>((resolve, reject) => {
    const server = serve(
      { fetch: app.fetch, port: config.http.port, hostname: config.http.host, serverOptions: { requestTimeout: requestTimeoutMs(config) } },
      (info) => {
        resolve(Object.assign(server, { port: info.port }));
      },
    );
    server.once('error', reject);
  });
}
