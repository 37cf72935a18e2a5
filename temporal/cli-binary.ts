import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { EphemeralServerExecutable } from '@temporalio/testing';

/** Newer CLI tags carry a local `replace` directive and cannot be `go install`ed. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const CLI_MODULE = `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`;

/** Outside the repo, so fresh clones on the same machine reuse one build. */
export function heraldCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'herald');
}

export function cachedCliPath(): string {
  return join(heraldCacheDir(), 'temporal-cli', TEMPORAL_CLI_VERSION, 'temporal');
}

function hasGo(): boolean {
  return spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
}

function goInstall(targetDir: string, log: (line: string) => void): boolean {
  mkdirSync(targetDir, { recursive: true });
  const run = (extraEnv: Record<string, string>) =>
    spawnSync('go', ['install', CLI_MODULE], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, GOBIN: targetDir, ...extraEnv } }).status === 0;
  log(`building the Temporal CLI ${TEMPORAL_CLI_VERSION} with go install (first run only, a few minutes) ...`);
  if (run({})) return true;
  // Only the checksum database may be out of reach; the module's go.sum still pins every dependency.
  log('go install failed; retrying once with GOSUMDB=off in case the checksum database is unreachable');
  return run({ GOSUMDB: 'off' });
}

/**
 * Finds a Temporal CLI: TEMPORAL_CLI_PATH, else the cached build, else a fresh `go install`,
 * else (no Go, e.g. a laptop with internet) the SDK's own download into the cache.
 */
export function resolveTemporalExecutable(explicitPath: string | undefined, log: (line: string) => void = console.log): EphemeralServerExecutable {
  if (explicitPath) {
    if (!existsSync(explicitPath)) throw new Error(`TEMPORAL_CLI_PATH=${explicitPath} does not exist; point it at a temporal binary or unset it`);
    return { type: 'existing-path', path: explicitPath };
  }
  const cached = cachedCliPath();
  if (existsSync(cached)) return { type: 'existing-path', path: cached };
  if (hasGo() && goInstall(join(cached, '..'), log) && existsSync(cached)) return { type: 'existing-path', path: cached };
  log('Go is not available (or go install failed): letting the Temporal SDK download the dev server');
  return { type: 'cached-download', downloadDir: join(heraldCacheDir(), 'sdk-download') };
}
