import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { heraldCacheDir } from '../../temporal/cli-binary';

export const SCHEMATHESIS_VERSION = '4.32.5';

/** Installs schemathesis from PyPI into a cached venv once; returns its CLI, or undefined without Python. */
export function ensureSchemathesis(): string | undefined {
  const venv = join(heraldCacheDir(), `schemathesis-${SCHEMATHESIS_VERSION}`);
  const cli = join(venv, 'bin', 'schemathesis');
  if (existsSync(cli)) return cli;
  if (spawnSync('python3', ['--version'], { stdio: 'ignore' }).status !== 0) return undefined;
  const steps: [string, string[]][] = [
    ['python3', ['-m', 'venv', venv]],
    [join(venv, 'bin', 'pip'), ['install', '--quiet', `schemathesis==${SCHEMATHESIS_VERSION}`]],
  ];
  for (const [command, args] of steps) {
    if (spawnSync(command, args, { stdio: 'inherit' }).status !== 0) throw new Error(`could not provision schemathesis: ${command} ${args.join(' ')} failed`);
  }
  return cli;
}
