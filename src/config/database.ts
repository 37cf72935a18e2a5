import { resolve } from 'node:path';
import { z } from 'zod';
import type { DatabaseTarget } from '../db/database';
import { POSTGRES_URL } from '../db/dialect';
import { optionalString } from './zod-helpers';

/** Where Herald keeps its data: PostgreSQL at DATABASE_URL, else the SQLite file under HERALD_DATA_DIR. */
export const databaseVariables = z.object({
  HERALD_DATA_DIR: z.string().min(1).default('./.data'),
  HERALD_DB_PATH: optionalString,
  // Never echo the value in a message: a connection string can hold a password.
  DATABASE_URL: optionalString.refine((value) => value === undefined || isPostgresUrl(value), {
    message:
      'DATABASE_URL must be a PostgreSQL connection URL such as postgres://user:password@host:5432/herald (postgres:// or postgresql://); leave it unset for the embedded SQLite database',
  }),
});

export type DatabaseVariables = z.infer<typeof databaseVariables>;

export interface DatabaseConfig {
  dataDir: string;
  /** The SQLite file of the embedded default; unused when `database` is PostgreSQL. */
  databasePath: string;
  /** PostgreSQL when DATABASE_URL is set, else SQLite at `databasePath`. */
  database: DatabaseTarget;
}

export function databaseConfig(e: DatabaseVariables): DatabaseConfig {
  const dataDir = resolve(e.HERALD_DATA_DIR);
  return {
    dataDir,
    databasePath: e.HERALD_DB_PATH ? resolve(e.HERALD_DB_PATH) : resolve(dataDir, 'herald.db'),
    database: e.DATABASE_URL
      ? { dialect: 'postgres', url: e.DATABASE_URL }
      : { dialect: 'sqlite', path: e.HERALD_DB_PATH ? resolve(e.HERALD_DB_PATH) : resolve(dataDir, 'herald.db') },
  };
}

/** postgres:// or postgresql:// with a host; parsed, not just matched. */
function isPostgresUrl(value: string): boolean {
  if (!POSTGRES_URL.test(value)) return false;
  try {
    return new URL(value).hostname !== '' || /[?&]host=/.test(value);
  } catch {
    return false;
  }
}
