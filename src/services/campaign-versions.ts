import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { isDeepStrictEqual } from 'node:util';
import type { Campaign } from '../domain/campaign';
import type { ReviewIssue } from '../domain/campaign-review';
import { editsAsNewVersion, FIXED_WHILE_ACTIVE, type CampaignVersion, type CampaignWithDraft } from '../domain/campaign-version';
import { contextReviewWarnings } from '../domain/context-review';
import { DomainError, notFound } from '../domain/errors';
import { isUniqueViolation } from '../db/unique-violation';
import { assertMarketingOnlyFields } from '../domain/marketing-only';
import { assertValidSteps } from '../domain/campaign-steps-validation';
import { AuditLogRepository } from '../repositories/audit-log';
import { CampaignRepository, type CampaignEdit } from '../repositories/campaigns';
import { applyEdit, atVersion, CampaignVersionRepository, versionFields } from '../repositories/campaign-versions';
import { activateVersionUpdate } from '../../workflows/campaign-activation';
import { activationWorkflowId } from '../../workflows/workflow-ids';
import type { ServiceDependencies } from './service-dependencies';

/** The switch runs an activity before the update answers: longer than a plain Temporal call. */
const VERSION_SWITCH_DEADLINE_MS = 30_000;

/** The campaign as GET answers it: its live version, with the number of a draft version waiting. */
export async function campaignWithDraft(deps: Pick<ServiceDependencies, 'db'>, campaign: Campaign): Promise<CampaignWithDraft> {
  if (campaign.status === 'draft') return campaign;
  const draft = await new CampaignVersionRepository(deps.db).pendingDraft(campaign.id, campaign.version);
  return draft ? { ...campaign, draftVersion: draft.version } : campaign;
}

/** Every version of a campaign, newest first. */
export async function listCampaignVersions(deps: ServiceDependencies, id: string): Promise<CampaignVersion[]> {
  const campaign = await deps.campaigns.get(id);
  if (!campaign) throw notFound(`Campaign ${id}`);
  return new CampaignVersionRepository(deps.db).list(id);
}

/**
 * PATCH on a scheduled or live campaign: the edit, laid over the draft version already waiting
 * (else over the live version), becomes a new draft version. The live version keeps serving
 * triggers until activation switches to the draft.
 */
export async function editLiveCampaign(deps: ServiceDependencies, id: string, edit: CampaignEdit, actorKeyId: string): Promise<CampaignWithDraft> {
  try {
    return await deps.db.transaction().execute(async (trx) => {
      const campaigns = new CampaignRepository(trx);
      const versions = new CampaignVersionRepository(trx);
      const campaign = await campaigns.get(id);
      if (!campaign) throw notFound(`Campaign ${id}`);
      if (!editsAsNewVersion(campaign.status)) {
        throw new DomainError(
          'conflict',
          'campaign-not-draft',
          'Only drafts and active campaigns can be edited',
          `Campaign ${id} is ${campaign.status}; it can no longer be edited.`,
        );
      }
      const live = versionFields(campaign);
      const pending = await versions.pendingDraft(id, campaign.version);
      const fields = applyEdit(pending?.fields ?? live, edit as Record<string, unknown>);
      assertMarketingOnlyFields(fields);
      assertValidSteps(fields.steps, fields.channel);
      const fixed = FIXED_WHILE_ACTIVE.filter((key) => !isDeepStrictEqual(fields[key] ?? null, live[key] ?? null));
      if (fixed.length > 0) {
        throw new DomainError(
          'conflict',
          'campaign-field-fixed-while-active',
          'This field cannot change on an active campaign',
          `Campaign ${id} is ${campaign.status}: a new version cannot change ${fixed.join(', ')}. Stop it and create a new campaign instead.`,
          fixed.map((field) => ({ field, message: 'cannot change while the campaign is scheduled or live' })),
        );
      }
      const version = await versions.insertDraft(id, fields, new Date().toISOString());
      const before = pending ? { ...campaign, draftVersion: pending.version } : campaign;
      const after = { ...campaign, draftVersion: version, draft: fields };
      await new AuditLogRepository(trx).record({ actorKeyId, action: 'campaign.updated', resourceType: 'campaign', resourceId: id, before, after });
      return { ...campaign, draftVersion: version };
    });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    throw new DomainError('conflict', 'campaign-edit-conflict', 'Concurrent edit', `Campaign ${id} was edited by another request at the same moment; retry.`);
  }
}

/**
 * Activation of a scheduled or live campaign's draft version: the draft is reviewed like a draft
 * campaign, then the campaign's activation workflow switches to it (its activateVersion update),
 * so the switch is part of the campaign's history in Temporal. Undefined when no draft waits.
 */
export async function activateDraftVersion(
  deps: ServiceDependencies,
  campaign: Campaign,
  actorKeyId: string,
  /** The activation review (services/campaign-lifecycle.ts), the same for a draft campaign and a draft version. */
  review: (candidate: Campaign) => Promise<ReviewIssue[]>,
): Promise<(Campaign & { warnings: ReviewIssue[] }) | undefined> {
  if (!editsAsNewVersion(campaign.status)) return undefined;
  const draft = await new CampaignVersionRepository(deps.db).pendingDraft(campaign.id, campaign.version);
  if (!draft) return undefined;
  const candidate = atVersion(campaign, draft.version, draft.fields);
  const issues = await review(candidate);
  if (issues.length > 0) {
    throw new DomainError(
      'unprocessable',
      'campaign-review-failed',
      'The draft version did not pass review',
      `${issues.length} problem(s) block activation of version ${draft.version}; see errors.`,
      issues,
    );
  }
  try {
    const handle = deps.temporal.workflow.getHandle(activationWorkflowId(campaign.id));
    await deps.temporal.withDeadline(Date.now() + VERSION_SWITCH_DEADLINE_MS, () =>
      handle.executeUpdate(activateVersionUpdate, { args: [{ version: draft.version, actorKeyId }] }),
    );
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      throw new DomainError(
        'conflict',
        'campaign-not-active',
        'Campaign is not active',
        `Campaign ${campaign.id} has no running activation workflow; its versions cannot be switched.`,
      );
    }
    if (error instanceof WorkflowUpdateFailedError) {
      const cause = error.cause instanceof ApplicationFailure ? error.cause : undefined;
      throw new DomainError(
        'conflict',
        'campaign-version-not-activated',
        'The version could not be activated',
        `Version ${draft.version} of campaign ${campaign.id} was not activated: ${cause?.message ?? error.message}`,
      );
    }
    throw error;
  }
  const after = await deps.campaigns.get(campaign.id);
  if (!after) throw notFound(`Campaign ${campaign.id}`);
  return { ...(await campaignWithDraft(deps, after)), warnings: contextReviewWarnings(after) };
}
