import { serve, type ServerType } from '@hono/node-server';
import type { Client } from '@temporalio/client';
import { serviceDependencies } from '../services/service-dependencies';
import { createApp } from '../api/create-app';
import { isLoopbackHost, type HeraldConfig } from '../config/env';
import type { HeraldDb } from '../db/database';

export class OpenApiRefusedError extends Error {}

/** Starts the HTTP API; refuses to run without API keys on anything but loopback. */
export async function serveApi(config: HeraldConfig, db: HeraldDb, temporal: Client, log: (line: string) => void): Promise<ServerType & { port: number }> {
  if (config.http.apiKeys.length === 0) {
    if (!isLoopbackHost(config.http.host)) {
      throw new OpenApiRefusedError(`HERALD_API_KEYS is unset, so the API would be open to anyone on ${config.http.host}. Set HERALD_API_KEYS=<key>[,<key>...] or bind HOST=127.0.0.1.`);
    }
    log(`HERALD_API_KEYS is unset: the API is OPEN (a request without a key has full access), bound to loopback ${config.http.host} only`);
  }
  const app = createApp(serviceDependencies(config, db, temporal));
  return new Promise<ServerType & { port: number }>((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: config.http.port, hostname: config.http.host }, (info) => {
      resolve(Object.assign(server, { port: info.port }));
    });
    server.once('error', reject);
  });
}
