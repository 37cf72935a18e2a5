import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type Herald } from '../support/herald-harness';

/** The campaign preview, for one send step of a campaign with steps (its channel, its content, sample digest data). */
describe('previewing a send step', () => {
  let herald: Herald;
  let campaignId: string;
  beforeAll(async () => {
    herald = await startHerald({ withoutWorker: true });
    const created = await herald.request('POST', '/v1/campaigns', {
      name: 'Comments, then a text',
      type: 'transactional',
      channel: 'email',
      audience: { namespace: 'crm', createMissingProfiles: true },
      content: { subject: '{{ digest.count }} new comments', html: '{% for e in digest.events %}<p>{{ e.text }}</p>{% endfor %}' },
      steps: [
        { id: 'gather', type: 'digest', window: 'PT10M' },
        { id: 'email', type: 'send' },
        { id: 'sms', type: 'send', channel: 'sms', content: { body: 'Hi {{ profile.firstName }}, {{ digest.count }} comments wait' } },
      ],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    campaignId = created.body.id;
  });
  afterAll(() => herald?.stop());

  const recipient = { userId: 'ada', namespace: 'crm', attributes: { firstName: 'Ada' }, channelData: { mobilePhoneNumber: '+14155550100' } };
  const digest = { count: 2, events: [{ text: 'first' }, { text: 'second' }] };

  it('renders a send step on its own channel with sample digest data', async () => {
    const sms = await herald.request('POST', `/v1/campaigns/${campaignId}/preview`, { recipient, stepId: 'sms', digest });
    expect(sms.status, JSON.stringify(sms.body)).toBe(200);
    expect(sms.body.rendered).toMatchObject({ body: 'Hi Ada, 2 comments wait' });
    const email = await herald.request('POST', `/v1/campaigns/${campaignId}/preview`, { recipient, stepId: 'email', digest });
    expect(email.body.rendered).toMatchObject({ subject: '2 new comments', html: '<p>first</p><p>second</p>' });
  });

  it('answers 400 naming stepId for a step that is not a send step, or none at all', async () => {
    for (const stepId of ['gather', 'nope']) {
      const res = await herald.request('POST', `/v1/campaigns/${campaignId}/preview`, { recipient, stepId });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(JSON.stringify(res.body)).toContain('stepId');
    }
  });
});
