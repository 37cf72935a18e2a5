import { describe, expect, it } from 'vitest';
import { CampaignCreateSchema } from '../../src/api/routes/campaigns/campaigns.routes';
import { channelRulesOf } from '../../src/channels/registry';
import { WhatsAppContentSchema } from '../../src/channels/whatsapp/whatsapp-content-schema';
import { readStoredTemplate } from '../../src/channels/whatsapp/whatsapp-template';
import type { Campaign, ChannelContent } from '../../src/domain/campaign';
import { reviewCampaign } from '../../src/domain/campaign-review';
import { contentVariants } from '../../src/domain/locale';
import { reviewTracking } from '../../src/domain/tracking';

/** WhatsApp's pure rules: what review requires, how content renders and is stored, what the API takes. */

const rules = channelRulesOf('whatsapp');
const variants = (content: unknown) => contentVariants(content as ChannelContent);
const template = { template: { name: 'order_shipped', language: 'en_US', parameters: ['{{ profile.firstName }}', '{{ context.orderId }}'] } };

const campaign = (type: 'marketing' | 'transactional', content: unknown): Campaign =>
  ({
    id: 'c',
    name: 'n',
    type,
    channel: 'whatsapp',
    content,
    audience: { namespace: 'phone', createMissingProfiles: true },
    schedule: {},
    status: 'draft',
    version: 1,
    createdAt: '',
    updatedAt: '',
  }) as unknown as Campaign;

describe('WhatsApp review', () => {
  it('takes a session body for a transactional campaign and a template for any', () => {
    expect(reviewCampaign(campaign('transactional', { body: 'Your table is ready' }), 0, rules)).toEqual([]);
    expect(reviewCampaign(campaign('marketing', template), 0, rules)).toEqual([]);
    expect(reviewCampaign(campaign('transactional', template), 0, rules)).toEqual([]);
  });

  it('refuses a body-only marketing campaign, naming the field of each variant', () => {
    const issues = reviewCampaign(campaign('marketing', { default: { body: 'Sale!' }, translations: { fr: template } }), 0, rules);
    expect(issues).toEqual([{ field: 'content.default.body', message: expect.stringContaining('only as an approved template') }]);
  });

  it('checks the template: name, language, each parameter parses and is safe and not empty', () => {
    const issues = rules.reviewContent(
      variants({ template: { name: 'bad name', language: 'english', parameters: ['{{ context.x', '{{ x.constructor }}', ' '] } }),
      { type: 'transactional' },
    );
    expect(issues.map((issue) => issue.field)).toEqual([
      'content.template.name',
      'content.template.language',
      'content.template.parameters.0',
      'content.template.parameters.1',
      'content.template.parameters.2',
    ]);
    expect(issues[2]!.message).toMatch(/^template does not parse/);
    expect(rules.reviewContent(variants({ subject: 's', html: 'h' }))).toEqual([
      { field: 'content.body', message: 'a WhatsApp campaign needs a body (a session message) or a template' },
    ]);
  });

  it('tracks nothing: activation refuses tracking on WhatsApp', () => {
    expect(reviewTracking({ channel: 'whatsapp', tracking: { clicks: true } }, true, rules).map((issue) => issue.field)).toEqual(['tracking']);
    expect(rules.carriesUnsubscribeLink).toBe(false);
  });
});

describe('WhatsApp rendering', () => {
  it('renders a body as text, as an SMS', () => {
    const rendering = rules.rendering!;
    expect(rendering.templates({ body: 'Hi {{ profile.firstName }}' })).toEqual({ subject: '', html: '', text: 'Hi {{ profile.firstName }}' });
    expect(rendering.stored({ body: 'x' }, { subject: '', html: '', text: 'Hi Ada' })).toEqual({ subject: '', html: '', text: 'Hi Ada' });
  });

  it('renders the parameters in one text template whose output is JSON, so a value cannot move them', () => {
    const rendering = rules.rendering!;
    const { text } = rendering.templates(template as ChannelContent);
    expect(text).toBe('[{% filter dump %}{{ profile.firstName }}{% endfilter %},{% filter dump %}{{ context.orderId }}{% endfilter %}]');
    // What the sandbox answers for a first name holding quotes and a comma.
    const stored = rendering.stored(template as ChannelContent, { subject: '', html: '', text: JSON.stringify(['Ada "the", first', 'A-42']) });
    expect(stored.text).toBe('');
    expect(readStoredTemplate(stored.html)).toEqual({ name: 'order_shipped', language: 'en_US', parameters: ['Ada "the", first', 'A-42'] });
    expect(readStoredTemplate('{"name":"x"}')).toBeUndefined();
    expect(readStoredTemplate('not json')).toBeUndefined();
  });
});

describe('WhatsApp content in the API', () => {
  it('takes {body} or {template}, and refuses unsafe parameters and unknown fields on save', () => {
    expect(WhatsAppContentSchema.safeParse({ body: 'Hi' }).success).toBe(true);
    expect(WhatsAppContentSchema.safeParse(template).success).toBe(true);
    expect(WhatsAppContentSchema.safeParse({ template: { name: 'x', language: 'en' } }).success).toBe(true);
    expect(WhatsAppContentSchema.safeParse({ body: 'Hi', template: template.template }).success).toBe(false);
    expect(WhatsAppContentSchema.safeParse({ template: { ...template.template, parameters: ['{{ x.__proto__ }}'] } }).success).toBe(false);
    expect(WhatsAppContentSchema.safeParse({ template: { ...template.template, language: 'en-US' } }).success).toBe(false);
    expect(WhatsAppContentSchema.safeParse({ template: { ...template.template, parameters: Array(21).fill('x') } }).success).toBe(false);
  });

  it('is a channel of the campaign schema, flat or multilingual', () => {
    const parsed = CampaignCreateSchema.safeParse({
      name: 'Shipped',
      type: 'marketing',
      channel: 'whatsapp',
      content: { default: template, translations: { fr: { template: { ...template.template, language: 'fr' } } } },
      audience: { namespace: 'phone' },
    });
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });
});
