import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SmtpEmailProvider, stableMessageId } from '../../src/channels/email/smtp-provider';
import { ProviderRejectedError, ProviderUnavailableError } from '../../src/channels/provider-errors';
import { providerIdempotencyKey } from '../../src/channels/provider-idempotency-key';
import { emailMessageTo } from './support/email-message';
import { startFakeSmtp, type FakeSmtp } from '../support/fake-smtp';

describe('the SMTP provider against a real SMTP server on loopback', () => {
  let fake: FakeSmtp;
  let smtp: SmtpEmailProvider;
  const message = emailMessageTo;

  beforeAll(async () => {
    fake = await startFakeSmtp({ username: 'herald', password: 'smtp-secret' });
    smtp = new SmtpEmailProvider({ host: fake.host, port: fake.port, secure: false, auth: { user: 'herald', pass: 'smtp-secret' } }, 2_000);
  });
  afterAll(() => fake.close());
  afterEach(() => fake.reset());

  it('sends the message with a Message-ID and an X-Herald-Idempotency-Key from the idempotency key', async () => {
    const sent = message('ada@example.com', { replyTo: ['help@acme.example'], headers: { 'X-Entity-Ref-ID': 'acme' } });
    const { messageId } = await smtp.send(sent);

    expect(messageId).toBe(`<${sent.idempotencyKey}@acme.example>`);
    expect(fake.messages).toHaveLength(1);
    const [received] = fake.messages;
    expect(received).toMatchObject({ mailFrom: 'no-reply@acme.example', rcptTo: ['ada@example.com'], user: 'herald' });
    expect(received!.headers).toMatchObject({
      'message-id': messageId,
      'x-herald-idempotency-key': sent.idempotencyKey,
      'x-entity-ref-id': 'acme',
      'reply-to': 'help@acme.example',
      subject: 'Your code',
      to: 'ada@example.com',
    });
    expect(received!.headers.from).toContain('no-reply@acme.example');
    expect(received!.raw).toContain('<p>Code 4711</p>');
    expect(received!.raw).toContain('Code 4711');
  });

  it('gives every attempt at one message the same Message-ID, hashing a key no Message-ID can carry', () => {
    const key = providerIdempotencyKey('exec-1', 'ada@example.com', 'email');
    expect(stableMessageId(key, 'Acme <no-reply@Acme.Example>')).toBe(`<${key}@acme.example>`);
    expect(stableMessageId(key, 'no-reply@acme.example')).toBe(stableMessageId(key, 'Acme <no-reply@acme.example>'));
    const legacy = stableMessageId('exec-1/ann@x.com/email', 'no-reply@acme.example');
    expect(legacy).toMatch(/^<herald-[0-9a-f]{64}@acme\.example>$/);
  });

  it('classifies every 4xx reply as retryable: 421, 450, 451 and 452, at RCPT TO or after DATA', async () => {
    fake.failNext([{ reply: 421, at: 'RCPT' }, { reply: 450, at: 'RCPT' }, { reply: 451 }, { reply: 452 }]);
    for (const code of [421, 450, 451, 452]) {
      const error = await smtp.send(message()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect((error as Error).message).toContain(`SMTP ${code}`);
    }
    expect(fake.messages).toHaveLength(0);
    await smtp.send(message());
    expect(fake.messages).toHaveLength(1);
  });

  it('classifies 5xx replies as permanent: an unknown recipient, a refused message', async () => {
    fake.rejectAddress('gone@example.com', 550, '5.1.1 No such user');
    const gone = await smtp.send(message('gone@example.com')).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(ProviderRejectedError);
    expect((gone as Error).message).toMatch(/^SMTP 550 at RCPT TO: .*No such user/);

    fake.failNext([
      { reply: 553, at: 'RCPT' },
      { reply: 554, message: '5.7.1 Message refused as spam' },
    ]);
    for (const code of [553, 554]) {
      const refused = await smtp.send(message()).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ProviderRejectedError);
      expect((refused as Error).message).toContain(`SMTP ${code}`);
    }
    expect(fake.messages).toHaveLength(0);
  });

  it('refuses for good with wrong credentials (535)', async () => {
    const wrong = new SmtpEmailProvider({ host: fake.host, port: fake.port, secure: false, auth: { user: 'herald', pass: 'wrong' } }, 2_000);
    const error = await wrong.send(message()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderRejectedError);
    expect((error as Error).message).toContain('SMTP 535');
  });

  it('treats a refused connection, a dropped one and a held DATA as retryable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = new SmtpEmailProvider({ host: '127.0.0.1', port, secure: false }, 2_000);
    await expect(refused.send(message())).rejects.toBeInstanceOf(ProviderUnavailableError);

    fake.failNext([{ dropConnection: true }]);
    await expect(smtp.send(message())).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(fake.messages).toHaveLength(0);

    const impatient = new SmtpEmailProvider({ host: fake.host, port: fake.port, secure: false, auth: { user: 'herald', pass: 'smtp-secret' } }, 300);
    fake.failNext([{ hold: true }]);
    const started = Date.now();
    const held = await impatient.send(message()).catch((e: unknown) => e);
    expect(held).toBeInstanceOf(ProviderUnavailableError);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(fake.messages).toHaveLength(0);
  });

  it('after a lost answer, the retry sends a second copy with the same Message-ID and key (no SMTP idempotency)', async () => {
    const sent = message('cy@example.com');
    fake.failNext([{ acceptThenDrop: true }]);
    await expect(smtp.send(sent)).rejects.toBeInstanceOf(ProviderUnavailableError);
    const { messageId } = await smtp.send(sent);

    const copies = fake.messagesTo('cy@example.com');
    expect(copies).toHaveLength(2);
    expect(copies.map((copy) => copy.headers['message-id'])).toEqual([messageId, messageId]);
    expect(copies.map((copy) => copy.headers['x-herald-idempotency-key'])).toEqual([sent.idempotencyKey, sent.idempotencyKey]);
  });

  it('refuses a batch as a whole before sending anything, so its messages go one by one', async () => {
    const error = await smtp.sendBatch([message('a@example.com'), message('b@example.com')], 'herald-batch/exec-1/0').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderRejectedError);
    expect(fake.attempts).toHaveLength(0);
    expect(await smtp.sendBatch([], 'herald-batch/exec-1/1')).toEqual({ messageIds: [] });
  });
});
