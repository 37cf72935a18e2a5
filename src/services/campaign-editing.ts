import { DomainError, notFound } from '../domain/errors';
import type { Campaign } from '../domain/campaign';
import type { CampaignDraft, CampaignEdit } from '../repositories/campaigns';
import type { ServiceDependencies } from './service-dependencies';
import { withTransaction } from './transaction';
import { editsAsNewVersion, type CampaignWithDraft } from '../domain/campaign-version';
import { editLiveCampaign } from './campaign-versions';
import { assertMarketingOnlyFields } from '../domain/marketing-only';
import { assertValidSteps } from '../domain/campaign-steps-validation';

/** Creates a draft and its audit entry in one transaction. */
export function createCampaign(deps: ServiceDependencies, draft: CampaignDraft, actorKeyId: string): Promise<Campaign> {
  assertMarketingOnlyFields(draft);
  assertValidSteps(draft.steps, draft.channel);
  return withTransaction(deps, async ({ campaigns, auditLog }) => {
    const campaign = await campaigns.create(draft);
    await auditLog.record({ actorKeyId, action: 'campaign.created', resourceType: 'campaign', resourceId: campaign.id, after: campaign });
    return campaign;
  });
}

/**
 * Edits a draft (a new version) and records the campaign before and after, in one transaction.
 * A scheduled or live campaign gets a new draft version instead; its live version keeps serving.
 */
export async function editCampaign(deps: ServiceDependencies, id: string, edit: CampaignEdit, actorKeyId: string): Promise<CampaignWithDraft> {
  const current = await deps.campaigns.get(id);
  if (current && editsAsNewVersion(current.status)) return editLiveCampaign(deps, id, edit, actorKeyId);
  return withTransaction(deps, async ({ campaigns, auditLog }) => {
    const before = await campaigns.get(id);
    if (!before) throw notFound(`Campaign ${id}`);
    // The campaign as the edit leaves it (a null clears a field).
    assertMarketingOnlyFields({
      type: edit.type ?? before.type,
      capping: edit.capping === undefined ? before.capping : edit.capping,
      quietHours: edit.quietHours === undefined ? before.quietHours : edit.quietHours,
    });
    assertValidSteps(edit.steps === undefined ? before.steps : edit.steps, edit.channel ?? before.channel);
    const after = before.status === 'draft' ? await campaigns.editDraft(id, edit) : undefined;
    if (!after)
      throw new DomainError('conflict', 'campaign-not-draft', 'Only drafts can be edited', `Campaign ${id} is ${before.status}; only a draft can be edited.`);
    await auditLog.record({ actorKeyId, action: 'campaign.updated', resourceType: 'campaign', resourceId: id, before, after });
    return after;
  });
}
