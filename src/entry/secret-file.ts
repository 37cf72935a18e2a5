import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/env';

export interface SecretFile {
  path: string;
  /** In the format of the setting it stands in for. A secret: never log it. */
  value: string;
  created: boolean;
}

export interface SecretFileSpec {
  dataDir: string;
  fileName: string;
  /** The environment variable the file stands in for, named in error messages. */
  setting: string;
  /** What the file holds, for error messages, e.g. "payload key list". */
  what: string;
  /** A new value, written when the file does not exist yet. */
  fresh(): string;
  /** Throws a ConfigError when a value read back is not valid for `setting`. */
  validate(value: string): void;
}

/**
 * A secret `npm start` keeps in `$HERALD_DATA_DIR` when its setting is unset: created once (mode
 * 0600) and read on every later start, so what it protected before a restart stays readable.
 * Never overwrites a file another start wrote in the meantime, and never puts the file's content
 * in an error message.
 */
export function loadOrCreateSecretFile(spec: SecretFileSpec): SecretFile {
  const path = join(spec.dataDir, spec.fileName);
  const fresh = spec.fresh();
  try {
    writeFileSync(path, `${fresh}\n`, { mode: 0o600, flag: 'wx' });
    return { path, value: fresh, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  const value = readFileSync(path, 'utf8').trim();
  try {
    spec.validate(value);
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new ConfigError(
        `${path} is not a valid ${spec.what}: ${
          error.message
            .split('\n')
            .find((line) => line.includes(spec.setting))
            ?.trim() ?? `see ${spec.setting}`
        }`,
      );
    }
    throw error;
  }
  return { path, value, created: false };
}
