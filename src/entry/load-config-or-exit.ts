import { ConfigError, loadConfig, type HeraldConfig } from '../config/env';

/** Fails fast on a bad environment with the message that says how to fix it. */
export function loadConfigOrExit(): HeraldConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}
