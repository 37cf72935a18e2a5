import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailCampaign, liveCampaign } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';

/** Email first, then SMS a day later if the email was not opened (one of docs/steps.md's recipes). */
const escalation = [
  { id: 'email', type: 'send' },
  { id: 'later', type: 'delay', duration: 'P1D' },
  {
    id: 'unopened',
    type: 'condition',
    where: [
      { step: 'email', op: 'notIn', value: ['opened', 'clicked'] },
      {
        or: [
          { context: 'cart.total', op: 'gte', value: 50 },
          { attribute: 'plan', op: 'eq', value: 'pro' },
          { consent: 'sms', op: 'eq', value: 'in' },
        ],
      },
    ],
  },
  { id: 'sms', type: 'send', channel: 'sms', content: { body: 'Your cart is waiting, {{ profile.firstName }}' } },
  { id: 'paid', type: 'waitForEvent', event: 'order.paid', timeout: 'PT1H', match: 'orderId', ifEvent: 'stop', ifTimeout: 'continue' },
  {
    id: 'push',
    type: 'send',
    channel: 'push',
    content: { default: { title: 'Still there?', body: 'Hi' }, translations: { fr: { title: 'Toujours là ?', body: 'Salut' } } },
  },
];

const fieldsOf = (body: { errors?: { field: string }[] }) => (body.errors ?? []).map((error) => error.field);

describe('campaign steps over the API', () => {
  let herald: Herald;
  beforeAll(async () => {
    herald = await startHerald();
  });
  afterAll(() => herald.stop());

  async function refused(steps: unknown, overrides: Record<string, unknown> = {}) {
    const res = await herald.request('POST', '/v1/campaigns', emailCampaign({ steps, ...overrides }));
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.type).toBe('validation-failed');
    return fieldsOf(res.body);
  }

  it('creates a campaign with steps and answers them on GET, in its versions and after PATCH', async () => {
    const created = await herald.request('POST', '/v1/campaigns', emailCampaign({ steps: escalation }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.steps).toEqual(escalation);
    const fetched = await herald.request('GET', `/v1/campaigns/${created.body.id}`);
    expect(fetched.body).toEqual(created.body);
    const versions = await herald.request('GET', `/v1/campaigns/${created.body.id}/versions`);
    expect(versions.body.items[0].steps).toEqual(escalation);

    const edited = await herald.request('PATCH', `/v1/campaigns/${created.body.id}`, { steps: escalation.slice(0, 2) });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect(edited.body.steps).toEqual(escalation.slice(0, 2));
    const cleared = await herald.request('PATCH', `/v1/campaigns/${created.body.id}`, { steps: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body).not.toHaveProperty('steps');
    // Without steps the campaign is answered as it always was.
    const plain = await herald.request('POST', '/v1/campaigns', emailCampaign());
    expect(plain.body).not.toHaveProperty('steps');
  });

  it('edits the steps of a live campaign as a draft version, live on activation', async () => {
    const campaign = await liveCampaign(herald, { steps: [{ id: 'first', type: 'send' }] });
    expect(campaign.steps).toEqual([{ id: 'first', type: 'send' }]);
    const steps = [
      { id: 'first', type: 'send' },
      { id: 'wait', type: 'delay', duration: 'PT10M' },
      { id: 'again', type: 'send' },
    ];
    const edited = await herald.request('PATCH', `/v1/campaigns/${campaign.id}`, { steps });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect(edited.body).toMatchObject({ steps: [{ id: 'first', type: 'send' }], draftVersion: campaign.version + 1 });
    const versions = await herald.request('GET', `/v1/campaigns/${campaign.id}/versions`);
    expect(versions.body.items[0]).toMatchObject({ status: 'draft', steps });
    // An invalid edit of an active campaign is refused like a draft's.
    const bad = await herald.request('PATCH', `/v1/campaigns/${campaign.id}`, { steps: [...steps, { id: 'wait', type: 'send' }] });
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad.body)).toEqual(['steps.3.id']);
    const activated = await herald.request('POST', `/v1/campaigns/${campaign.id}/activate`);
    expect(activated.status, JSON.stringify(activated.body)).toBe(200);
    expect(activated.body.steps).toEqual(steps);
    const removed = await herald.request('PATCH', `/v1/campaigns/${campaign.id}`, { steps: null });
    expect(removed.status).toBe(200);
    expect((await herald.request('POST', `/v1/campaigns/${campaign.id}/activate`)).status).toBe(200);
    expect((await herald.request('GET', `/v1/campaigns/${campaign.id}`)).body).not.toHaveProperty('steps');
  });

  it('refuses an unknown step type and more than 20 steps, and takes an empty list as none', async () => {
    expect(
      await refused([
        { id: 'a', type: 'send' },
        { id: 'b', type: 'sleep' },
      ]),
    ).toEqual(['steps.1.type']);
    const many = Array.from({ length: 21 }, (_, index) => ({ id: `s${index}`, type: 'send' }));
    expect(await refused(many)).toEqual(['steps']);
    // An empty list is no steps, like null.
    const empty = await herald.request('POST', '/v1/campaigns', emailCampaign({ steps: [] }));
    expect(empty.status, JSON.stringify(empty.body)).toBe(201);
    expect(empty.body).not.toHaveProperty('steps');
  });

  it('refuses a duplicate id, a digest that is not first, and waits out of range, naming each path', async () => {
    expect(
      await refused([
        { id: 'a', type: 'send' },
        { id: 'a', type: 'delay', duration: 'PT1H' },
      ]),
    ).toEqual(['steps.1.id']);
    expect(
      await refused([
        { id: 'a', type: 'send' },
        { id: 'd', type: 'digest', window: 'PT10M' },
      ]),
    ).toEqual(['steps.1.type']);
    expect(
      await refused([
        { id: 'd', type: 'digest', window: 'P100D' },
        { id: 'a', type: 'send' },
        { id: 'w', type: 'delay', duration: 'PT0S' },
        { id: 'e', type: 'waitForEvent', event: 'x', timeout: 'soon', ifEvent: 'continue', ifTimeout: 'stop' },
      ]),
    ).toEqual(['steps.0.window', 'steps.2.duration', 'steps.3.timeout']);
  });

  it('refuses a condition naming a later, unknown or non-send step', async () => {
    const where = (step: string) => [{ step, op: 'eq', value: 'delivered' }];
    expect(
      await refused([
        { id: 'c1', type: 'condition', where: where('s') },
        { id: 's', type: 'send' },
        { id: 'w', type: 'delay', duration: 'PT1H' },
        { id: 'c2', type: 'condition', where: [{ not: { and: where('ghost') } }] },
        { id: 'c3', type: 'condition', where: where('w') },
      ]),
    ).toEqual(['steps.0.where.0.step', 'steps.3.where.0.not.and.0.step', 'steps.4.where.0.step']);
    // A step outcome is one of the send outcomes, one for eq/neq and a list for in/notIn.
    expect(
      await refused([
        { id: 's', type: 'send' },
        { id: 'c', type: 'condition', where: [{ step: 's', op: 'in', value: 'sent' }] },
      ]),
    ).toEqual(['steps.1.where.0.value']);
  });

  it("refuses a send step on another channel without content, and content that is not that channel's", async () => {
    expect(await refused([{ id: 's', type: 'send', channel: 'sms' }])).toEqual(['steps.0.content']);
    expect(await refused([{ id: 's', type: 'send', channel: 'sms', content: { title: 'Hi', body: 'there' } }])).toEqual(['steps.0.content']);
    // PATCH judges the steps against the campaign's channel as the edit leaves it.
    const { body: draft } = await herald.request('POST', '/v1/campaigns', emailCampaign({ steps: [{ id: 's', type: 'send', channel: 'email' }] }));
    const res = await herald.request('PATCH', `/v1/campaigns/${draft.id}`, { channel: 'sms', content: { body: 'Hi' } });
    expect(res.status).toBe(400);
    expect(fieldsOf(res.body)).toEqual(['steps.0.content']);
  });

  it('checks events, match paths, digest keys and the rule limits of a condition', async () => {
    expect(
      await refused([
        { id: 'e', type: 'waitForEvent', event: 'order paid', timeout: 'PT1H', match: '0rder', ifEvent: 'go', ifTimeout: 'stop' },
        { id: 'd', type: 'delay', duration: 'PT1H', extra: true },
      ]),
    ).toEqual(expect.arrayContaining(['steps.0.event', 'steps.0.match', 'steps.0.ifEvent', 'steps.1']));
    expect(await refused([{ id: 'd', type: 'digest', window: 'PT1M', key: '{{ constructor }}' }])).toEqual(['steps.0.key']);
    let deep: Record<string, unknown> = { context: 'a', op: 'exists' };
    for (let level = 0; level < 2000; level += 1) deep = { not: deep };
    const fields = await refused([{ id: 'c', type: 'condition', where: [deep] }]);
    expect(fields).toEqual(['steps.0.where.0.not.not.not.not.not']);
  });

  it('reviews every send step at activation, under steps.N.content', async () => {
    const { body } = await herald.request(
      'POST',
      '/v1/campaigns',
      emailCampaign({
        steps: [
          { id: 'email', type: 'send' },
          { id: 'sms', type: 'send', channel: 'sms', content: { body: 'Code {% if %}' } },
          {
            id: 'push',
            type: 'send',
            channel: 'push',
            content: { default: { title: 'Hi', body: 'there' }, translations: { fr: { title: '', body: 'Salut' } } },
          },
          { id: 'email-again', type: 'send', content: { body: 'an SMS body on the email channel' } },
        ],
      }),
    );
    expect(body.id, JSON.stringify(body)).toEqual(expect.any(String));
    const res = await herald.request('POST', `/v1/campaigns/${body.id}/activate`);
    expect(res.status).toBe(422);
    expect(res.body.type).toBe('campaign-review-failed');
    expect(fieldsOf(res.body)).toEqual(['steps.1.content.body', 'steps.2.content.translations.fr.title', 'steps.3.content.html']);
    expect((await herald.request('GET', `/v1/campaigns/${body.id}`)).body.status).toBe('draft');
  });

  it('refuses audience executions of a campaign whose steps wait, with 409', async () => {
    const audience = await herald.request('POST', '/v1/audiences', {
      name: 'steps',
      namespace: 'email',
      definition: { type: 'rule', where: [{ attribute: 'segment', op: 'eq', value: 'steps' }] },
    });
    expect(audience.status).toBe(201);
    const campaign = await liveCampaign(herald, {
      type: 'marketing',
      steps: [
        { id: 'wait', type: 'delay', duration: 'PT1H' },
        { id: 'send', type: 'send' },
      ],
    });
    const res = await herald.request('POST', '/v1/executions/audience', { campaignId: campaign.id, audience: { id: audience.body.id } });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({ type: 'campaign-has-waiting-steps', status: 409, detail: expect.stringContaining('not supported yet') });
    // Steps without a wait are refused too, rather than sending the campaign's one message and skipping them.
    const sendsOnly = await liveCampaign(herald, {
      type: 'marketing',
      steps: [
        { id: 'first', type: 'send' },
        { id: 'second', type: 'send', content: { subject: 'Again', html: '<p>Again</p>' } },
      ],
    });
    const refusedToo = await herald.request('POST', '/v1/executions/audience', { campaignId: sendsOnly.id, audience: { id: audience.body.id } });
    expect(refusedToo).toMatchObject({ status: 409, body: { type: 'campaign-has-steps' } });
  });
});
