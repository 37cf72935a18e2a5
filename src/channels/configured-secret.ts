import type { HeraldConfig } from '../config/env';
import { ProviderUnavailableError } from './provider-errors';

/**
 * The value of the environment variable a channel configuration names, read only from those this
 * worker may hand to a provider (HERALD_SENDER_ENV). Missing or not allowed is an outage, not a
 * refusal: the send is retried, so an operator can set the variable and restart the worker.
 */
export function configuredSecret(sender: HeraldConfig['sender'], configurationId: string, name: string): string {
  if (!sender.envNames.includes(name)) {
    throw new ProviderUnavailableError(`channel configuration ${configurationId} names ${name}, which this worker may not read: add it to HERALD_SENDER_ENV`);
  }
  const value = sender.secrets[name];
  if (!value) throw new ProviderUnavailableError(`channel configuration ${configurationId} names ${name}, which is not set in this worker`);
  return value;
}
