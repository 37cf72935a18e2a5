import { ApplicationFailure } from '@temporalio/activity';
import type { HeraldDb } from '../src/db/database';
import { editsAsNewVersion, FIXED_WHILE_ACTIVE } from '../src/domain/campaign-version';
import { AuditLogRepository } from '../src/repositories/audit-log';
import { CampaignRepository, draftColumns, type CampaignEdit } from '../src/repositories/campaigns';
import { CampaignVersionRepository, versionFields } from '../src/repositories/campaign-versions';

export interface SwitchCampaignVersionInput {
  campaignId: string;
  version: number;
  actorKeyId: string;
}

export function campaignVersionActivities(db: HeraldDb) {
  return {
    /**
     * The activateVersion update's one step: makes a draft version the campaign's live version,
     * in one transaction with its audit entry. The campaign's row takes the version's fields and
     * number (triggers accepted from then on record it); the old live version is superseded.
     * Safe to retry: once the campaign is at `version`, it does nothing.
     */
    async switchCampaignVersion({ campaignId, version, actorKeyId }: SwitchCampaignVersionInput): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const campaigns = new CampaignRepository(trx);
        const versions = new CampaignVersionRepository(trx);
        const before = await campaigns.get(campaignId);
        if (!before) throw ApplicationFailure.nonRetryable(`Campaign ${campaignId} does not exist`, 'CampaignNotFound');
        if (before.version === version) return;
        if (!editsAsNewVersion(before.status)) throw ApplicationFailure.nonRetryable(`Campaign ${campaignId} is ${before.status}`, 'CampaignNotActive');
        const fields = version > before.version && (await versions.isDraft(campaignId, version)) ? await versions.fields(campaignId, version) : undefined;
        if (!fields)
          throw ApplicationFailure.nonRetryable(
            `Version ${version} of campaign ${campaignId} is not a draft waiting for activation`,
            'CampaignVersionNotDraft',
          );

        // Every versioned field the new version does not have is cleared; the fixed ones stay.
        const edit: Record<string, unknown> = {};
        for (const key of Object.keys(versionFields(before))) if (!(key in fields)) edit[key] = null;
        Object.assign(edit, fields);
        for (const key of FIXED_WHILE_ACTIVE) delete edit[key];
        const now = new Date().toISOString();
        const switched = await trx
          .updateTable('campaigns')
          .set({ ...draftColumns(edit as CampaignEdit), version, updated_at: now })
          .where('id', '=', campaignId)
          .where('version', '=', before.version)
          .executeTakeFirst();
        if (Number(switched.numUpdatedRows) === 0) throw new Error(`Campaign ${campaignId} changed during the switch; retrying`);
        await versions.markLive(campaignId, version, now);
        const after = await campaigns.get(campaignId);
        await new AuditLogRepository(trx).record({
          actorKeyId,
          action: 'campaign.version-activated',
          resourceType: 'campaign',
          resourceId: campaignId,
          before,
          after: after!,
        });
      });
    },
  };
}
