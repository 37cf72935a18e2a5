import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '../config/env';
import { loadOrCreateSecretFile, type SecretFile } from './secret-file';

/** The file `npm start` keeps its payload key in, in HERALD_PAYLOAD_KEYS format. */
export const PAYLOAD_KEY_FILE = 'payload-keys';

/** `value` is in HERALD_PAYLOAD_KEYS format: `id:base64key[,older-id:base64key...]`. */
export type PayloadKeyFile = SecretFile;

/**
 * The payload keys of the embedded default: `$HERALD_DATA_DIR/payload-keys`, created once with
 * one random AES-256 key and read on every later start, so workflow histories written before a
 * restart stay readable. To rotate, put a new `id:key` first and keep the old ones after it,
 * exactly as in HERALD_PAYLOAD_KEYS.
 */
export function loadOrCreatePayloadKeyFile(dataDir: string, now = new Date()): PayloadKeyFile {
  return loadOrCreateSecretFile({
    dataDir,
    fileName: PAYLOAD_KEY_FILE,
    setting: 'HERALD_PAYLOAD_KEYS',
    what: 'payload key list',
    fresh: () => `local-${now.toISOString().slice(0, 10)}:${randomBytes(32).toString('base64')}`,
    validate: (value) => {
      if (!loadConfig({ HERALD_PAYLOAD_KEYS: value }).payloadKeys) throw new ConfigError('HERALD_PAYLOAD_KEYS: the file is empty');
    },
  });
}
