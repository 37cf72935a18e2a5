import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port';

/**
 * A real PostgreSQL server for the PostgreSQL suite (HERALD_TEST_DATABASE=postgres): Debian's
 * `postgresql` binaries, installed with apt-get when missing, a throwaway cluster in a temp dir
 * (initdb, trust auth on loopback), started and stopped with pg_ctl. PostgreSQL refuses to run as
 * root, so as root it runs as the `postgres` user.
 */
export interface PostgresServer {
  /** The maintenance database `postgres`, as the superuser `herald`. */
  adminUrl: string;
  port: number;
  /** Stops the server fast (sessions are terminated, 57P01) and keeps the data. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  teardown(): Promise<void>;
}

function binDir(): string {
  const find = () => {
    const root = '/usr/lib/postgresql';
    if (!existsSync(root)) return undefined;
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
      .sort((a, b) => Number(b) - Number(a));
    return versions[0] && join(root, versions[0], 'bin');
  };
  let dir = find();
  if (!dir && process.getuid?.() === 0) {
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    dir = find();
  }
  if (!dir) throw new Error("PostgreSQL binaries not found: install Debian's postgresql package (apt-get install postgresql)");
  return dir;
}

export async function startPostgresServer(): Promise<PostgresServer> {
  const bin = binDir();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'herald-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const run = (tool: string, args: string[]) => {
    const command = asRoot ? 'runuser' : join(bin, tool);
    const fullArgs = asRoot ? ['-u', 'postgres', '--', join(bin, tool), ...args] : args;
    const result = spawnSync(command, fullArgs, { cwd: dir, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${tool} failed (${result.status}): ${result.stderr || result.stdout}`);
  };
  run('initdb', ['-D', dataDir, '-U', 'herald', '--auth=trust', '--encoding=UTF8', '--no-sync']);
  const port = await freePort();
  // fsync off: a test cluster trades durability across a host crash for speed (a fast restart still keeps everything).
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=128MB`;
  const start = async () => {
    run('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', options, '-w', '-t', '60', 'start']);
  };
  const stop = async () => {
    run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']);
  };
  await start();
  const adminUrl = `postgres://herald@127.0.0.1:${port}/postgres`;
  return {
    adminUrl,
    port,
    start,
    stop,
    async teardown() {
      try {
        await stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A fresh, empty database on the server: its URL and how to drop it. */
export async function createTestDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `herald_test_${Math.random().toString(36).slice(2, 12)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Whether this run is the PostgreSQL suite. */
export const postgresSuite = process.env.HERALD_TEST_DATABASE === 'postgres';
