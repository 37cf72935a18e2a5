import { randomInt } from 'node:crypto';
import { createServer, type Server } from 'node:net';

/**
 * Below the kernel's ephemeral range (32768 and up on Linux), for two reasons: Temporal's SQL schema
 * stores each service's membership port as a SMALLINT (cluster_membership.rpc_port), so a port of
 * 32768 or more makes the server die at startup with "value ... is out of range for type smallint";
 * and outgoing connections never take a port from this range, so a port stays free across restarts.
 */
const LOWEST = 10_000;
const HIGHEST = 32_767;

function listen(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/**
 * `count` distinct loopback TCP ports that were free a moment ago. All are held open until every
 * one is picked, so none is handed out twice. The cluster keeps its ports across restarts: clients
 * and the membership table know the services by address.
 */
export async function pickFreePorts(count: number): Promise<number[]> {
  const held: Server[] = [];
  try {
    for (let attempt = 0; held.length < count; attempt += 1) {
      if (attempt > 1_000) throw new Error(`could not find ${count} free ports between ${LOWEST} and ${HIGHEST}`);
      const server = await listen(randomInt(LOWEST, HIGHEST + 1));
      if (server) held.push(server);
    }
    return held.map((server) => (server.address() as { port: number }).port);
  } finally {
    await Promise.all(held.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}
