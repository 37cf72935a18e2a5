import type { Client } from '@temporalio/client';
import type { HeraldConfig } from '../config/env';
import type { HeraldDb } from '../db/database';
import { ApiKeyRepository } from '../repositories/api-keys';
import { AuditLogRepository } from '../repositories/audit-log';
import { CampaignRepository } from '../repositories/campaigns';
import { ChannelConfigurationRepository } from '../repositories/channel-configurations';
import { ExecutionRepository } from '../repositories/executions';
import { DurableClaims } from '../repositories/durable-claims';
import { StartWait } from './start-wait';
import { OutboxRepository } from '../repositories/outbox';
import { ProfileRepository } from '../repositories/profiles';

export interface ServiceDependencies {
  config: HeraldConfig;
  db: HeraldDb;
  temporal: Client;
  campaigns: CampaignRepository;
  profiles: ProfileRepository;
  executions: ExecutionRepository;
  outbox: OutboxRepository;
  apiKeys: ApiKeyRepository;
  auditLog: AuditLogRepository;
  channelConfigurations: ChannelConfigurationRepository;
  /** Claims synced to disk before the answer, committed in groups (one per process: the grouping is its state). */
  durableClaims: DurableClaims;
  /** How long a unitary trigger's answer waits for its workflow's start (one per process: it counts the starts in flight). */
  startWait: StartWait;
}

export function serviceDependencies(config: HeraldConfig, db: HeraldDb, temporal: Client): ServiceDependencies {
  const executions = new ExecutionRepository(db);
  return {
    config,
    db,
    temporal,
    campaigns: new CampaignRepository(db),
    profiles: new ProfileRepository(db),
    executions,
    outbox: new OutboxRepository(db),
    apiKeys: new ApiKeyRepository(db),
    auditLog: new AuditLogRepository(db),
    channelConfigurations: new ChannelConfigurationRepository(db),
    durableClaims: new DurableClaims(db, executions),
    startWait: new StartWait(config.temporal.startWaitMs),
  };
}
