import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withKey, type Requester } from '../support/api-keys';
import { startHerald, type Herald } from '../support/herald-harness';

const BOOT = 'erasure-steps-key-0123456789abcdef';

/**
 * What campaign steps hold about a person (migration 0023), in the export and the erasure:
 * `inbound_events` and `event_waits` rows of two people (and of the same userId in another
 * namespace), written directly to the database, since the tables' reading and erasing is under
 * test here, not the steps (test/steps/). Only the person's rows are exported and erased, and the
 * cancellationKey goes from the person's own executions and from shared ones that name them.
 */
describe('erasing and exporting what campaign steps hold about a person', () => {
  let herald: Herald;
  let full: Requester;
  const tag = randomUUID().slice(0, 8);
  const ADA = `ada-steps-${tag}`;
  const BOB = `bob-steps-${tag}`;
  const id = (name: string) => `01STEPS${tag.toUpperCase()}${name}`;

  beforeAll(async () => {
    herald = await startHerald({ withoutWorker: true, env: { HERALD_API_KEYS: BOOT } });
    full = withKey(herald, BOOT);
  });
  afterAll(async () => {
    await herald?.stop();
  });

  /** A running execution of `recipients` (crm namespace, one delivery each) triggered with `cancellationKey`. */
  async function execution(executionId: string, campaign: { id: string; version: number }, cancellationKey: string, recipients: string[]) {
    const now = new Date().toISOString();
    await herald.db
      .insertInto('executions')
      .values({
        id: executionId,
        request_id: `req-${executionId}`,
        request_hash: 'x',
        campaign_id: campaign.id,
        campaign_version: campaign.version,
        workflow_id: `wf-${executionId}`,
        status: 'running',
        failure_reason: null,
        created_at: now,
        completed_at: null,
        workflow_checked_at: null,
        context: null,
        started_by_key_id: null,
        details_purged_at: null,
        cancellation_key: cancellationKey,
      })
      .execute();
    await herald.db
      .insertInto('deliveries')
      .values(
        recipients.map((userId, position) => ({
          execution_id: executionId,
          user_id: userId,
          position,
          namespace: 'crm',
          channel: 'email' as const,
          status: 'pending' as const,
          reason: null,
          address: null,
          message_id: null,
          updated_at: now,
          context: null,
          channel_data: null,
        })),
      )
      .execute();
  }

  const wait = (executionId: string, position: number, namespace: string, userId: string, createdAt: string) => ({
    execution_id: executionId,
    position,
    step_id: 'wait-paid',
    workflow_id: `wf-${executionId}`,
    name: 'order.paid',
    namespace,
    user_id: userId,
    match_value: '"order-1"',
    created_at: createdAt,
  });
  const event = (eventId: string, namespace: string, userId: string, receivedAt: string, matched = 1) => ({
    event_id: eventId,
    name: 'order.paid',
    namespace,
    user_id: userId,
    matched,
    received_at: receivedAt,
  });

  it("exports the person's events and waits, never another's, and erases only theirs", async () => {
    const created = await full('POST', '/v1/campaigns', {
      name: 'Cart reminder',
      type: 'transactional',
      channel: 'email',
      content: { subject: 'Your cart', html: '<p>Still there</p>' },
      audience: { namespace: 'crm', createMissingProfiles: false },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const campaign = await herald.db.selectFrom('campaigns').select(['id', 'version']).where('id', '=', created.body.id).executeTakeFirstOrThrow();

    // Ada's own run, one shared with Bob under a neutral key, one shared under a key naming Ada, Bob's own.
    await execution(id('ADA'), campaign, `cart-${ADA}`, [ADA]);
    await execution(id('SHARED'), campaign, `order-42-${tag}`, [ADA, BOB]);
    await execution(id('NAMING'), campaign, `remind-${ADA}`, [BOB, ADA]);
    await execution(id('BOB'), campaign, `cart-${BOB}`, [BOB]);
    await herald.db
      .insertInto('event_waits')
      .values([
        wait(id('ADA'), 0, 'crm', ADA, '2026-12-01T10:00:00.000Z'),
        wait(id('SHARED'), 0, 'crm', ADA, '2026-12-01T11:00:00.000Z'),
        wait(id('SHARED'), 1, 'crm', BOB, '2026-12-01T11:00:00.000Z'),
        wait(id('BOB'), 0, 'crm', BOB, '2026-12-01T12:00:00.000Z'),
        // The same userId in another namespace is another person.
        wait(id('BOB'), 1, 'other', ADA, '2026-12-01T12:00:00.000Z'),
      ])
      .execute();
    await herald.db
      .insertInto('inbound_events')
      .values([
        event(`paid-${tag}-1`, 'crm', ADA, '2026-12-01T10:30:00.000Z'),
        event(`paid-${tag}-2`, 'crm', ADA, '2026-12-01T11:30:00.000Z', 0),
        event(`paid-${tag}-3`, 'crm', BOB, '2026-12-01T11:45:00.000Z'),
        event(`paid-${tag}-4`, 'other', ADA, '2026-12-01T11:50:00.000Z'),
      ])
      .execute();

    // Before: the export shows Ada's events, newest first, and her waits with their campaign.
    const before = await full('GET', `/v1/profiles/crm/${ADA}/export`);
    expect(before.status, JSON.stringify(before.body)).toBe(200);
    expect(before.body.inboundEvents).toEqual([
      { name: 'order.paid', receivedAt: '2026-12-01T11:30:00.000Z', matched: 0 },
      { name: 'order.paid', receivedAt: '2026-12-01T10:30:00.000Z', matched: 1 },
    ]);
    expect(before.body.inboundEventsTruncated).toBe(false);
    expect(before.body.eventWaits).toEqual([
      { event: 'order.paid', campaignId: campaign.id, stepId: 'wait-paid', createdAt: '2026-12-01T10:00:00.000Z' },
      { event: 'order.paid', campaignId: campaign.id, stepId: 'wait-paid', createdAt: '2026-12-01T11:00:00.000Z' },
    ]);
    const bobBefore = await full('GET', `/v1/profiles/crm/${BOB}/export`);
    expect(bobBefore.body.inboundEvents).toHaveLength(1);
    expect(bobBefore.body.eventWaits).toHaveLength(2);

    const erased = await full('DELETE', `/v1/profiles/crm/${ADA}`);
    expect(erased.status, JSON.stringify(erased.body)).toBe(202);
    expect(erased.body.erased).toMatchObject({ profiles: 0, deliveries: 3, eventWaits: 2, events: 2, executions: 2 });

    // Only Ada's rows are gone; Bob's and the other namespace's stay.
    const waits = await herald.db
      .selectFrom('event_waits')
      .select(['execution_id', 'namespace', 'user_id'])
      .orderBy('execution_id')
      .orderBy('position')
      .execute();
    expect(waits).toEqual([
      { execution_id: id('BOB'), namespace: 'crm', user_id: BOB },
      { execution_id: id('BOB'), namespace: 'other', user_id: ADA },
      { execution_id: id('SHARED'), namespace: 'crm', user_id: BOB },
    ]);
    const events = await herald.db.selectFrom('inbound_events').select('event_id').where('event_id', 'like', `paid-${tag}-%`).orderBy('event_id').execute();
    expect(events.map((e) => e.event_id)).toEqual([`paid-${tag}-3`, `paid-${tag}-4`]);

    // The cancellationKey goes from Ada's own run and from the shared run it names; the others keep theirs.
    const keys = await herald.db
      .selectFrom('executions')
      .select(['id', 'cancellation_key'])
      .where('id', 'like', `${id('')}%`)
      .orderBy('id')
      .execute();
    expect(Object.fromEntries(keys.map((row) => [row.id, row.cancellation_key]))).toEqual({
      [id('ADA')]: null,
      [id('BOB')]: `cart-${BOB}`,
      [id('NAMING')]: null,
      [id('SHARED')]: `order-42-${tag}`,
    });

    expect((await full('GET', `/v1/profiles/crm/${ADA}/export`)).status).toBe(404);
    const bobAfter = await full('GET', `/v1/profiles/crm/${BOB}/export`);
    expect(bobAfter.body.inboundEvents).toEqual(bobBefore.body.inboundEvents);
    expect(bobAfter.body.eventWaits).toEqual(bobBefore.body.eventWaits);
  });

  it('exports and erases a person Herald knows only from an event', async () => {
    const userId = `only-events-${tag}`;
    await herald.db
      .insertInto('inbound_events')
      .values(event(`login-${tag}`, 'crm', userId, '2026-12-02T09:00:00.000Z', 0))
      .execute();
    const exported = await full('GET', `/v1/profiles/crm/${userId}/export`);
    expect(exported.status, JSON.stringify(exported.body)).toBe(200);
    expect(exported.body).toMatchObject({ profile: null, deliveries: [], eventWaits: [], inboundEvents: [{ name: 'order.paid', matched: 0 }] });
    const erased = await full('DELETE', `/v1/profiles/crm/${userId}`);
    expect(erased.status, JSON.stringify(erased.body)).toBe(202);
    expect(erased.body.erased).toMatchObject({ profiles: 0, deliveries: 0, events: 1, eventWaits: 0 });
    expect((await full('DELETE', `/v1/profiles/crm/${userId}`)).status).toBe(404);
  });
});
