import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activationWorkflowId } from '../../workflows/workflow-ids';
import { emailCampaign, liveCampaign } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';
import { waitFor } from '../support/process-stack';

const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();

async function waitForStatus(herald: Herald, id: string, status: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await herald.request('GET', `/v1/campaigns/${id}`);
    if (body.status === status) return body;
    if (Date.now() > deadline) throw new Error(`campaign ${id} is ${body.status}, expected ${status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('campaigns', () => {
  let herald: Herald;
  beforeAll(async () => {
    herald = await startHerald();
  });
  afterAll(() => herald.stop());

  it('creates a draft with id, status, version and timestamps', async () => {
    const res = await herald.request('POST', '/v1/campaigns', emailCampaign({ description: 'OTP', tags: ['auth'] }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'draft', version: 1, tags: ['auth'], description: 'OTP', schedule: {} });
    expect(res.body.id).toEqual(expect.any(String));
    const fetched = await herald.request('GET', `/v1/campaigns/${res.body.id}`);
    expect(fetched.body).toEqual(res.body);
  });

  it('rejects an invalid campaign with a 400 problem listing the fields', async () => {
    const res = await herald.request('POST', '/v1/campaigns', { ...emailCampaign(), name: '', type: 'spam' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['name', 'type']));
  });

  it('answers 404 for an unknown campaign', async () => {
    const res = await herald.request('GET', '/v1/campaigns/does-not-exist');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ status: 404, type: 'not-found' });
  });

  it('lists campaigns by status, paginated', async () => {
    for (let i = 0; i < 3; i++) await herald.request('POST', '/v1/campaigns', emailCampaign({ name: `page-${i}` }));
    const first = await herald.request('GET', '/v1/campaigns?status=draft&limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.items.every((c: { status: string }) => c.status === 'draft')).toBe(true);
    const second = await herald.request('GET', `/v1/campaigns?status=draft&limit=2&cursor=${first.body.nextCursor}`);
    const ids = new Set([...first.body.items, ...second.body.items].map((c: { id: string }) => c.id));
    expect(ids.size).toBe(first.body.items.length + second.body.items.length);
    expect((await herald.request('GET', '/v1/campaigns?status=bogus')).status).toBe(400);
  });

  it('edits a draft as a new version, an active campaign as a draft version, and refuses to edit a stopped one', async () => {
    const { body: draft } = await herald.request('POST', '/v1/campaigns', emailCampaign());
    const edited = await herald.request('PATCH', `/v1/campaigns/${draft.id}`, { name: 'Renamed' });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ name: 'Renamed', version: 2, status: 'draft' });
    expect((await herald.request('PATCH', `/v1/campaigns/${draft.id}`, {})).status).toBe(400);
    await herald.request('POST', `/v1/campaigns/${draft.id}/activate`);
    // Live: the edit is a draft version; the live version is answered as before (test/api/campaign-versions.test.ts).
    const versioned = await herald.request('PATCH', `/v1/campaigns/${draft.id}`, { name: 'Again' });
    expect(versioned.status).toBe(200);
    expect(versioned.body).toMatchObject({ name: 'Renamed', version: 2, status: 'live', draftVersion: 3 });
    await herald.request('POST', `/v1/campaigns/${draft.id}/stop`);
    const refused = await herald.request('PATCH', `/v1/campaigns/${draft.id}`, { name: 'Again' });
    expect(refused.status).toBe(409);
    expect((await herald.request('PATCH', '/v1/campaigns/nope', { name: 'x' })).status).toBe(404);
  });

  it('refuses activation with 422 listing every review problem', async () => {
    const { body } = await herald.request(
      'POST',
      '/v1/campaigns',
      emailCampaign({ content: { subject: '', html: '<p>{% if %}</p>' }, schedule: { startAt: inSeconds(3600), endAt: inSeconds(60) } }),
    );
    const res = await herald.request('POST', `/v1/campaigns/${body.id}/activate`);
    expect(res.status).toBe(422);
    const fields = res.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['content.subject', 'content.html', 'schedule.endAt']));
    const past = await herald.request('POST', '/v1/campaigns', emailCampaign({ schedule: { endAt: new Date(Date.now() - 1000).toISOString() } }));
    const pastRes = await herald.request('POST', `/v1/campaigns/${past.body.id}/activate`);
    expect(pastRes.status).toBe(422);
    expect(pastRes.body.errors).toEqual([expect.objectContaining({ field: 'schedule.endAt', message: expect.stringContaining('past') })]);
    expect((await herald.request('GET', `/v1/campaigns/${body.id}`)).body.status).toBe('draft');
  });

  it('activates into a long-lived workflow that moves scheduled → live → completed and answers its state query', async () => {
    const { body } = await herald.request('POST', '/v1/campaigns', emailCampaign({ schedule: { startAt: inSeconds(2), endAt: inSeconds(4) } }));
    const activated = await herald.request('POST', `/v1/campaigns/${body.id}/activate`);
    expect(activated.status).toBe(200);
    expect(activated.body.status).toBe('scheduled');
    expect(activated.body.activatedAt).toEqual(expect.any(String));
    const handle = herald.client.workflow.getHandle(activationWorkflowId(body.id));
    // The workflow reports `scheduled` once its first local step has recorded it (until then it
    // still holds the draft it started from); under load the 2 s wait may even be over.
    const seen = await waitFor(
      'the activation workflow to leave draft',
      async () => {
        const { status } = await handle.query<{ status: string }>('state');
        return status !== 'draft' && status;
      },
      20_000,
    );
    expect(['scheduled', 'live']).toContain(seen);
    await waitForStatus(herald, body.id, 'live');
    await waitForStatus(herald, body.id, 'completed');
    expect((await handle.result()).status).toBe('completed');
    expect((await herald.request('POST', `/v1/campaigns/${body.id}/activate`)).status).toBe(409);
  });

  it('stops a live campaign: status stopped, workflow ends, no more triggers', async () => {
    const campaign = await liveCampaign(herald);
    expect(campaign.status).toBe('live');
    const stopped = await herald.request('POST', `/v1/campaigns/${campaign.id}/stop`);
    expect(stopped.status).toBe(200);
    expect(stopped.body.status).toBe('stopped');
    const result = await herald.client.workflow.getHandle(activationWorkflowId(campaign.id)).result();
    expect(result.status).toBe('stopped');
    const trigger = await herald.request('POST', '/v1/executions/unitary', {
      requestId: `after-stop-${campaign.id}`,
      campaignId: campaign.id,
      recipients: [{ userId: 'a@example.com', namespace: 'email' }],
    });
    expect(trigger.status).toBe(409);
    expect((await herald.request('POST', `/v1/campaigns/${campaign.id}/stop`)).status).toBe(200);
    const draft = await herald.request('POST', '/v1/campaigns', emailCampaign());
    expect((await herald.request('POST', `/v1/campaigns/${draft.body.id}/stop`)).status).toBe(409);
  });

  it('a repeated stop signals the workflow again, repairing a stop whose signal was lost', async () => {
    const campaign = await liveCampaign(herald);
    // What a stop leaves behind when it wrote the database and then failed to signal.
    await herald.db.updateTable('campaigns').set({ status: 'stopped' }).where('id', '=', campaign.id).execute();
    const handle = herald.client.workflow.getHandle(activationWorkflowId(campaign.id));
    expect((await handle.describe()).status.name).toBe('RUNNING');
    const repaired = await herald.request('POST', `/v1/campaigns/${campaign.id}/stop`);
    expect(repaired.status).toBe(200);
    expect(repaired.body.status).toBe('stopped');
    expect((await handle.result()).status).toBe('stopped');
    // Once the workflow has ended, a further stop still answers 200.
    expect((await herald.request('POST', `/v1/campaigns/${campaign.id}/stop`)).status).toBe(200);
  });
});
