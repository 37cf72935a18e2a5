import { ApplicationFailure } from '@temporalio/activity';
import { channelRulesOf } from '../src/channels/registry';
import { prepareChannelRecipient, type PreparationSteps } from '../src/domain/recipient-preparation';
import { TemplateError } from '../src/domain/template-renderer';
import type { TemplateRenderer } from '../src/rendering/template-renderer';
import { toSnapshot, type CampaignRepository } from '../src/repositories/campaigns';
import type { DeliveryRepository, PreparedDelivery } from '../src/repositories/deliveries';
import type { ExecutionRepository } from '../src/repositories/executions';
import type { ProfileRepository } from '../src/repositories/profiles';
import { resolveProfile } from './profile-activities';
import { appliedTracking, TrackingTokens, trackingUrls } from '../src/domain/tracking';
import { trackedLinkHosts } from '../src/domain/tracked-link-hosts';
import { LRUCache } from 'lru-cache';
import type { EmailTracking } from '../src/domain/rendered-email';
import type { Campaign } from '../src/domain/campaign';
import type { HeraldConfig } from '../src/config/env';
import type { CappingRepository } from '../src/repositories/capping';
import { QUIET_HOURS_DEFERRED, quietHoursDecision } from '../src/domain/quiet-hours';
import type { Recipient } from '../src/domain/recipient';
import type { SuppressionRepository } from '../src/repositories/suppressions';
import { excludeSuppressed } from './suppressed-recipients';
import { preferenceExclusion, preferencePagePath, type PREFERENCE_EXCLUSION } from '../src/domain/preferences';
import { SubscriberTokens, type Subscriber } from '../src/domain/subscriber-token';
import type { CategoryRepository } from '../src/repositories/categories';
import { personKey, type PreferenceRepository } from '../src/repositories/preferences';

export interface PrepareExecutionInput {
  executionId: string;
  /**
   * Workflow time, by which capping and quiet hours are judged. Absent (the older paths, which
   * cannot wait for a deferral): the worker's clock, and quiet hours' `defer` sends at once.
   */
  nowMs?: number;
}

/** Positions rendered and stored but held back by quiet hours until `untilMs` (epoch ms). */
export interface DeferredPositions {
  untilMs: number;
  positions: number[];
}

export interface PreparedExecution {
  /** Positions ready to send; every other recipient's outcome is already recorded in Herald's database. */
  ready: number[];
  /** Positions to send only once their quiet hours end, grouped by that instant, earliest first. Absent: none. */
  deferred?: DeferredPositions[];
}

export interface PrepareExecutionDependencies {
  campaigns: CampaignRepository;
  profiles: ProfileRepository;
  executions: ExecutionRepository;
  deliveries: DeliveryRepository;
  /** Marketing capping; absent: nothing is capped. */
  capping?: CappingRepository;
  /** The suppression list; absent: nothing is suppressed. */
  suppressions?: SuppressionRepository;
  /** People's preferences and the categories of campaigns; absent: no preference applies. */
  preferences?: PreferenceSources;
  renderer: TemplateRenderer;
  /** Engagement tracking: HERALD_PUBLIC_URL and the HMAC keys, read at each preparation (they also sign `{{ preferencesUrl }}`). */
  tracking?: Pick<HeraldConfig, 'publicUrl' | 'tracking'>;
}

/** Where a send reads the preferences it applies (docs/preferences.md). */
export interface PreferenceSources {
  people: PreferenceRepository;
  categories: CategoryRepository;
}

/** Whether a recipient's preferences turn this send off (`preference`), or undefined when it may go. */
export type PreferenceDecision = (person: Subscriber) => typeof PREFERENCE_EXCLUSION | undefined;

/**
 * The preference decision of one send for all its recipients (a trigger's, an audience batch's):
 * the campaign's category (one query, when it carries one) and the recipients' preferences (one
 * query per namespace) are read at once, then each recipient is decided in memory
 * (src/domain/preferences.ts). Every send, transactional and marketing alike.
 */
export async function preferenceDecision(
  sources: PreferenceSources | undefined,
  campaign: Campaign,
  people: readonly Subscriber[],
): Promise<PreferenceDecision> {
  if (!sources || people.length === 0) return () => undefined;
  const [category, preferences] = await Promise.all([
    campaign.category === undefined ? undefined : sources.categories.rules(campaign.category),
    sources.people.ofPeople(people),
  ]);
  return ({ namespace, userId }) => preferenceExclusion(preferences.get(personKey(namespace, userId)), campaign.channel, category);
}

/** Which campaign contents mention `preferencesUrl`, per version (and send step), so the check reads megabytes of content once. */
const mentionsPreferencesUrl = new LRUCache<string, boolean>({ max: 500 });

/**
 * Each recipient's `{{ preferencesUrl }}`: their hosted preference page under HERALD_PUBLIC_URL,
 * signed for them (src/domain/subscriber-token.ts). Made only when the content mentions it, and
 * only into the stored render, never into workflow history. A worker without
 * HERALD_TRACKING_SECRET renders it empty and says so, as tracking does.
 */
export function preferencesUrlFor(
  campaign: Campaign,
  settings: PrepareExecutionDependencies['tracking'],
  executionId: string,
  contentKey?: string,
): ((person: Subscriber) => Promise<string>) | undefined {
  const key = `${campaign.id}:${campaign.version}${contentKey === undefined ? '' : `:${contentKey}`}`;
  let mentions = mentionsPreferencesUrl.get(key);
  if (mentions === undefined) {
    mentions = JSON.stringify(campaign.content).includes('preferencesUrl');
    mentionsPreferencesUrl.set(key, mentions);
  }
  if (!mentions) return undefined;
  if (!settings || settings.tracking.secrets.length === 0) {
    console.warn(
      `[herald] campaign ${campaign.id} links to {{ preferencesUrl }} but this worker has no HERALD_TRACKING_SECRET: execution ${executionId} renders it empty`,
    );
    return undefined;
  }
  const tokens = new SubscriberTokens(settings.tracking.secrets);
  return async (person) => `${settings.publicUrl}${preferencePagePath(await tokens.pageToken(person))}`;
}

/**
 * The tracking of each recipient's render, for a tracked email or SMS campaign; undefined when the
 * campaign tracks nothing. A worker without HERALD_TRACKING_SECRET (activation reviews the
 * API's) sends untracked rather than not at all, and says so.
 */
export function emailTrackingFor(
  campaign: Campaign,
  settings: PrepareExecutionDependencies['tracking'],
  executionId: string,
  contentKey?: string,
): ((position: number) => EmailTracking) | undefined {
  // Email: the pixel and the HTML's links. SMS: the body's links (clicks only; review refuses opens). Push: none.
  const applied = appliedTracking(channelRulesOf(campaign.channel).tracking, campaign.tracking);
  if (!applied) return undefined;
  if (!settings || settings.tracking.secrets.length === 0) {
    console.warn(
      `[herald] campaign ${campaign.id} tracks engagement but this worker has no HERALD_TRACKING_SECRET: execution ${executionId} is sent untracked`,
    );
    return undefined;
  }
  const tokens = new TrackingTokens(settings.tracking.secrets);
  const { opens, clicks, part } = applied;
  const allowedHosts = clicks ? linkHostsOf(campaign, contentKey) : [];
  return (position) => {
    const urls = trackingUrls(settings.publicUrl, tokens, executionId, position);
    return { opens, clicks, allowedHosts, openUrl: urls.open, clickUrl: urls.click, ...(part && { part }) };
  };
}

/** The hosts of each campaign version's tracked links, computed once per version (a version never changes; the content is up to megabytes). */
const linkHostsByVersion = new LRUCache<string, readonly string[]>({ max: 500 });

function linkHostsOf(campaign: Campaign, contentKey?: string): readonly string[] {
  const key = `${campaign.id}:${campaign.version}${contentKey === undefined ? '' : `:${contentKey}`}`;
  let hosts = linkHostsByVersion.get(key);
  if (hosts === undefined) {
    hosts = trackedLinkHosts(campaign);
    linkHostsByVersion.set(key, hosts);
  }
  return hosts;
}

/**
 * The recipients of a marketing campaign capped at `nowMs`: by the campaign's capping or the
 * channel's global rule, a few grouped queries per namespace. This execution's own sends do not
 * count, so a retried preparation never caps what it already sent.
 */
async function cappedRecipients(
  capping: CappingRepository | undefined,
  campaign: Campaign,
  executionId: string,
  recipients: Recipient[],
  nowMs: number,
): Promise<Set<Recipient>> {
  const capped = new Set<Recipient>();
  if (!capping || campaign.type !== 'marketing') return capped;
  const byNamespace = new Map<string, Recipient[]>();
  for (const recipient of recipients) byNamespace.set(recipient.namespace, [...(byNamespace.get(recipient.namespace) ?? []), recipient]);
  for (const [namespace, members] of byNamespace) {
    const userIds = await capping.cappedUserIds({ campaign, namespace, userIds: members.map((m) => m.userId), nowMs, exceptExecutionId: executionId });
    for (const member of members) if (userIds.has(member.userId)) capped.add(member);
  }
  return capped;
}

/** One preparation: a campaign (at its version, or as one of its send steps sees it) for some recipients of an execution. */
export interface RecipientsToPrepare {
  /** The campaign as this send renders it: a send step's channel and content replace the campaign's. */
  campaign: Campaign;
  executionId: string;
  /** Each with the delivery position its message is recorded at. */
  recipients: (Recipient & { position: number })[];
  context?: Record<string, unknown>;
  nowMs: number;
  /** False on the older paths, which cannot wait for a deferral: quiet hours' `defer` sends at once. */
  canDefer: boolean;
  /** After a digest step: what its templates see as `digest`. */
  digest?: { count: number; events: Record<string, unknown>[] };
  /** Names the content for the tracked-link hosts cache: a send step's content is not the campaign's. */
  contentKey?: string;
}

/** What a preparation decided: every recipient's delivery, and which of them wait for quiet hours to end. */
export interface PreparedRecipients {
  prepared: PreparedDelivery[];
  ready: number[];
  deferred?: DeferredPositions[];
}

/**
 * Resolves every profile, applies capping, consent and suppression, finds each address and
 * renders in the sandboxed renderer (all recipients at once). Stores nothing: the caller records it.
 */
export function recipientPreparation({
  profiles,
  capping,
  suppressions,
  preferences,
  renderer,
  tracking,
}: Omit<PrepareExecutionDependencies, 'campaigns' | 'executions' | 'deliveries'>) {
  const steps: PreparationSteps = {
    resolveProfile: (input) => resolveProfile(profiles, input),
    render: (input) => renderer.renderEmail(input),
    renderFailure: (error) => (error instanceof TemplateError ? error.message : undefined),
  };
  return async function prepare({
    campaign,
    executionId,
    recipients,
    context,
    nowMs,
    canDefer,
    digest,
    contentKey,
  }: RecipientsToPrepare): Promise<PreparedRecipients> {
    const snapshot = toSnapshot(campaign);
    const rules = channelRulesOf(campaign.channel);
    const emailTracking = emailTrackingFor(campaign, tracking, executionId, contentKey);
    const preferencesUrl = preferencesUrlFor(campaign, tracking, executionId, contentKey);
    const [capped, preference] = await Promise.all([
      cappedRecipients(capping, campaign, executionId, recipients, nowMs),
      preferenceDecision(preferences, campaign, recipients),
    ]);
    const deferredUntil = new Map<number, number>();
    const candidates = await Promise.all(
      recipients.map(async (recipient): Promise<PreparedDelivery> => {
        // Capped recipients are not resolved, created or rendered (as on the audience path).
        if (capped.has(recipient)) return { position: recipient.position, profileCreated: false, outcome: { status: 'excluded', reason: 'capped' } };
        // Nor are those whose preferences turn this message off.
        const turnedOff = preference(recipient);
        if (turnedOff) return { position: recipient.position, profileCreated: false, outcome: { status: 'excluded', reason: turnedOff } };
        // Quiet hours read the profile's timezone: kept from its resolution for after the render.
        let attributes: Record<string, unknown> = {};
        const resolveProfile: PreparationSteps['resolveProfile'] = async (input) => {
          const resolved = await steps.resolveProfile(input);
          attributes = resolved.profile?.attributes ?? {};
          return resolved;
        };
        const resolving: PreparationSteps = { ...steps, resolveProfile };
        // Tracked: each recipient's render gets its own signed pixel and link addresses; a digest's
        // templates see it, and every template its preference page.
        const pageUrl = preferencesUrl && (await preferencesUrl(recipient));
        const render: PreparationSteps['render'] = (input) =>
          renderer.renderEmail(
            { ...input, ...(digest && { digest }), ...(pageUrl && { preferencesUrl: pageUrl }) },
            emailTracking ? emailTracking(recipient.position) : undefined,
          );
        const recipientSteps: PreparationSteps = emailTracking || digest || pageUrl ? { ...resolving, render } : resolving;
        const result = await prepareChannelRecipient(rules, recipientSteps, executionId, snapshot, recipient, context);
        if ('outcome' in result) {
          const { status, reason, profileCreated, address } = result.outcome;
          return {
            position: recipient.position,
            profileCreated,
            ...(address && { address }),
            outcome: { status: status === 'excluded' ? 'excluded' : 'failed', reason: reason ?? status },
          };
        }
        const base = {
          position: recipient.position,
          profileCreated: result.base.profileCreated,
          address: result.address,
          ...(result.locale && { locale: result.locale }),
        };
        // Judged once consent and the address passed, so those reasons win over quiet hours.
        const quiet = campaign.type === 'marketing' ? quietHoursDecision(campaign.quietHours, attributes, nowMs) : { kind: 'send' as const };
        if (quiet.kind === 'discard') return { ...base, outcome: { status: 'excluded', reason: 'quiet-hours' } };
        if (quiet.kind === 'defer' && canDefer) {
          deferredUntil.set(recipient.position, quiet.untilMs);
          return { ...base, message: result.rendered, deferred: { notBefore: new Date(quiet.untilMs).toISOString(), reason: QUIET_HOURS_DEFERRED } };
        }
        return { ...base, message: result.rendered };
      }),
    );
    const prepared = await excludeSuppressed(suppressions, campaign.channel, candidates, (position) => deferredUntil.delete(position));
    const ready = prepared.filter((p) => 'message' in p && !deferredUntil.has(p.position)).map((p) => p.position);
    if (deferredUntil.size === 0) return { prepared, ready };
    const groups = new Map<number, number[]>();
    for (const [position, untilMs] of deferredUntil) groups.set(untilMs, [...(groups.get(untilMs) ?? []), position]);
    const deferred = [...groups].map(([untilMs, positions]) => ({ untilMs, positions })).sort((a, b) => a.untilMs - b.untilMs);
    return { prepared, ready, deferred };
  };
}

export function prepareExecutionActivities(dependencies: PrepareExecutionDependencies) {
  const { campaigns, executions, deliveries } = dependencies;
  const prepare = recipientPreparation(dependencies);
  return {
    /**
     * Reads the trigger call back from Herald's database, resolves every profile, applies consent,
     * finds each address and renders in the sandboxed renderer (all recipients at once), then
     * stores the outcome or the rendered message of each. Only positions go back to the workflow,
     * so no address, context or body enters its history. Safe to retry as a whole.
     */
    async prepareExecution(input: PrepareExecutionInput): Promise<PreparedExecution> {
      const { executionId } = input;
      const nowMs = input.nowMs ?? Date.now();
      const request = await executions.storedRequest(executionId);
      if (!request) throw ApplicationFailure.nonRetryable(`Execution ${executionId} does not exist`, 'ExecutionNotFound');
      // The version the execution recorded when it was accepted: a switch since does not change what it sends.
      const campaign = await campaigns.getAtVersion(request.campaignId, request.campaignVersion);
      if (!campaign) throw ApplicationFailure.nonRetryable(`Campaign ${request.campaignId} does not exist`, 'CampaignNotFound');
      const { prepared, ready, deferred } = await prepare({
        campaign,
        executionId,
        recipients: request.recipients,
        ...(request.context && { context: request.context }),
        nowMs,
        canDefer: input.nowMs !== undefined,
      });
      await deliveries.recordPreparation(executionId, campaign.channel, prepared);
      return deferred ? { ready, deferred } : { ready };
    },
  };
}
