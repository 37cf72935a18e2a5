import type { Client } from '@temporalio/client';
import type { EmailProvider } from '../src/channels/email/email-provider';
import type { HeraldDb } from '../src/db/database';
import { CampaignRepository } from '../src/repositories/campaigns';
import { ExecutionRepository } from '../src/repositories/executions';
import { ProfileRepository } from '../src/repositories/profiles';
import { campaignActivities } from './campaign-activities';
import { executionActivities } from './execution-activities';
import { orphanSweepActivities } from './orphan-sweep-activities';
import { prepareRecipientsActivities } from './prepare-recipients';
import { profileActivities } from './profile-activities';
import { renderActivities } from './render-activities';
import { sendEmailActivities } from './send-email';

export interface ActivityDependencies {
  db: HeraldDb;
  emailProvider: EmailProvider;
  emailFrom: string;
  /** Asks Temporal whether an execution's workflow exists, for the orphan sweep. */
  temporal: Client;
  orphanGraceSeconds: number;
}

export function createActivities(deps: ActivityDependencies) {
  const campaigns = new CampaignRepository(deps.db);
  const profiles = new ProfileRepository(deps.db);
  const executions = new ExecutionRepository(deps.db);
  return {
    ...campaignActivities(campaigns),
    ...profileActivities(profiles),
    ...prepareRecipientsActivities(profiles),
    ...executionActivities(executions),
    ...orphanSweepActivities(executions, deps.temporal, deps.orphanGraceSeconds),
    ...renderActivities(),
    ...sendEmailActivities(deps.emailProvider, deps.emailFrom),
  };
}

export type HeraldActivities = ReturnType<typeof createActivities>;
