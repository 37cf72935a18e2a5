import type { Migration, MigrationProvider } from 'kysely';
import { initial } from './0001-initial';
import { orphanSweep } from './0002-orphan-sweep';
import { referencesNotContent } from './0003-references-not-content';
import { apiKeysAndAuditLog } from './0004-api-keys-and-audit-log';
import { queryableProfiles } from './0005-queryable-profiles';
import { rateLimitCounters } from './0006-rate-limit-counters';
import { channelConfigurations } from './0007-channel-configurations';
import { locales } from './0008-locales';
import { contextSchema } from './0009-context-schema';
import { tracking } from './0011-tracking';
import { campaignVersions } from './0012-campaign-versions';
import { pushTokens } from './0013-push-tokens';
import { audiences } from './0014-audiences';
import { audienceExecutions } from './0015-audience-executions';
import { cappingAndQuietHours } from './0016-capping-and-quiet-hours';
import { providerFeedback } from './0017-provider-feedback';
import { webhooks } from './0019-webhooks';
import { reportRollups } from './0020-report-rollups';
import { executionListing } from './0021-execution-listing';
import { profileIdsAndErasure } from './0022-profile-ids-and-erasure';
import { campaignSteps } from './0023-campaign-steps';
import { preferences } from './0024-preferences';
import { topics } from './0025-topics';
import { inAppInbox } from './0026-in-app-inbox';
import { providerFailover } from './0027-provider-failover';
import { inboxChanges } from './0030-inbox-changes';
import { highThroughput } from './0031-high-throughput';
import { unloggedRateLimitCounters } from './0032-unlogged-rate-limit-counters';

/** Migrations are listed in code, not discovered on disk, so bundlers and tsx see the same set. */
export const migrationProvider: MigrationProvider = {
  async getMigrations(): Promise<Record<string, Migration>> {
    return {
      '0001-initial': initial,
      '0002-orphan-sweep': orphanSweep,
      '0003-references-not-content': referencesNotContent,
      '0004-api-keys-and-audit-log': apiKeysAndAuditLog,
      '0005-queryable-profiles': queryableProfiles,
      '0006-rate-limit-counters': rateLimitCounters,
      '0007-channel-configurations': channelConfigurations,
      '0008-locales': locales,
      '0009-context-schema': contextSchema,
      '0011-tracking': tracking,
      '0012-campaign-versions': campaignVersions,
      '0013-push-tokens': pushTokens,
      '0014-audiences': audiences,
      '0015-audience-executions': audienceExecutions,
      '0016-capping-and-quiet-hours': cappingAndQuietHours,
      '0017-provider-feedback': providerFeedback,
      '0019-webhooks': webhooks,
      '0020-report-rollups': reportRollups,
      '0021-execution-listing': executionListing,
      '0022-profile-ids-and-erasure': profileIdsAndErasure,
      '0023-campaign-steps': campaignSteps,
      '0024-preferences': preferences,
      '0025-topics': topics,
      '0026-in-app-inbox': inAppInbox,
      '0027-provider-failover': providerFailover,
      '0030-inbox-changes': inboxChanges,
      '0031-high-throughput': highThroughput,
      '0032-unlogged-rate-limit-counters': unloggedRateLimitCounters,
    };
  },
};
