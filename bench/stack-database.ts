// Herald's database as the bench reads and seeds it, beside the processes under test: through
// Herald's own kysely setup, so either dialect works, and one connection per stack.
import { openDatabase, type HeraldDb } from '../src/db/database';
import type { Stack } from './stack';

const databases = new WeakMap<Stack, HeraldDb>();

export function dbOf(stack: Stack): HeraldDb {
  let db = databases.get(stack);
  if (!db) {
    db = openDatabase(stack.database);
    databases.set(stack, db);
  }
  return db;
}

/** Closes the stack's connection, if the bench opened one; before the stack stops. */
export async function closeDbOf(stack: Stack): Promise<void> {
  await databases.get(stack)?.destroy();
}

/** count(*) is a number on SQLite and a bigint string on PostgreSQL. */
export async function countOf(query: { executeTakeFirstOrThrow(): Promise<{ n: unknown }> }): Promise<number> {
  return Number((await query.executeTakeFirstOrThrow()).n);
}
