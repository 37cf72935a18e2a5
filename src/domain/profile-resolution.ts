import type { Consents } from './consent';

/** Finding a recipient's profile, creating it when the campaign allows (keyed by the execution, so retries agree). */
export interface ResolveProfileInput {
  namespace: string;
  userId: string;
  createMissing: boolean;
  executionId: string;
  seedAttributes: Record<string, unknown>;
}

/** Only what preparation needs of a profile. */
export interface ResolvedProfile {
  profile?: { attributes: Record<string, unknown>; consents: Consents };
  created: boolean;
}
