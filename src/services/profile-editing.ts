import type { Consents } from '../domain/consent';
import type { PushTarget } from '../domain/push';
import type { Profile } from '../repositories/profiles';
import type { ServiceDependencies } from './service-dependencies';
import { withTransaction } from './transaction';

/**
 * Creates or replaces a profile and records who did it, in one transaction. The audit entry
 * names the profile by its internal id and copies none of its attributes: they are personal data.
 */
export function upsertProfile(
  deps: ServiceDependencies,
  profile: { namespace: string; userId: string; attributes: Record<string, unknown>; consents?: Consents; locale?: string | null },
  actorKeyId: string,
): Promise<{ profile: Profile; created: boolean }> {
  return withTransaction(deps, async ({ profiles, auditLog }) => {
    const result = await profiles.upsert(profile.namespace, profile.userId, profile.attributes, profile.consents, profile.locale);
    await auditLog.record({
      actorKeyId,
      action: result.created ? 'profile.created' : 'profile.updated',
      resourceType: 'profile',
      resourceId: await auditLog.profileResourceId(profile.namespace, profile.userId),
    });
    return result;
  });
}

/**
 * Registers a device's push token on an existing profile (false when the profile does not exist)
 * and records who did it; the audit entry names the profile, never the token.
 */
export function registerPushToken(
  deps: ServiceDependencies,
  input: { namespace: string; userId: string; target: PushTarget },
  actorKeyId: string,
): Promise<boolean> {
  return withTransaction(deps, async ({ profiles, auditLog }) => {
    const registered = await profiles.putPushToken(input.namespace, input.userId, input.target);
    if (registered)
      await auditLog.record({
        actorKeyId,
        action: 'profile.updated',
        resourceType: 'profile',
        resourceId: await auditLog.profileResourceId(input.namespace, input.userId),
      });
    return registered;
  });
}
