import { channelOf, type RenderedSms } from '../channels/registry';
import { isPushContent, isSmsContent, type Campaign, type EmailContent, type PushContent } from '../domain/campaign';
import { consentExclusion, type ConsentValue } from '../domain/consent';
import { contextViolations } from '../domain/context-schema';
import { DomainError, invalidRequest, notFound, type FieldIssue } from '../domain/errors';
import { DEFAULT_LOCALE, selectContentVariant } from '../domain/locale';
import type { ResolvedProfile } from '../domain/profile-resolution';
import { mergeContext, type Recipient } from '../domain/recipient';
import { prepareChannelRecipient, type PreparationSteps } from '../domain/recipient-preparation';
import type { EmailTracking, RenderedEmail, RenderEmailInput } from '../domain/rendered-email';
import { appliedTracking } from '../domain/tracking';
import type { ChannelRules } from '../domain/channel-rules';
import { trackedLinkHosts } from '../domain/tracked-link-hosts';
import { untrackedLinks, untrackedTextLinks, type UntrackedLink } from '../rendering/tracking-rewrite.mjs';
import { TemplateError } from '../domain/template-renderer';
import type { TemplateRenderer } from '../rendering/template-renderer';
import { toSnapshot } from '../repositories/campaigns';
import { MAX_CONTEXT_BYTES } from './execution-intake';
import type { ServiceDependencies } from './service-dependencies';
import { compiledFor } from './context-validation';

export interface PreviewInput {
  recipient: {
    userId: string;
    namespace: string;
    /** Laid over the stored profile's attributes (or standing in for a profile that does not exist); never stored. */
    attributes?: Record<string, unknown>;
    /** Replaces the profile's locale for this preview. */
    locale?: string;
    channelData?: Recipient['channelData'];
  };
  context?: Record<string, unknown>;
  /** Campaigns with steps: preview this send step's message (its channel and content) instead of the campaign's. */
  stepId?: string;
  /** Sample `digest` data for the templates of a send step after a digest step. */
  digest?: { count: number; events: Record<string, unknown>[] };
}

export type PreviewStatus = 'would-send' | 'excluded' | 'failed';

export interface CampaignPreview {
  campaign: { id: string; version: number; status: Campaign['status'] };
  /** What the trigger path decides for this recipient: its first blocking outcome, or would-send. */
  decision: { status: PreviewStatus; reason?: string };
  /** Every reason that would stop this recipient, not only the first. */
  exclusions: string[];
  profile: { exists: boolean; wouldBeCreated: boolean; locale: string | null };
  consent: { required: boolean; value: ConsentValue | null; decision: 'allowed' | 'excluded' };
  address: string | null;
  /** The content variant rendered: `default` or a translation's tag. */
  locale: string;
  /** Email: subject, html and text; SMS: the body with its encoding and segment count. */
  rendered: RenderedEmail | RenderedSms | null;
  renderError?: string;
  /** Violations of the campaign's contextSchema: a trigger with this context would answer 400. */
  contextViolations: FieldIssue[];
  /**
   * The engagement tracking applied to `rendered`, as a send would apply it but with the
   * placeholder token `preview` (`{PUBLIC}/t/c/preview`, `{PUBLIC}/t/o/preview`), never a signed
   * one: `links` are the original URLs rewritten, in order; `untrackedLinks` the http(s) links
   * sent as they are, with why (a host neither written in the content nor allowlisted, userinfo,
   * an unsubscribe link...). Null when the message is untracked.
   */
  tracking: { opens: boolean; clicks: boolean; token: typeof PREVIEW_TOKEN; links: string[]; untrackedLinks: UntrackedLink[] } | null;
}

export type { RenderedSms } from '../channels/registry';

const PREVIEW_EXECUTION_ID = 'preview';
/** The token of every tracked address in a preview: not a signed token, so it leads nowhere (the endpoints answer 400). */
const PREVIEW_TOKEN = 'preview';

function previewClickUrl(publicUrl: string): string {
  return `${publicUrl}/t/c/${PREVIEW_TOKEN}`;
}

/** The http(s) links of a tracked preview left as they are, with why (tracking-rewrite.mjs reads them as the rewrite did). */
function previewUntrackedLinks(rendered: RenderedEmail, tracking: EmailTracking | undefined, publicUrl: string): UntrackedLink[] {
  if (!tracking?.clicks) return [];
  const options = { trackedUrl: previewClickUrl(publicUrl), ...(tracking.allowedHosts && { allowedHosts: tracking.allowedHosts }) };
  return tracking.part === 'text' ? untrackedTextLinks(rendered.text ?? '', options) : untrackedLinks(rendered.html, options);
}

/** The campaign's tracking with placeholder addresses (preview creates nothing, so it signs nothing); undefined when untracked. */
function previewTracking(campaign: Campaign, rules: ChannelRules, publicUrl: string): EmailTracking | undefined {
  // As a send computes it (activities/prepare-execution.ts), from the version previewed.
  const applied = appliedTracking(rules.tracking, campaign.tracking);
  if (!applied) return undefined;
  const urls = { openUrl: () => `${publicUrl}/t/o/${PREVIEW_TOKEN}`, clickUrl: () => previewClickUrl(publicUrl) };
  const allowedHosts = applied.clicks ? trackedLinkHosts(campaign) : [];
  return { ...applied, allowedHosts, ...urls };
}

/**
 * A dry run of one recipient through the trigger path: the same preparation (profile, consent,
 * address, language variant, sandboxed render) with a profile step that only reads. Nothing is
 * written: no profile is created (one that would be is simulated), no execution, delivery or
 * message exists afterwards, and no provider is called.
 */
export async function previewCampaign(
  deps: ServiceDependencies,
  renderer: TemplateRenderer,
  campaignId: string,
  input: PreviewInput,
): Promise<CampaignPreview> {
  const campaignAsStored = await deps.campaigns.get(campaignId);
  if (!campaignAsStored) throw notFound(`Campaign ${campaignId}`);
  const campaign = asSendStep(campaignAsStored, input.stepId);
  const { recipient: given, context: shared } = input;
  // A send step after a digest renders with `digest`: sample data, as its run would gather it.
  const digest = input.digest ? { digest: input.digest } : {};
  if (given.namespace !== campaign.audience.namespace) {
    throw invalidRequest(
      [{ field: 'recipient.namespace', message: `must be "${campaign.audience.namespace}", the campaign's namespace` }],
      'The recipient must use the campaign audience namespace.',
    );
  }
  if (shared && Buffer.byteLength(JSON.stringify(shared)) > MAX_CONTEXT_BYTES) {
    throw new DomainError('too-large', 'context-too-large', 'Context too large', `Context may be at most ${MAX_CONTEXT_BYTES} bytes of JSON in total.`);
  }
  const recipient: Recipient = { userId: given.userId, namespace: given.namespace, ...(given.channelData && { channelData: given.channelData }) };
  const stored = await deps.profiles.get(given.namespace, given.userId);
  const overlay = given.attributes ?? {};

  const channel = channelOf(campaign.channel);
  const { rules } = channel;
  let simulated: ResolvedProfile['profile'];
  const tracking = previewTracking(campaign, rules, deps.config.publicUrl);
  const steps: PreparationSteps = {
    // Reads, never writes: a profile the trigger would create is made up here, as it would be created.
    async resolveProfile(request) {
      if (stored) simulated = { attributes: { ...stored.attributes, ...overlay }, consents: stored.consents, locale: given.locale ?? stored.locale };
      else if (request.createMissing) simulated = { attributes: { ...request.seedAttributes, ...overlay }, consents: {}, locale: given.locale ?? null };
      else return { created: false };
      // Push: the stored devices, as the trigger's profile step reads them (only for push, as there).
      if (request.withPushTokens && stored)
        simulated = {
          ...simulated,
          pushTokens: (await deps.profiles.pushTokens(stored.namespace, stored.userId)).map(({ appID, platform, token }) => ({ appID, platform, token })),
        };
      return { created: !stored, profile: simulated };
    },
    render: (request) => renderer.renderEmail({ ...request, ...digest }, tracking),
    renderFailure: (error) => (error instanceof TemplateError ? error.message : undefined),
  };
  const snapshot = toSnapshot(campaign);
  const prepared = await prepareChannelRecipient(rules, steps, PREVIEW_EXECUTION_ID, snapshot, recipient, shared);

  // The profile the message would be rendered with; a missing one previews with the given attributes alone.
  const profile = simulated ?? { attributes: overlay, consents: {}, locale: given.locale ?? null };
  const exclusionOf = consentExclusion(campaign.type, campaign.channel, profile.consents);
  // The address preparation found or would find (push: the device, channelData.pushInfo else the profile's latest token, as JSON), or why there is none.
  const resolution = rules.resolveAddress(recipient, profile);
  const address = 'outcome' in prepared ? (prepared.outcome.address ?? ('address' in resolution ? resolution.address : undefined)) : prepared.address;
  const variant = selectContentVariant(campaign.content, profile.locale);

  let rendered: RenderedEmail | null = null;
  let renderError: string | undefined;
  if ('rendered' in prepared) {
    rendered = prepared.rendered;
  } else if (prepared.outcome.reason?.startsWith('render-error: ')) {
    renderError = prepared.outcome.reason.slice('render-error: '.length);
  } else {
    // Excluded before rendering: render anyway, so the preview still shows the message.
    try {
      const content = variant.content;
      const variables = { profile: profile.attributes, context: mergeContext(shared, recipient.context), ...digest };
      rendered = rules.rendering
        ? rules.rendering.stored(content, await renderer.renderEmail({ content: rules.rendering.templates(content), ...variables }))
        : isPushContent(content)
          ? await renderPushPreview(renderer, content, variables)
          : isSmsContent(content)
            ? await (async () => {
                const { text, tracked } = await renderer.renderEmail({ content: { subject: '', html: '', text: content.body }, ...variables }, tracking);
                return { subject: '', html: '', text: text ?? '', ...(tracked && { tracked }) };
              })()
            : await renderer.renderEmail({ content: content as EmailContent, ...variables }, tracking);
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      renderError = error.message;
    }
  }

  const exclusions = [
    ...(!simulated ? ['profile-not-found'] : []),
    ...(exclusionOf ? [exclusionOf] : []),
    ...('reason' in resolution ? [resolution.reason] : []),
    ...(renderError !== undefined ? [`render-error: ${renderError}`] : []),
  ];
  const decision: CampaignPreview['decision'] =
    'outcome' in prepared
      ? { status: prepared.outcome.status === 'excluded' ? 'excluded' : 'failed', ...(prepared.outcome.reason && { reason: prepared.outcome.reason }) }
      : { status: 'would-send' };

  return {
    campaign: { id: campaign.id, version: campaign.version, status: campaign.status },
    decision,
    exclusions,
    profile: { exists: stored !== undefined, wouldBeCreated: !stored && simulated !== undefined, locale: profile.locale ?? null },
    consent: { required: campaign.type !== 'transactional', value: profile.consents[campaign.channel] ?? null, decision: exclusionOf ? 'excluded' : 'allowed' },
    address: address ?? null,
    locale: 'rendered' in prepared ? (prepared.locale ?? DEFAULT_LOCALE) : variant.locale,
    // SMS: the segments of the body as sent, tracked links included (they lengthen it).
    rendered: rendered && (channel.previewForm ? channel.previewForm(rendered) : withoutTracked(rendered)),
    ...(renderError !== undefined && { renderError }),
    contextViolations: previewContextViolations(campaign, shared),
    tracking: rendered?.tracked
      ? {
          opens: rendered.tracked.opens,
          clicks: rendered.tracked.clicks,
          token: PREVIEW_TOKEN,
          links: rendered.tracked.links,
          untrackedLinks: previewUntrackedLinks(rendered, tracking, deps.config.publicUrl),
        }
      : null,
  };
}

function withoutTracked({ tracked: _tracked, ...rendered }: RenderedEmail): RenderedEmail {
  return rendered;
}

function previewContextViolations(campaign: Campaign, context: Record<string, unknown> | undefined): FieldIssue[] {
  const compiled = compiledFor(campaign);
  if (!compiled) return [];
  if (!compiled.ok) return compiled.issues;
  return contextViolations(compiled.validate, context ?? {}).map(({ path, message }) => ({ field: ['context', ...path].join('.'), message }));
}

/** A push variant renders as preparation renders it: the title as the subject, the body as the text, {data, deepLink} as JSON in html. */
async function renderPushPreview(
  renderer: TemplateRenderer,
  content: PushContent,
  variables: Pick<RenderEmailInput, 'profile' | 'context' | 'digest'>,
): Promise<RenderedEmail> {
  const { subject, text } = await renderer.renderEmail({ content: { subject: content.title, html: '', text: content.body }, ...variables });
  const extras = { ...(content.data && { data: content.data }), ...(content.deepLink && { deepLink: content.deepLink }) };
  return { subject, html: JSON.stringify(extras), text: text ?? '' };
}

/** The campaign as one of its send steps sends it: the step's channel and content (a campaign's own without `stepId`). */
function asSendStep(campaign: Campaign, stepId: string | undefined): Campaign {
  if (stepId === undefined) return campaign;
  const step = campaign.steps?.find((s) => s.id === stepId);
  if (step?.type !== 'send') {
    throw invalidRequest([{ field: 'stepId', message: `the campaign has no send step "${stepId}"` }], "stepId must name one of the campaign's send steps.");
  }
  return { ...campaign, channel: step.channel ?? campaign.channel, content: step.content ?? campaign.content };
}
