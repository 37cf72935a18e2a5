import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { DomainError, notFound } from '../domain/errors';
import type { ServiceDependencies } from './service-dependencies';
import type { Campaign } from '../domain/campaign';
import { reviewCampaign, reviewCampaignSteps, reviewCategory, type ReviewIssue } from '../domain/campaign-review';
import { CategoryRepository } from '../repositories/categories';
import { contextReviewWarnings } from '../domain/context-review';
import { campaignActivation, stopCampaignSignal } from '../../workflows/campaign-activation';
import { CampaignIdAttribute, CampaignTypeAttribute, ChannelAttribute } from '../../workflows/search-attributes';
import { activationWorkflowId } from '../../workflows/workflow-ids';
import { withCallDeadline } from '../temporal-client/connection';
import type { CampaignRepository } from '../repositories/campaigns';
import type { AuditAction } from '../domain/audit';
import { withTransaction } from './transaction';
import { reviewChannelConfiguration } from '../domain/channel-configuration';
import { senderEnvPresence } from './channel-configurations';
import { activateDraftVersion } from './campaign-versions';
import { reviewTracking } from '../domain/tracking';
import { isHighThroughput, reviewHighThroughput } from '../domain/high-throughput';
import { dispatcherSettingOf, ensureHighThroughputDispatchers } from './high-throughput-dispatchers';
import { channelRulesOf } from '../channels/registry';

async function requireCampaign(campaigns: CampaignRepository, id: string): Promise<Campaign> {
  const campaign = await campaigns.get(id);
  if (!campaign) throw notFound(`Campaign ${id}`);
  return campaign;
}

/**
 * Applies a status change and records the campaign before and after it in the audit log, in
 * one transaction. Nothing is recorded when the change changed nothing (the activation workflow
 * got there first).
 */
function transition(
  deps: ServiceDependencies,
  id: string,
  actorKeyId: string,
  action: AuditAction,
  change: (campaigns: CampaignRepository) => Promise<void>,
): Promise<Campaign> {
  return withTransaction(deps, async ({ campaigns, auditLog }) => {
    const before = await requireCampaign(campaigns, id);
    await change(campaigns);
    const after = await requireCampaign(campaigns, id);
    if (after.status !== before.status || after.activatedAt !== before.activatedAt) {
      await auditLog.record({ actorKeyId, action, resourceType: 'campaign', resourceId: id, before, after });
    }
    return after;
  });
}

/** Every problem that blocks activation: of a draft campaign, or of a draft version laid over its live campaign. */
async function reviewForActivation(deps: ServiceDependencies, campaign: Campaign, nowMs: number): Promise<ReviewIssue[]> {
  const rules = channelRulesOf(campaign.channel);
  const issues = reviewCampaign(campaign, nowMs, rules);
  // Each send step's content by its own channel's rules, like the campaign's.
  issues.push(...reviewCampaignSteps(campaign, channelRulesOf));
  // The channel configuration it references: exists, serves its channel, its variables set for the worker.
  // It serves the campaign's channel only: a send step on another channel sends with that channel's
  // default provider, so it has no configuration to review here.
  const configuration = campaign.channelConfigurationId === undefined ? undefined : await deps.channelConfigurations.get(campaign.channelConfigurationId);
  issues.push(...reviewChannelConfiguration(campaign, configuration, senderEnvPresence(deps.config)));
  // Tracked links are signed with HERALD_TRACKING_SECRET: without it, nothing could verify them.
  issues.push(...reviewTracking(campaign, deps.config.tracking.secrets.length > 0, rules));
  // A high-throughput campaign renders from the call alone and sends in batches: what it may not use.
  issues.push(...reviewHighThroughput(campaign));
  if (campaign.category !== undefined) issues.push(...reviewCategory(campaign, (await new CategoryRepository(deps.db).get(campaign.category)) !== undefined));
  return issues;
}

/**
 * Reviews a draft and hands it to its long-lived activation workflow. On a scheduled or live
 * campaign with a draft version waiting, reviews that version and has the workflow switch to it.
 */
export async function activateCampaign(deps: ServiceDependencies, id: string, actorKeyId: string): Promise<Campaign & { warnings: ReviewIssue[] }> {
  const campaign = await requireCampaign(deps.campaigns, id);
  if (campaign.status !== 'draft') {
    const switched = await activateDraftVersion(deps, campaign, actorKeyId, (candidate) => reviewForActivation(deps, candidate, Date.now()));
    if (switched && isHighThroughput(switched)) await ensureHighThroughputDispatchers(deps.temporal, dispatcherSettingOf(deps.config));
    if (switched) return switched;
    throw new DomainError(
      'conflict',
      'campaign-not-draft',
      'Campaign already activated',
      `Campaign ${id} is ${campaign.status} and has no draft version; only a draft can be activated.`,
    );
  }
  const nowMs = Date.now();
  const issues = await reviewForActivation(deps, campaign, nowMs);
  if (issues.length > 0) {
    throw new DomainError(
      'unprocessable',
      'campaign-review-failed',
      'The campaign did not pass review',
      `${issues.length} problem(s) block activation; see errors.`,
      issues,
    );
  }
  try {
    await withCallDeadline(deps.temporal, () =>
      deps.temporal.workflow.start(campaignActivation, {
        taskQueue: deps.config.temporal.taskQueue,
        workflowId: activationWorkflowId(id),
        args: [{ campaignId: id, ...campaign.schedule, version: campaign.version }],
        typedSearchAttributes: [
          { key: CampaignIdAttribute, value: id },
          { key: ChannelAttribute, value: campaign.channel },
          { key: CampaignTypeAttribute, value: campaign.type },
        ],
        staticSummary: `Campaign "${campaign.name}" (${campaign.type} ${campaign.channel}), v${campaign.version}`,
        staticDetails: `Schedule: ${campaign.schedule.startAt ?? 'now'} → ${campaign.schedule.endAt ?? 'no end'}`,
      }),
    );
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
  // Its triggers are queued, not started: the dispatchers must run before the first one is accepted.
  if (isHighThroughput(campaign)) await ensureHighThroughputDispatchers(deps.temporal, dispatcherSettingOf(deps.config));
  const startsLater = campaign.schedule.startAt !== undefined && Date.parse(campaign.schedule.startAt) > nowMs;
  const activated = await transition(deps, id, actorKeyId, 'campaign.activated', (campaigns) =>
    campaigns.markActivated(id, startsLater ? 'scheduled' : 'live'),
  );
  // Non-blocking: the answer carries them, the campaign is live all the same.
  return { ...activated, warnings: contextReviewWarnings(campaign) };
}

/**
 * Stops a scheduled or live campaign at once; the activation workflow then ends. Stopping a
 * stopped campaign signals its workflow again, which repairs a stop whose signal was lost.
 */
export async function stopCampaign(deps: ServiceDependencies, id: string, actorKeyId: string): Promise<Campaign> {
  const campaign = await requireCampaign(deps.campaigns, id);
  if (campaign.status === 'draft' || campaign.status === 'completed') {
    throw new DomainError(
      'conflict',
      'campaign-not-active',
      'Campaign is not active',
      `Campaign ${id} is ${campaign.status}; only a scheduled or live campaign can be stopped.`,
    );
  }
  // The database first, so the trigger API refuses new calls from this moment on.
  const stopped =
    campaign.status === 'stopped' ? campaign : await transition(deps, id, actorKeyId, 'campaign.stopped', (campaigns) => campaigns.setStatus(id, 'stopped'));
  try {
    await withCallDeadline(deps.temporal, () => deps.temporal.workflow.getHandle(activationWorkflowId(id)).signal(stopCampaignSignal));
  } catch (error) {
    // Not found: the workflow has already ended, which is what a stop wants.
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
  return stopped;
}
