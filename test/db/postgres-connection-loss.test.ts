import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, startPostgresServer, type PostgresServer } from '../support/postgres-server';
import { waitFor } from '../support/process-stack';

const CHILD = fileURLToPath(new URL('./support/transaction-across-a-lost-connection.ts', import.meta.url));

/**
 * A PostgreSQL restart ends every session with 57P01. A session that the pool has lent out (a
 * transaction between two queries) used to get that error as an 'error' event nobody heard,
 * which crashed the worker: in the PostgreSQL restart fault test, executions then waited for a
 * worker that was gone. The transaction must fail instead, and the process carry on. Runs in a
 * child process, because the crash is an uncaught exception. On the SQLite suite this file starts
 * a PostgreSQL server of its own.
 */
describe('a PostgreSQL session ended in the middle of a transaction', () => {
  let ownServer: PostgresServer | undefined;
  let adminUrl: string;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    adminUrl = inject('postgresAdminUrl');
    if (!adminUrl) {
      ownServer = await startPostgresServer();
      adminUrl = ownServer.adminUrl;
    }
    database = await createTestDatabase(adminUrl);
  }, 120_000);
  afterAll(async () => {
    await database?.drop();
    await ownServer?.teardown();
  });

  it('fails that transaction, and the process goes on with a new connection', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { env: { ...process.env, DATABASE_URL: database.url }, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    const pid = await waitFor(
      () => `the child's backend pid (output: ${output})`,
      () => /backend (\d+)/.exec(output)?.[1],
      30_000,
    );
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      expect((await admin.query('select pg_terminate_backend($1) as ended', [Number(pid)])).rows[0].ended).toBe(true);
    } finally {
      await admin.end();
    }
    // The 57P01 reaches the child while no query runs on that session.
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.stdin.write('go\n');

    expect(await exited, output).toBe(0);
    expect(output).toMatch(/transaction: failed \(.+\)/);
    expect(output).toContain('afterwards: 1');
  }, 60_000);
});
