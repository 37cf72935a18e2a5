import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { TemporalServerBinaries } from '../server-binary';
import type { PostgresTarget } from './postgres-target';

/**
 * Temporal's persistence schema, set up the way Temporal documents it for PostgreSQL and
 * deploy/temporal/setup-schema.sh does it: `temporal-sql-tool create-database`, `setup-schema -v 0.0`
 * (the schema version table), then `update-schema` through every versioned step of the module's
 * schema/postgresql/v12. For fresh databases: `create-database` fails on one that exists.
 */
export function setupTemporalSchema(binaries: TemporalServerBinaries, target: PostgresTarget, log: (line: string) => void): void {
  const stores = [
    { database: target.database, versioned: join(binaries.postgresSchemaDir, 'temporal', 'versioned') },
    { database: target.visibilityDatabase, versioned: join(binaries.postgresSchemaDir, 'visibility', 'versioned') },
  ];
  for (const { database, versioned } of stores) {
    runSqlTool(binaries, target, database, 'create-database', '--defaultdb', target.maintenanceDatabase);
    runSqlTool(binaries, target, database, 'setup-schema', '--version', '0.0');
    runSqlTool(binaries, target, database, 'update-schema', '--schema-dir', versioned);
    log(`Temporal schema ready in ${database}`);
  }
}

/** Drops both databases (the server must be stopped). */
export function dropTemporalDatabases(binaries: TemporalServerBinaries, target: PostgresTarget): void {
  for (const database of [target.database, target.visibilityDatabase])
    runSqlTool(binaries, target, database, 'drop-database', '--defaultdb', target.maintenanceDatabase, '--force');
}

function runSqlTool(binaries: TemporalServerBinaries, target: PostgresTarget, database: string, ...args: string[]): void {
  const result = spawnSync(
    binaries.sqlTool,
    ['--plugin', 'postgres12', '--endpoint', target.host, '--port', String(target.port), '--user', target.user, '--database', database, ...args],
    {
      encoding: 'utf8',
      // The tool reads the password from SQL_PASSWORD, which keeps it out of `ps`.
      env: { ...process.env, SQL_PASSWORD: target.password },
      timeout: 300_000,
    },
  );
  if (result.status !== 0)
    throw new Error(`temporal-sql-tool ${args[0]} on ${database} failed (${result.status ?? result.signal}): ${result.stderr || result.stdout}`);
}
