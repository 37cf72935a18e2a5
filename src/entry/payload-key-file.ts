import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config/env';

/** The file `npm start` keeps its payload key in, in HERALD_PAYLOAD_KEYS format. */
export const PAYLOAD_KEY_FILE = 'payload-keys';

export interface PayloadKeyFile {
  path: string;
  /** HERALD_PAYLOAD_KEYS format: `id:base64key[,older-id:base64key...]`. A secret: never log it. */
  value: string;
  created: boolean;
}

/**
 * The payload keys of the embedded default: `$HERALD_DATA_DIR/payload-keys`, created once with
 * one random AES-256 key (mode 0600) and read on every later start, so workflow histories written
 * before a restart stay readable. To rotate, put a new `id:key` first and keep the old ones after
 * it, exactly as in HERALD_PAYLOAD_KEYS.
 */
export function loadOrCreatePayloadKeyFile(dataDir: string, now = new Date()): PayloadKeyFile {
  const path = join(dataDir, PAYLOAD_KEY_FILE);
  const fresh = `local-${now.toISOString().slice(0, 10)}:${randomBytes(32).toString('base64')}`;
  try {
    // 'wx': never overwrite a key another start wrote in the meantime.
    writeFileSync(path, `${fresh}\n`, { mode: 0o600, flag: 'wx' });
    return { path, value: fresh, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  const value = readFileSync(path, 'utf8').trim();
  try {
    if (!loadConfig({ HERALD_PAYLOAD_KEYS: value }).payloadKeys) throw new ConfigError('HERALD_PAYLOAD_KEYS: the file is empty');
  } catch (error) {
    if (error instanceof ConfigError) {
      // The message names the format, never the file's content.
      throw new ConfigError(`${path} is not a valid payload key list: ${error.message.split('\n').find((line) => line.includes('HERALD_PAYLOAD_KEYS'))?.trim() ?? 'see HERALD_PAYLOAD_KEYS'}`);
    }
    throw error;
  }
  return { path, value, created: false };
}
