import type { Consents } from '../src/domain/consent';
import type { ProfileRepository } from '../src/repositories/profiles';

export interface ResolveProfileInput {
  namespace: string;
  userId: string;
  createMissing: boolean;
  executionId: string;
  seedAttributes: Record<string, unknown>;
}

export interface ResolvedProfile {
  profile?: { attributes: Record<string, unknown>; consents: Consents };
  created: boolean;
}

/** Finds the recipient's profile, creating it when the campaign allows; only what the workflow needs. */
export async function resolveProfile(profiles: ProfileRepository, input: ResolveProfileInput): Promise<ResolvedProfile> {
  const { profile, created } = await profiles.resolve(input.namespace, input.userId, input);
  return { created, ...(profile && { profile: { attributes: profile.attributes, consents: profile.consents } }) };
}

export function profileActivities(profiles: ProfileRepository) {
  return {
    /** One recipient per call: the trigger workflow's path before prepareRecipients, kept for replay. */
    resolveRecipientProfile: (input: ResolveProfileInput): Promise<ResolvedProfile> => resolveProfile(profiles, input),
  };
}
