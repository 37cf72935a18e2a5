// A child process for postgres-connection-loss.test.ts: opens Herald's database the way every
// entry point does, starts a transaction, prints its backend pid and waits for a line on stdin
// before its next query. The test ends that backend in between, as a PostgreSQL restart does.
// It prints what the transaction and a later query saw, then exits 0; a crash is the bug.
import { createInterface } from 'node:readline';
import { sql } from 'kysely';
import { openDatabase } from '../../../src/db/database';

const db = openDatabase({ dialect: 'postgres', url: process.env.DATABASE_URL! });
const stdin = createInterface({ input: process.stdin });
const lines = stdin[Symbol.asyncIterator]();
const nextLine = async () => (await lines.next()).value as string;

try {
  await db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
    console.log(`backend ${rows[0]!.pid}`);
    await nextLine();
    await sql`select 1`.execute(trx);
  });
  console.log('transaction: committed');
} catch (error) {
  console.log(`transaction: failed (${(error as Error).message})`);
}
const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db);
console.log(`afterwards: ${rows[0]!.one}`);
await db.destroy();
stdin.close();
