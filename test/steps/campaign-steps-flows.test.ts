/**
 * Campaign steps end to end: the real HTTP API and worker (Herald's own activities, SQLite or the
 * PostgreSQL suite's database, the outbox providers), on Temporal's time-skipping test server, so a
 * PT1H delay or a P7D timeout passes in milliseconds (`env.sleep`), never on the wall clock.
 * These are docs/steps.md's four recipes, with the outbox holding exactly what each promises.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startTimeSkipping } from '../support/time-skipping';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveTestServerExecutable } from '../../temporal/test-server-binary';
import { startHerald, type Herald } from '../support/herald-harness';
import { uniqueRequestId } from '../support/campaigns';

const executable = resolveTestServerExecutable((line) => console.log(`[steps flows] ${line}`));

interface OutboxItem {
  to: string;
  subject: string | null;
  html: string | null;
  text: string | null;
  executionId: string;
  channel?: string;
}

describe.skipIf(!executable)('campaign steps end to end (time-skipping server, real API and worker)', () => {
  let env: TestWorkflowEnvironment;
  let herald: Herald;

  beforeAll(async () => {
    env = await startTimeSkipping(executable!);
    herald = await startHerald({ timeSkipping: env, env: { HERALD_SMS_PROVIDER: 'outbox' } });
  }, 180_000);
  afterAll(async () => {
    await herald?.stop();
    await env?.teardown();
  });

  async function live(body: Record<string, unknown>): Promise<string> {
    const created = await herald.request('POST', '/v1/campaigns', {
      type: 'transactional',
      channel: 'email',
      audience: { namespace: 'crm', createMissingProfiles: true },
      ...body,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const activated = await herald.request('POST', `/v1/campaigns/${created.body.id}/activate`);
    expect(activated.status, JSON.stringify(activated.body)).toBe(200);
    return created.body.id;
  }

  async function trigger(campaignId: string, userId: string, context: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
    const res = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('steps'),
      campaignId,
      recipients: [{ userId, namespace: 'crm', channelData: { emailAddress: `${userId}@example.com`, mobilePhoneNumber: '+14155550100' } }],
      context,
      ...extra,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body.executionId as string;
  }

  async function outbox(campaignId: string): Promise<OutboxItem[]> {
    const res = await herald.request('GET', `/v1/outbox?campaignId=${campaignId}`);
    return res.body.items;
  }

  /** Waits until the execution is no longer running, skipping workflow time meanwhile (up to about 8 days). */
  async function settle(executionId: string): Promise<any> {
    for (let i = 0; i < 200; i++) {
      const { body } = await herald.request('GET', `/v1/executions/${executionId}`);
      if (body.status !== 'running') return body;
      await env.sleep(i < 20 ? '1 minute' : '1 hour');
    }
    throw new Error(`execution ${executionId} still running`);
  }

  /** Polls (without skipping time) until the execution shows `field`, which a step's activity records. */
  async function until(executionId: string, field: string): Promise<any> {
    for (let i = 0; i < 100; i++) {
      const body = await execution(executionId);
      if (body[field] !== undefined) return body;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`execution ${executionId} never showed ${field}`);
  }

  async function execution(executionId: string): Promise<any> {
    return (await herald.request('GET', `/v1/executions/${executionId}`)).body;
  }

  it('delay: sends after a PT1H delay, in workflow time', async () => {
    const campaignId = await live({
      name: 'Delayed hello',
      content: { subject: 'Hello {{ context.name }}', html: '<p>Hi</p>' },
      steps: [
        { id: 'wait', type: 'delay', duration: 'PT1H' },
        { id: 'hello', type: 'send' },
      ],
    });
    const executionId = await trigger(campaignId, 'ada', { name: 'Ada' });
    await env.sleep('10 minutes');
    expect(await outbox(campaignId)).toHaveLength(0);
    const waiting = await execution(executionId);
    expect(waiting.recipients[0].steps[0]).toMatchObject({ id: 'wait', type: 'delay', status: 'waiting' });
    const done = await settle(executionId);
    expect(done.status).toBe('completed');
    expect(done.recipients[0].steps).toMatchObject([
      { id: 'wait', type: 'delay', status: 'done' },
      { id: 'hello', type: 'send', status: 'sent' },
    ]);
    const sent = await outbox(campaignId);
    expect(sent.map((m) => m.subject)).toEqual(['Hello Ada']);
  });

  it('digest of comments: five triggers within the window make one email listing them, each trigger answered', async () => {
    const campaignId = await live({
      name: 'Comment digest',
      content: {
        subject: '{{ digest.count }} new comments',
        html: '<ul>{% for e in digest.events %}<li>{{ e.author }}: {{ e.text }}</li>{% endfor %}</ul>',
      },
      steps: [
        { id: 'gather', type: 'digest', window: 'PT10M', key: '{{ context.threadId }}' },
        { id: 'email', type: 'send' },
      ],
    });
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++)
      ids.push(await trigger(campaignId, 'grace', { threadId: 't-1', author: `user${i}`, text: `comment ${i}` }, { requestId: `comment-${campaignId}-${i}` }));
    // A repeated call (same requestId and body) is the same trigger: it is not counted twice.
    const repeat = await herald.request('POST', '/v1/executions/unitary', {
      requestId: `comment-${campaignId}-3`,
      campaignId,
      recipients: [{ userId: 'grace', namespace: 'crm', channelData: { emailAddress: 'grace@example.com', mobilePhoneNumber: '+14155550100' } }],
      context: { threadId: 't-1', author: 'user3', text: 'comment 3' },
    });
    expect(repeat).toMatchObject({ status: 202, body: { executionId: ids[2] } });
    // Another thread gathers on its own.
    const other = await trigger(campaignId, 'grace', { threadId: 't-2', author: 'zoe', text: 'elsewhere' });
    // The trigger whose run joined first opened the digest; every other one folded into it.
    const placed = await Promise.all(ids.map((id) => until(id, 'digestExecutionId')));
    const first = placed[0].digestExecutionId as string;
    expect(ids).toContain(first);
    for (const folded of placed.filter((e) => e.executionId !== first)) expect(folded).toMatchObject({ status: 'digested', digestExecutionId: first });
    expect(placed.filter((e) => e.status === 'digested')).toHaveLength(4);
    const done = await settle(first);
    expect(done).toMatchObject({ status: 'completed', digestExecutionId: first, digest: { count: 5 } });
    await settle(other);
    const sent = await outbox(campaignId);
    expect(sent.map((m) => m.subject).sort()).toEqual(['1 new comments', '5 new comments']);
    const five = sent.find((m) => m.subject === '5 new comments')!;
    expect(five.html).toBe(
      '<ul><li>user1: comment 1</li><li>user2: comment 2</li><li>user3: comment 3</li><li>user4: comment 4</li><li>user5: comment 5</li></ul>',
    );
  });

  it('abandoned cart: a reminder an hour later unless order.paid arrives for that order', async () => {
    const campaignId = await live({
      name: 'Abandoned cart',
      content: { subject: 'Your cart {{ context.orderId }} is waiting', html: '<p>Come back</p>' },
      steps: [
        { id: 'paid', type: 'waitForEvent', event: 'order.paid', timeout: 'PT1H', match: 'orderId', ifEvent: 'stop', ifTimeout: 'continue' },
        { id: 'remind', type: 'send' },
      ],
    });
    const paid = await trigger(campaignId, 'hedy', { orderId: 'o-1' });
    const unpaid = await trigger(campaignId, 'hedy', { orderId: 'o-2' });
    await env.sleep('5 minutes');
    const otherOrder = await herald.request('POST', '/v1/events', { name: 'order.paid', namespace: 'crm', userId: 'hedy', data: { orderId: 'o-9' } });
    expect(otherOrder).toMatchObject({ status: 202, body: { matched: 0 } });
    const event = { name: 'order.paid', namespace: 'crm', userId: 'hedy', data: { orderId: 'o-1' }, eventId: 'evt-o-1' };
    expect(await herald.request('POST', '/v1/events', event)).toMatchObject({ status: 202, body: { matched: 1 } });
    // The same eventId again reaches nothing new and answers the same.
    expect(await herald.request('POST', '/v1/events', event)).toMatchObject({ status: 202, body: { matched: 1 } });
    const stopped = await settle(paid);
    expect(stopped.status).toBe('completed');
    expect(stopped.recipients[0]).toMatchObject({ status: 'excluded', reason: 'stopped-by-event' });
    expect(stopped.recipients[0].steps).toMatchObject([{ id: 'paid', type: 'waitForEvent', status: 'stopped', reason: 'event-received' }]);
    const reminded = await settle(unpaid);
    expect(reminded.recipients[0].steps).toMatchObject([
      { id: 'paid', status: 'done', reason: 'event-timeout' },
      { id: 'remind', type: 'send', status: 'sent' },
    ]);
    expect((await outbox(campaignId)).map((m) => m.subject)).toEqual(['Your cart o-2 is waiting']);
    // An event after the run ended matches nothing.
    expect(await herald.request('POST', '/v1/events', { name: 'order.paid', namespace: 'crm', userId: 'hedy', data: { orderId: 'o-2' } })).toMatchObject({
      body: { matched: 0 },
    });
  });

  it('email, then SMS a day later only if the email was not opened', async () => {
    const campaignId = await live({
      name: 'Escalation',
      content: { subject: 'Your invoice', html: '<p>Pay here</p>' },
      steps: [
        { id: 'email', type: 'send' },
        { id: 'wait', type: 'delay', duration: 'P1D' },
        { id: 'unopened', type: 'condition', where: [{ step: 'email', op: 'notIn', value: ['opened', 'clicked'] }] },
        { id: 'sms', type: 'send', channel: 'sms', content: { body: 'Your invoice is due, {{ context.name }}' } },
      ],
    });
    const opened = await trigger(campaignId, 'ida', { name: 'Ida' });
    const ignored = await trigger(campaignId, 'joan', { name: 'Joan' });
    await env.sleep('1 minute');
    // Ida opens her email (recorded as Herald's open tracking would).
    await herald.db
      .insertInto('delivery_events')
      .values({ execution_id: opened, position: 0, type: 'opened', link_index: null, occurred_at: new Date().toISOString(), user_agent: null })
      .execute();
    const ida = await settle(opened);
    const joan = await settle(ignored);
    expect(ida.recipients[0].steps).toMatchObject([
      { id: 'email', status: 'sent' },
      { id: 'wait', status: 'done' },
      { id: 'unopened', type: 'condition', status: 'stopped', reason: 'stopped-by-condition' },
    ]);
    expect(joan.recipients[0].steps).toMatchObject([
      { id: 'email', status: 'sent' },
      { id: 'wait', status: 'done' },
      { id: 'unopened', status: 'done' },
      { id: 'sms', status: 'sent' },
    ]);
    expect(joan.counts).toMatchObject({ sent: 2 });
    const sent = await outbox(campaignId);
    expect(sent.map((m) => `${m.to} ${m.text ?? m.subject}`).sort()).toEqual([
      '+14155550100 Your invoice is due, Joan',
      'ida@example.com Pay here',
      'joan@example.com Pay here',
    ]);
  });

  it('cancel on login: the reminder waiting in its delay is cancelled and never sent', async () => {
    const campaignId = await live({
      name: 'Come back',
      content: { subject: 'We miss you', html: '<p>Log in</p>' },
      steps: [
        { id: 'wait', type: 'delay', duration: 'P3D' },
        { id: 'nudge', type: 'send' },
      ],
    });
    const kept = await trigger(campaignId, 'kay', {}, { cancellationKey: 'session-kay' });
    const cancelledRun = await trigger(campaignId, 'lin', {}, { cancellationKey: 'session-lin' });
    await env.sleep('1 hour');
    const cancel = await herald.request('POST', '/v1/executions/cancel', { campaignId, cancellationKey: 'session-lin' });
    expect(cancel).toMatchObject({ status: 200, body: { cancelled: 1 } });
    const lin = await settle(cancelledRun);
    expect(lin.recipients[0]).toMatchObject({ status: 'excluded', reason: 'cancelled' });
    expect(lin.recipients[0].steps).toMatchObject([{ id: 'wait', status: 'cancelled' }]);
    await settle(kept);
    expect((await outbox(campaignId)).map((m) => m.to)).toEqual(['kay@example.com']);
    expect(await herald.request('POST', '/v1/executions/cancel', { campaignId, cancellationKey: 'session-lin' })).toMatchObject({ body: { cancelled: 0 } });
  });

  it('erasing a person while their run waits: nothing more is sent and no profile is made for the placeholder', async () => {
    const campaignId = await live({
      name: 'Follow-up',
      content: { subject: 'Following up', html: '<p>Hi</p>' },
      steps: [
        { id: 'wait', type: 'delay', duration: 'PT2H' },
        { id: 'follow-up', type: 'send' },
      ],
    });
    const executionId = await trigger(campaignId, 'mia');
    await env.sleep('10 minutes');
    const erased = await herald.request('DELETE', '/v1/profiles/crm/mia');
    expect(erased.status, JSON.stringify(erased.body)).toBe(202);
    const done = await settle(executionId);
    expect(done.recipients[0]).toMatchObject({ userId: 'erased:0', status: 'excluded', reason: 'erased' });
    expect(await outbox(campaignId)).toHaveLength(0);
    const placeholders = await herald.db.selectFrom('profiles').select('user_id').where('user_id', 'like', 'erased:%').execute();
    expect(placeholders).toEqual([]);
  });

  it('in-app first, then email a day later only if the in-app message was not read', async () => {
    const campaignId = await live({
      name: 'Read it in the app',
      content: { subject: 'You have a message', html: '<p>Open the app</p>' },
      steps: [
        { id: 'inbox', type: 'send', channel: 'inApp', content: { title: 'New invoice', body: 'Invoice {{ context.number }} is ready' } },
        { id: 'wait', type: 'delay', duration: 'P1D' },
        { id: 'unread', type: 'condition', where: [{ step: 'inbox', op: 'notIn', value: ['seen', 'read'] }] },
        { id: 'email', type: 'send' },
      ],
    });
    const reader = await trigger(campaignId, 'nia', { number: 'F-1' });
    const ignorer = await trigger(campaignId, 'ora', { number: 'F-2' });
    for (const id of [reader, ignorer]) {
      await expect.poll(async () => (await execution(id)).recipients[0].steps?.[0]?.status, { timeout: 10_000 }).toBe('sent');
    }
    const stored = await herald.db
      .selectFrom('inbox_messages')
      .select(['execution_id', 'title', 'body'])
      .where('campaign_id', '=', campaignId)
      .orderBy('body')
      .execute();
    expect(stored.map(({ title, body }) => `${title}: ${body}`)).toEqual(['New invoice: Invoice F-1 is ready', 'New invoice: Invoice F-2 is ready']);
    // Nia reads hers (as PATCH /v1/inbox/messages/{id} records it).
    await herald.db
      .updateTable('inbox_messages')
      .set({ seen_at: new Date().toISOString(), read_at: new Date().toISOString() })
      .where('execution_id', '=', reader)
      .execute();
    const nia = await settle(reader);
    const ora = await settle(ignorer);
    expect(nia.recipients[0].steps).toMatchObject([
      { id: 'inbox', status: 'sent' },
      { id: 'wait', status: 'done' },
      { id: 'unread', status: 'stopped' },
    ]);
    expect(ora.recipients[0].steps).toMatchObject([
      { id: 'inbox', status: 'sent' },
      { id: 'wait', status: 'done' },
      { id: 'unread', status: 'done' },
      { id: 'email', status: 'sent' },
    ]);
    expect((await outbox(campaignId)).map((m) => m.to)).toEqual(['ora@example.com']);
  });
});
