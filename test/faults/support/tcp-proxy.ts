import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A loopback TCP proxy (here: in front of the Temporal frontend) that can stop passing bytes from
 * its clients to the server. With it paused, a gRPC call such as StartWorkflowExecution is sent
 * by the client but never reaches Temporal: the process that made it hangs at exactly that point
 * and can be killed there.
 */
export interface TcpProxy {
  address: string;
  /** Hold every byte from clients to the server (new and existing connections) until `resume()`. */
  pause(): void;
  resume(): void;
  /** Connections currently open. */
  connections(): number;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  server: Socket;
  pending: Buffer[];
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const separator = target.lastIndexOf(':');
  const host = target.slice(0, separator);
  const port = Number(target.slice(separator + 1));
  const pairs = new Set<Pair>();
  let paused = false;

  const server = createServer((client) => {
    const upstream = connect({ host, port });
    const pair: Pair = { client, server: upstream, pending: [] };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      if (paused) pair.pending.push(chunk);
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port: listenPort } = server.address() as AddressInfo;

  return {
    address: `127.0.0.1:${listenPort}`,
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      for (const pair of pairs) {
        for (const chunk of pair.pending.splice(0)) pair.server.write(chunk);
      }
    },
    connections: () => pairs.size,
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.server.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
