import { ApiKeyRepository } from '../repositories/api-keys';
import { AuditLogRepository } from '../repositories/audit-log';
import { CampaignRepository } from '../repositories/campaigns';
import { ChannelConfigurationRepository } from '../repositories/channel-configurations';
import { ProfileRepository } from '../repositories/profiles';
import type { ServiceDependencies } from './service-dependencies';

/** The repositories a change and its audit entry share; all bound to one transaction. */
export interface TransactionRepositories {
  campaigns: CampaignRepository;
  profiles: ProfileRepository;
  apiKeys: ApiKeyRepository;
  auditLog: AuditLogRepository;
  channelConfigurations: ChannelConfigurationRepository;
}

/**
 * Runs `work` in one database transaction, so a change and its audit entry commit or roll back
 * together. Never call Temporal inside: the transaction holds the database while it runs.
 */
export function withTransaction<T>(deps: Pick<ServiceDependencies, 'db'>, work: (repositories: TransactionRepositories) => Promise<T>): Promise<T> {
  return deps.db.transaction().execute((trx) =>
    work({
      campaigns: new CampaignRepository(trx),
      profiles: new ProfileRepository(trx),
      apiKeys: new ApiKeyRepository(trx),
      auditLog: new AuditLogRepository(trx),
      channelConfigurations: new ChannelConfigurationRepository(trx),
    }),
  );
}
