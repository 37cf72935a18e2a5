import type { ResolvedProfile, ResolveProfileInput } from '../src/domain/profile-resolution';
import type { ProfileRepository } from '../src/repositories/profiles';

export type { ResolvedProfile, ResolveProfileInput };

/** Finds the recipient's profile, creating it when the campaign allows; only what the workflow needs. */
export async function resolveProfile(profiles: ProfileRepository, input: ResolveProfileInput): Promise<ResolvedProfile> {
  const { profile, created } = await profiles.resolve(input.namespace, input.userId, input);
  const pushTokens =
    profile && input.withPushTokens
      ? (await profiles.pushTokens(input.namespace, input.userId)).map(({ appID, platform, token }) => ({ appID, platform, token }))
      : undefined;
  return {
    created,
    ...(profile && {
      profile: {
        attributes: profile.attributes,
        consents: profile.consents,
        ...(profile.locale && { locale: profile.locale }),
        ...(pushTokens && { pushTokens }),
      },
    }),
  };
}

export function profileActivities(profiles: ProfileRepository) {
  return {
    /** One recipient per call: the trigger workflow's path before prepareRecipients, kept for replay. */
    resolveRecipientProfile: (input: ResolveProfileInput): Promise<ResolvedProfile> => resolveProfile(profiles, input),
  };
}
