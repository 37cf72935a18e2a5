import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '../config/env';
import { loadOrCreateSecretFile, type SecretFile } from './secret-file';

/** The file `npm start` keeps its tracking key in, in HERALD_TRACKING_SECRET format. */
export const TRACKING_SECRET_FILE = 'tracking-secret';

/** `value` is in HERALD_TRACKING_SECRET format: `secret[,older-secret...]`. */
export type TrackingSecretFile = SecretFile;

/**
 * The tracking key of the embedded default: `$HERALD_DATA_DIR/tracking-secret`, created once
 * with 32 random bytes and read on every later start, so links in emails sent before a restart
 * still verify. To rotate, put a new secret first and keep the old one after it, as in
 * HERALD_TRACKING_SECRET.
 */
export function loadOrCreateTrackingSecretFile(dataDir: string): TrackingSecretFile {
  return loadOrCreateSecretFile({
    dataDir,
    fileName: TRACKING_SECRET_FILE,
    setting: 'HERALD_TRACKING_SECRET',
    what: 'tracking secret',
    fresh: () => randomBytes(32).toString('base64url'),
    validate: (value) => {
      if (loadConfig({ HERALD_TRACKING_SECRET: value }).tracking.secrets.length === 0) throw new ConfigError('HERALD_TRACKING_SECRET: the file is empty');
    },
  });
}
