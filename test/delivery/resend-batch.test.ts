import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { EmailMessage } from '../../src/channels/email/email-provider';
import { OutboxEmailProvider } from '../../src/channels/email/outbox-provider';
import { ResendEmailProvider } from '../../src/channels/email/resend-provider';
import { ProviderRejectedError, ProviderUnavailableError } from '../../src/channels/provider-errors';
import { batchIdempotencyKey, providerIdempotencyKey } from '../../src/channels/provider-idempotency-key';
import { migrateToLatest, openDatabase, type HeraldDb } from '../../src/db/database';
import { OutboxRepository, type NewOutboxMessage } from '../../src/repositories/outbox';
import { startProviderProxy, type ProviderProxy } from '../faults/support/provider-proxy';
import { startFakeResend, type FakeResend } from '../support/fake-resend';
import { createTestDatabase } from '../support/postgres-server';

/**
 * Batch email sending: the real ResendEmailProvider, through the official `resend` SDK, against
 * the fake Resend's `POST /emails/batch` on a loopback port; and the outbox provider's batch
 * insert on the suite's database (SQLite, or PostgreSQL with HERALD_TEST_DATABASE=postgres).
 */

let run = 0;
/** `count` messages of one execution, each to its own recipient; `label` keeps runs apart. */
function messages(count: number, label = `run${++run}`, change: (message: EmailMessage, index: number) => Partial<EmailMessage> = () => ({})): EmailMessage[] {
  const executionId = `exec-${label}`;
  return Array.from({ length: count }, (_, index) => {
    const userId = `${label}-user${index}@example.com`;
    const message: EmailMessage = {
      from: 'Herald <herald@example.com>',
      to: userId,
      subject: `Hello ${index}`,
      html: `<p>Hi number ${index}</p>`,
      text: `Hi number ${index}`,
      replyTo: 'support@example.com',
      headers: { 'List-Unsubscribe': `<https://example.com/u/${index}>` },
      idempotencyKey: providerIdempotencyKey(executionId, userId, 'email'),
      campaignId: 'campaign-batch',
      executionId,
      userId,
    };
    return { ...message, ...change(message, index) };
  });
}

describe('batchIdempotencyKey', () => {
  it('is stable, distinct per execution and batch, and header-safe whatever the execution id holds', () => {
    expect(batchIdempotencyKey('01JEXEC', 0)).toBe('herald-batch/01JEXEC/0');
    expect(batchIdempotencyKey('01JEXEC', 7)).toBe(batchIdempotencyKey('01JEXEC', 7));
    expect(new Set([batchIdempotencyKey('01JEXEC', 0), batchIdempotencyKey('01JEXEC', 1), batchIdempotencyKey('01JEXED', 0)]).size).toBe(3);
    for (const odd of ['zoë-名前', 'x'.repeat(300), 'with space']) {
      const key = batchIdempotencyKey(odd, 3);
      expect(key).toMatch(/^herald-batch-[0-9a-f]{64}$/);
      expect(key).toBe(batchIdempotencyKey(odd, 3));
    }
    expect(() => batchIdempotencyKey('01JEXEC', -1)).toThrow();
    expect(() => batchIdempotencyKey('01JEXEC', 1.5)).toThrow();
  });
});

describe('ResendEmailProvider.sendBatch against the fake Resend', () => {
  let fake: FakeResend;
  let proxy: ProviderProxy;
  let resend: ResendEmailProvider;

  beforeAll(async () => {
    fake = await startFakeResend();
    proxy = await startProviderProxy(fake.url);
    resend = new ResendEmailProvider(fake.apiKey, fake.url, 5_000);
  });
  afterAll(async () => {
    await proxy?.close();
    await fake?.close();
  });
  afterEach(() => fake.reset());

  it('delivers a batch of 100 in one request and answers the ids in order', async () => {
    const batch = messages(100);
    const key = batchIdempotencyKey(batch[0]!.executionId, 0);

    const { messageIds } = await resend.sendBatch(batch, key);

    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/emails/batch', idempotencyKey: key, status: 200 });
    expect(request!.headers['x-batch-validation']).toBe('strict');
    expect(fake.deliveries).toHaveLength(100);
    expect(messageIds).toEqual(fake.deliveries.map((delivery) => delivery.id));
    expect(new Set(messageIds).size).toBe(100);
    batch.forEach((message, index) => {
      const delivery = fake.deliveries[index]!;
      expect(delivery).toMatchObject({
        batchIndex: index,
        to: [message.to],
        from: message.from,
        subject: message.subject,
        html: message.html,
        text: message.text,
      });
      expect(delivery.body.reply_to).toBe('support@example.com');
      expect(delivery.body.headers).toEqual(message.headers);
      expect(delivery.tags).toEqual([
        { name: 'campaign_id', value: 'campaign-batch' },
        { name: 'execution_id', value: message.executionId },
      ]);
    });
    expect(Object.values(fake.deliveriesByRecipient())).toEqual(Array(100).fill(1));
  });

  it('a repeat under the same key delivers nothing new and answers the same ids', async () => {
    const batch = messages(100);
    const key = batchIdempotencyKey(batch[0]!.executionId, 0);

    const first = await resend.sendBatch(batch, key);
    const again = await resend.sendBatch(batch, key);

    expect(again.messageIds).toEqual(first.messageIds);
    expect(fake.requests.map((r) => r.status)).toEqual([200, 200]);
    expect(fake.deliveries).toHaveLength(100);
    expect(fake.deliveriesTo(batch[42]!.to)).toHaveLength(1);
  });

  it('refuses for good the same key with a different payload (409 invalid_idempotent_request)', async () => {
    const batch = messages(3);
    const key = batchIdempotencyKey(batch[0]!.executionId, 0);
    await resend.sendBatch(batch, key);

    const changed = batch.map((message, index) => (index === 1 ? { ...message, subject: 'Another subject' } : message));
    const error = await resend.sendBatch(changed, key).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderRejectedError);
    expect((error as Error).message).toContain('409');
    expect((error as Error).message).toContain('invalid_idempotent_request');
    expect(fake.requests.map((r) => r.status)).toEqual([200, 409]);
    expect(fake.deliveries).toHaveLength(3);
  });

  it('throws on more than 100 messages without calling Resend', async () => {
    const batch = messages(101);
    const error = await resend.sendBatch(batch, batchIdempotencyKey(batch[0]!.executionId, 0)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ProviderRejectedError);
    expect(error).not.toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).toContain('100');
    expect(fake.requests).toHaveLength(0);
  });

  it('the fake refuses a batch of 101 as Resend does', async () => {
    const res = await fetch(`${fake.url}/emails/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(messages(101).map(({ from, to, subject, html }) => ({ from, to, subject, html }))),
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ statusCode: 422, name: 'validation_error' });
    expect(fake.deliveries).toHaveLength(0);
  });

  it('429 is retryable after Retry-After, and the retry under the same key delivers once', async () => {
    const batch = messages(10);
    const key = batchIdempotencyKey(batch[0]!.executionId, 0);
    fake.failNext([{ status: 429, retryAfterSeconds: 3 }], { idempotencyKey: key });

    const error = await resend.sendBatch(batch, key).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as ProviderUnavailableError).retryAfterMs).toBe(3_000);
    expect((error as Error).message).toContain('rate_limit_exceeded');
    expect(fake.deliveries).toHaveLength(0);

    const { messageIds } = await resend.sendBatch(batch, key);
    expect(messageIds).toHaveLength(10);
    expect(fake.requestsFor(key).map((r) => r.status)).toEqual([429, 200]);
    expect(fake.deliveries).toHaveLength(10);
  });

  it('500 is retryable, without Retry-After', async () => {
    const batch = messages(5);
    fake.failNext([{ status: 500 }], { to: batch[3]!.to });

    const error = await resend.sendBatch(batch, batchIdempotencyKey(batch[0]!.executionId, 0)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as ProviderUnavailableError).retryAfterMs).toBeUndefined();
    expect(fake.deliveries).toHaveLength(0);
  });

  it('one email Resend refuses (422) refuses the whole batch for good, in strict mode', async () => {
    const batch = messages(5);
    fake.rejectAddress(batch[2]!.to, 422);

    const error = await resend.sendBatch(batch, batchIdempotencyKey(batch[0]!.executionId, 0)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderRejectedError);
    expect((error as Error).message).toContain('422');
    expect(fake.deliveries).toHaveLength(0);
  });

  it('a batch accepted but whose answer was lost is delivered once when retried under the same key', async () => {
    const batch = messages(20);
    const key = batchIdempotencyKey(batch[0]!.executionId, 0);
    fake.failNext([{ acceptThenDrop: true }], { idempotencyKey: key });

    await expect(resend.sendBatch(batch, key)).rejects.toBeInstanceOf(ProviderUnavailableError);
    const { messageIds } = await resend.sendBatch(batch, key);

    expect(fake.deliveries).toHaveLength(20);
    expect(messageIds).toEqual(fake.deliveries.map((delivery) => delivery.id));
  });

  it("a batch slower than the timeout is abandoned, and its retry gets the first call's ids", async () => {
    const impatient = new ResendEmailProvider(fake.apiKey, proxy.url, 500);
    const batch = messages(20);
    const key = batchIdempotencyKey(batch[0]!.executionId, 0);
    // Accepted at once, answered only once the retry arrives: the client has given up by then.
    proxy.slowFirstAttempt(batch[7]!.to, 'slow-answer', 10_000);

    const error = await impatient.sendBatch(batch, key).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    const { messageIds } = await impatient.sendBatch(batch, key);

    expect(proxy.attemptsFor(key).map((attempt) => attempt.slow ?? 'normal')).toEqual(['slow-answer', 'normal']);
    expect(fake.deliveries).toHaveLength(20);
    expect(messageIds).toEqual(fake.deliveries.map((delivery) => delivery.id));
  });
});

describe('OutboxEmailProvider.sendBatch and OutboxRepository.storeMany', () => {
  let db: HeraldDb;
  let outbox: OutboxRepository;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    const adminUrl = inject('postgresAdminUrl');
    if (adminUrl) {
      const database = await createTestDatabase(adminUrl);
      db = openDatabase({ dialect: 'postgres', url: database.url });
      cleanups.push(
        () => database.drop(),
        () => db.destroy(),
      );
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'herald-outbox-batch-'));
      db = openDatabase(join(dir, 'herald.db'));
      cleanups.push(
        async () => rmSync(dir, { recursive: true, force: true }),
        () => db.destroy(),
      );
    }
    await migrateToLatest(db);
    outbox = new OutboxRepository(db);
  });
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const rowCount = async (executionId: string) =>
    Number(
      (
        await db
          .selectFrom('outbox')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('execution_id', '=', executionId)
          .executeTakeFirstOrThrow()
      ).n,
    );
  const asOutbox = (message: EmailMessage): NewOutboxMessage => ({
    idempotencyKey: message.idempotencyKey,
    channel: 'email',
    to: message.to,
    subject: message.subject,
    html: message.html,
    text: message.text ?? null,
    campaignId: message.campaignId,
    executionId: message.executionId,
    userId: message.userId,
  });

  it('stores a batch once per message key and answers the ids in order', async () => {
    const provider = new OutboxEmailProvider(outbox);
    const batch = messages(100);
    const key = batchIdempotencyKey(batch[0]!.executionId, 0);

    const { messageIds } = await provider.sendBatch(batch, key);
    expect(messageIds).toHaveLength(100);
    expect(new Set(messageIds).size).toBe(100);
    const stored = await outbox.list({ campaignId: 'campaign-batch', limit: 1_000 });
    const byId = new Map(stored.map((row) => [row.id, row]));
    batch.forEach((message, index) => {
      expect(byId.get(messageIds[index]!)).toMatchObject({
        to: message.to,
        subject: message.subject,
        html: message.html,
        text: message.text,
        userId: message.userId,
        executionId: message.executionId,
      });
    });

    const again = await provider.sendBatch(batch, key);
    expect(again.messageIds).toEqual(messageIds);
    expect(await rowCount(batch[0]!.executionId)).toBe(100);

    await expect(provider.sendBatch(messages(101), key)).rejects.toThrow(/100/);
  });

  it('storeMany keeps the ids of keys stored before, by store or storeMany, and of keys repeated in one call', async () => {
    const batch = messages(60).map(asOutbox);
    const single = await outbox.store(batch[5]!);
    const firstHalf = await outbox.storeMany(batch.slice(0, 30));
    expect(firstHalf[5]).toBe(single);

    const all = await outbox.storeMany([...batch, batch[40]!, batch[2]!]);
    expect(all.slice(0, 30)).toEqual(firstHalf);
    expect(all[60]).toBe(all[40]);
    expect(all[61]).toBe(all[2]);
    expect(new Set(all).size).toBe(60);
    expect(await rowCount(batch[0]!.executionId)).toBe(60);

    // More rows than one insert holds: stored all in one transaction, ids still in order.
    const large = messages(1_200).map(asOutbox);
    const largeIds = await outbox.storeMany(large);
    expect(new Set(largeIds).size).toBe(1_200);
    expect(await outbox.storeMany(large.slice(1_100))).toEqual(largeIds.slice(1_100));
    expect(await rowCount(large[0]!.executionId)).toBe(1_200);
    expect(await outbox.storeMany([])).toEqual([]);
  });

  it('measures storeMany: 10 batches of 100 messages', async () => {
    const provider = new OutboxEmailProvider(outbox);
    const label = `bench${++run}`;
    const html = `<html><body><p>${'Hello reader, this is a rendered campaign email. '.repeat(20)}</p></body></html>`;
    const batches = Array.from({ length: 10 }, (_, n) => messages(100, `${label}-b${n}`, () => ({ html })));
    await provider.sendBatch(messages(100, `${label}-warm`), 'warm-up');

    const started = performance.now();
    for (const [n, batch] of batches.entries()) await provider.sendBatch(batch, batchIdempotencyKey(batch[0]!.executionId, n));
    const elapsedMs = performance.now() - started;

    console.log(
      `[resend-batch] outbox sendBatch (storeMany) on ${inject('postgresAdminUrl') ? 'postgres' : 'sqlite'}: 10x100 messages in ${elapsedMs.toFixed(1)} ms, ${(elapsedMs / 1_000).toFixed(4)} ms/message`,
    );
    for (const batch of batches) expect(await rowCount(batch[0]!.executionId)).toBe(100);
  });
});
