/** Where the cluster keeps its data: one PostgreSQL server, two databases (history and visibility). */
export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  /** Empty for trust authentication. Only ever passed through the environment, never on a command line. */
  password: string;
  /** The database the admin URL names (usually `postgres`): where databases are created and dropped from. */
  maintenanceDatabase: string;
  database: string;
  visibilityDatabase: string;
}

/** The server and role of a `postgres://user:password@host:port/db` URL, with the cluster's database names. */
export function postgresTarget(adminUrl: string, database: string, visibilityDatabase: string): PostgresTarget {
  const url = new URL(adminUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    maintenanceDatabase: decodeURIComponent(url.pathname.slice(1)) || 'postgres',
    database,
    visibilityDatabase,
  };
}
