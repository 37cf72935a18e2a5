import type { Consents } from './consent';
import type { PushTarget } from './push';

/** Finding a recipient's profile, creating it when the campaign allows (keyed by the execution, so retries agree). */
export interface ResolveProfileInput {
  namespace: string;
  userId: string;
  createMissing: boolean;
  executionId: string;
  seedAttributes: Record<string, unknown>;
  /** Push campaigns: also answer the profile's stored push tokens (absent for other channels, so their inputs stay as recorded). */
  withPushTokens?: true;
}

/** Only what preparation needs of a profile. */
export interface ResolvedProfile {
  /** `locale` (a canonical BCP 47 tag) chooses the content's language variant; absent or null: the default. */
  profile?: { attributes: Record<string, unknown>; consents: Consents; locale?: string | null; pushTokens?: PushTarget[] };
  created: boolean;
}
