/** What the audit log records changes to. */
export const AUDIT_RESOURCE_TYPES = [
  'campaign',
  'api_key',
  'profile',
  'channel_configuration',
  'capping_rule',
  'audience',
  'suppression',
  'webhook_endpoint',
  'category',
  'topic',
] as const;
export type AuditResourceType = (typeof AUDIT_RESOURCE_TYPES)[number];

export const AUDIT_ACTIONS = [
  'campaign.created',
  'campaign.updated',
  'campaign.activated',
  /** A draft version replaced the live one (the activation workflow's activateVersion update). */
  'campaign.version-activated',
  'campaign.stopped',
  'api_key.created',
  'api_key.revoked',
  'profile.created',
  'profile.updated',
  /** A bulk import (POST /v1/profiles/import): one entry per import, resource id `import`, counts only. */
  'profile.imported',
  /** DELETE /v1/profiles/{namespace}/{userId} (GDPR Art. 17): resource id the profile's internal id (`erased` when there was no profile), counts only. */
  'profile.erased',
  /** A person's preferences (docs/preferences.md): over the API, the subscriber's inbox, or the hosted page. */
  'profile.preferences-updated',
  'channel_configuration.created',
  'channel_configuration.updated',
  'channel_configuration.deleted',
  'capping_rule.set',
  'capping_rule.deleted',
  'audience.created',
  'audience.deleted',
  /** The suppression list (resource id `<channel>/<address>`; an import: `import`, counts only). */
  'suppression.added',
  'suppression.deleted',
  'suppression.imported',
  /** Feedback webhook endpoints (never their secret). */
  'webhook_endpoint.created',
  'webhook_endpoint.updated',
  'webhook_endpoint.deleted',
  /** Categories of campaigns (docs/preferences.md). */
  'category.created',
  'category.updated',
  'category.deleted',
  /** Topics (docs/topics.md): resource id the topic's key; their subscribers are not audited, as audience members are not. */
  'topic.created',
  'topic.deleted',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
