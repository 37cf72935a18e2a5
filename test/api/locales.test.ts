import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailCampaign, liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startFakeResend, type FakeResend } from '../support/fake-resend';
import { startHerald, type Herald } from '../support/herald-harness';

/**
 * Multilingual content, profile locales and the plain-text part, end to end: the real API, a real
 * worker on the shared Temporal server, and the official Resend SDK sending to a fake Resend.
 */
describe('multilingual content and plain text', () => {
  let fake: FakeResend;
  let herald: Herald;

  beforeAll(async () => {
    fake = await startFakeResend({ apiKey: 're_test_key' });
    herald = await startHerald({ env: { RESEND_API_KEY: 're_test_key', RESEND_BASE_URL: fake.url } });
  });
  afterAll(async () => {
    await herald?.stop();
    await fake?.close();
  });

  const address = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.com`;
  const putProfile = (userId: string, body: Record<string, unknown>) => herald.request('PUT', `/v1/profiles/email/${encodeURIComponent(userId)}`, body);
  const receivedBy = (to: string) => fake.deliveries.filter((d) => d.to.includes(to));

  async function trigger(campaignId: string, userIds: string[], context: Record<string, unknown> = {}) {
    const res = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('locale'),
      campaignId,
      recipients: userIds.map((userId) => ({ userId, namespace: 'email' })),
      context,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return herald.waitForExecution(res.body.executionId);
  }

  const multilingual = {
    default: { subject: 'Hello {{ profile.firstName }}', html: '<p>Your code is <b>{{ context.code }}</b>.</p>' },
    translations: {
      'pt-br': { subject: 'Olá {{ profile.firstName }} (Brasil)', html: '<p>Seu código é <b>{{ context.code }}</b>.</p>' },
      pt: { subject: 'Olá {{ profile.firstName }} (Portugal)', html: '<p>O seu código é {{ context.code }}.</p>', text: 'Código {{ context.code }}' },
      fr: { subject: 'Bonjour {{ profile.firstName }}', html: '<p>Votre code est {{ context.code }}.</p>' },
    },
  };

  describe('profile locale', () => {
    it('is set canonicalised by PUT, returned by GET, kept when absent and cleared by null', async () => {
      const userId = address('locale');
      const created = await putProfile(userId, { attributes: { firstName: 'Ada' }, locale: 'pt-br' });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body.locale).toBe('pt-BR');
      expect((await herald.request('GET', `/v1/profiles/email/${encodeURIComponent(userId)}`)).body.locale).toBe('pt-BR');

      const kept = await putProfile(userId, { attributes: { firstName: 'Ada' } });
      expect(kept.body.locale).toBe('pt-BR');
      const changed = await putProfile(userId, { attributes: {}, locale: 'ZH-hant-tw' });
      expect(changed.body.locale).toBe('zh-Hant-TW');
      const cleared = await putProfile(userId, { attributes: {}, locale: null });
      expect(cleared.body.locale).toBeNull();
      expect((await herald.request('GET', `/v1/profiles/email/${encodeURIComponent(userId)}`)).body.locale).toBeNull();
    });

    it('answers 400 for a locale that is not a BCP 47 tag', async () => {
      const userId = address('bad-locale');
      for (const locale of ['en_US', 'not a language', '', 'default', 42]) {
        const res = await putProfile(userId, { attributes: {}, locale });
        expect(res.status, JSON.stringify(locale)).toBe(400);
        expect(res.body.type).toBe('validation-failed');
        expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['locale']);
      }
      expect((await herald.request('GET', `/v1/profiles/email/${encodeURIComponent(userId)}`)).status).toBe(404);
    });
  });

  describe('saving and reviewing multilingual content', () => {
    it('stores translations under canonical tags and answers the content as given', async () => {
      const created = await herald.request('POST', '/v1/campaigns', emailCampaign({ content: multilingual }));
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(Object.keys(created.body.content.translations)).toEqual(['pt-BR', 'pt', 'fr']);
      expect(created.body.content.default).toEqual(multilingual.default);
      const flat = await herald.request('POST', '/v1/campaigns', emailCampaign());
      expect(flat.body.content).toEqual(emailCampaign().content);
    });

    it('refuses an unsafe template in a translation on save, with its path', async () => {
      const content = {
        ...multilingual,
        translations: { ...multilingual.translations, fr: { subject: 'Bonjour', html: '<p>{{ range.constructor("return process")() }}</p>' } },
      };
      const created = await herald.request('POST', '/v1/campaigns', emailCampaign({ content }));
      expect(created.status).toBe(400);
      expect(created.body).toMatchObject({
        type: 'validation-failed',
        errors: [{ field: 'content.translations.fr.html', message: expect.stringContaining('constructor') }],
      });

      const draft = await herald.request('POST', '/v1/campaigns', emailCampaign());
      const patched = await herald.request('PATCH', `/v1/campaigns/${draft.body.id}`, {
        content: { default: multilingual.default, translations: { de: { subject: '{% include "x" %}', html: '<p>Hallo</p>' } } },
      });
      expect(patched.status).toBe(400);
      expect(patched.body.errors).toEqual([{ field: 'content.translations.de.subject', message: expect.stringContaining('include') }]);
    });

    it('refuses bad translation tags and incomplete variants with their paths', async () => {
      const badTag = await herald.request(
        'POST',
        '/v1/campaigns',
        emailCampaign({ content: { default: multilingual.default, translations: { en_US: multilingual.default } } }),
      );
      expect(badTag.status).toBe(400);
      expect(badTag.body.errors).toEqual([{ field: 'content.translations.en_US', message: expect.stringContaining('BCP 47') }]);

      const twice = await herald.request(
        'POST',
        '/v1/campaigns',
        emailCampaign({ content: { default: multilingual.default, translations: { 'pt-BR': multilingual.default, 'pt-br': multilingual.default } } }),
      );
      expect(twice.status).toBe(400);
      expect(twice.body.errors).toEqual([{ field: 'content.translations.pt-br', message: expect.stringContaining('same locale') }]);

      const noHtml = await herald.request(
        'POST',
        '/v1/campaigns',
        emailCampaign({ content: { default: multilingual.default, translations: { fr: { subject: 'Bonjour' } } } }),
      );
      expect(noHtml.status).toBe(400);
      expect(noHtml.body.errors.map((e: { field: string }) => e.field)).toEqual(['content.translations.fr.html']);

      // Translations next to a flat variant are refused rather than dropped.
      const mixed = await herald.request(
        'POST',
        '/v1/campaigns',
        emailCampaign({ content: { ...multilingual.default, translations: { fr: multilingual.translations.fr } } }),
      );
      expect(mixed.status).toBe(400);
      expect(mixed.body.errors).toEqual([{ field: 'content.default', message: expect.stringContaining('content.default') }]);

      // The flat form keeps reporting its own fields.
      const flatNoHtml = await herald.request('POST', '/v1/campaigns', emailCampaign({ content: { subject: 'Hi' } }));
      expect(flatNoHtml.status).toBe(400);
      expect(flatNoHtml.body.errors.map((e: { field: string }) => e.field)).toEqual(['content.html']);
    });

    it('reviews every variant at activation, each under its own path', async () => {
      const content = {
        default: multilingual.default,
        translations: { fr: { subject: '', html: '<p>{% if %}</p>' }, es: { subject: 'Hola', html: '<p>Hola</p>' } },
      };
      const draft = await herald.request('POST', '/v1/campaigns', emailCampaign({ content }));
      expect(draft.status, JSON.stringify(draft.body)).toBe(201);
      const res = await herald.request('POST', `/v1/campaigns/${draft.body.id}/activate`);
      expect(res.status).toBe(422);
      expect(res.body.type).toBe('campaign-review-failed');
      expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['content.translations.fr.html', 'content.translations.fr.subject']);

      // A translation stored before the safety check (written straight to the database) is caught too.
      const stored = await herald.request('POST', '/v1/campaigns', emailCampaign({ content: multilingual }));
      const unsafe = { ...multilingual, translations: { fr: { subject: 'Bonjour', html: '<p>{{ range.constructor("return 1")() }}</p>' } } };
      await herald.db
        .updateTable('campaigns')
        .set({ content: JSON.stringify(unsafe) })
        .where('id', '=', stored.body.id)
        .execute();
      const refused = await herald.request('POST', `/v1/campaigns/${stored.body.id}/activate`);
      expect(refused.status).toBe(422);
      expect(refused.body.errors).toEqual([{ field: 'content.translations.fr.html', message: expect.stringContaining('constructor') }]);
    });
  });

  describe('delivery', () => {
    it('sends each recipient the variant of their locale (pt-BR, pt-PT → pt, de → default) and records it', async () => {
      const campaign = await liveCampaign(herald, { content: multilingual });
      const brazil = address('brazil');
      const portugal = address('portugal');
      const germany = address('germany');
      const unknown = address('unknown');
      expect((await putProfile(brazil, { attributes: { firstName: 'Bia' }, locale: 'pt-BR' })).status).toBe(201);
      expect((await putProfile(portugal, { attributes: { firstName: 'Rui' }, locale: 'pt-PT' })).status).toBe(201);
      expect((await putProfile(germany, { attributes: { firstName: 'Uwe' }, locale: 'de' })).status).toBe(201);
      expect((await putProfile(unknown, { attributes: { firstName: 'Kim' } })).status).toBe(201);

      const execution = await trigger(campaign.id, [brazil, portugal, germany, unknown], { code: '4711' });
      expect(execution.status).toBe('completed');
      expect(execution.recipients.map((r: { userId: string; status: string; locale?: string }) => [r.userId, r.status, r.locale])).toEqual([
        [brazil, 'sent', 'pt-BR'],
        [portugal, 'sent', 'pt'],
        [germany, 'sent', 'default'],
        [unknown, 'sent', 'default'],
      ]);

      expect(receivedBy(brazil)).toEqual([
        expect.objectContaining({ subject: 'Olá Bia (Brasil)', html: '<p>Seu código é <b>4711</b>.</p>', text: 'Seu código é 4711.' }),
      ]);
      // The pt variant has its own text part, which is sent as it renders.
      expect(receivedBy(portugal)).toEqual([
        expect.objectContaining({ subject: 'Olá Rui (Portugal)', html: '<p>O seu código é 4711.</p>', text: 'Código 4711' }),
      ]);
      expect(receivedBy(germany)).toEqual([
        expect.objectContaining({ subject: 'Hello Uwe', html: '<p>Your code is <b>4711</b>.</p>', text: 'Your code is 4711.' }),
      ]);
      expect(receivedBy(unknown)).toEqual([expect.objectContaining({ subject: 'Hello Kim' })]);
    });

    it('keeps flat content working: the default alone, with the plain text derived from the HTML when it has none', async () => {
      const campaign = await liveCampaign(herald, {
        content: {
          subject: 'Reset for {{ profile.firstName }}',
          html: '<h1>Hi {{ profile.firstName }}</h1><p>Open <a href="https://example.com/reset?c={{ context.code }}">this link</a>.</p>',
        },
      });
      const ada = address('flat');
      await putProfile(ada, { attributes: { firstName: 'Ada' }, locale: 'fr' });
      const execution = await trigger(campaign.id, [ada], { code: '99' });
      expect(execution.recipients).toEqual([expect.objectContaining({ userId: ada, status: 'sent', locale: 'default' })]);
      const [received] = receivedBy(ada);
      expect(received).toMatchObject({ subject: 'Reset for Ada', html: '<h1>Hi Ada</h1><p>Open <a href="https://example.com/reset?c=99">this link</a>.</p>' });
      expect(received!.text).toBe('HI ADA\n\nOpen this link [https://example.com/reset?c=99].');

      // A campaign that gives its own text keeps it.
      const withText = await liveCampaign(herald);
      const grace = address('text');
      await putProfile(grace, { attributes: { firstName: 'Grace' } });
      await trigger(withText.id, [grace], { code: '7' });
      expect(receivedBy(grace)).toEqual([expect.objectContaining({ subject: 'Hello Grace', text: 'Code 7' })]);
    });
  });
});
