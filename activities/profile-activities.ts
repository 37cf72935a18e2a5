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

export function profileActivities(profiles: ProfileRepository) {
  return {
    async resolveRecipientProfile(input: ResolveProfileInput): Promise<ResolvedProfile> {
      const { profile, created } = await profiles.resolve(input.namespace, input.userId, input);
      return { created, ...(profile && { profile: { attributes: profile.attributes, consents: profile.consents } }) };
    },
  };
}
