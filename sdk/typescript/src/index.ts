export {
  createHeraldClient,
  type AudienceTriggerInput,
  type AudienceTriggerResult,
  type HeraldClient,
  type HeraldClientOptions,
  type Replayable,
  type TriggerCallOptions,
  type TriggerInput,
  type TriggerResult,
} from './create-herald-client.js';
export { retryAfterMs, type Fetch, type RetryOptions } from './retrying-fetch.js';
export { retryClassOf, type RetryClass } from './retry-policy.js';
export { TriggerNotAnsweredError, TriggerRejectedError } from './trigger-errors.js';
export type { components, operations, paths } from './generated/openapi.js';
