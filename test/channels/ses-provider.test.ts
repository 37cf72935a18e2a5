import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SesEmailProvider, type SesAccount } from '../../src/channels/email/ses-provider';
import { ProviderRejectedError, ProviderUnavailableError } from '../../src/channels/provider-errors';
import { emailMessageTo } from './support/email-message';
import { startFakeSes, type FakeSes } from '../support/fake-ses';

describe('the SES provider against the fake SES v2 API', () => {
  let fake: FakeSes;
  let account: SesAccount;
  let ses: SesEmailProvider;
  const message = emailMessageTo;

  beforeAll(async () => {
    fake = await startFakeSes();
    account = { region: fake.region, accessKeyId: fake.accessKeyId, secretAccessKey: fake.secretAccessKey, endpoint: fake.url };
    ses = new SesEmailProvider({ ...account, configurationSet: 'acme-transactional' }, 2_000);
  });
  afterAll(() => fake.close());
  afterEach(() => fake.reset());

  it('sends SendEmail signed with SigV4 and answers the SES MessageId', async () => {
    const sent = message('ada@example.com', { replyTo: 'help@acme.example', headers: { 'X-Entity-Ref-ID': 'acme' } });
    const { messageId } = await ses.send(sent);

    expect(fake.messages).toHaveLength(1);
    const [received] = fake.messages;
    expect(messageId).toBe(received!.messageId);
    expect(received).toMatchObject({
      from: 'Acme <no-reply@acme.example>',
      to: ['ada@example.com'],
      replyTo: ['help@acme.example'],
      subject: 'Your code',
      html: '<p>Code 4711</p>',
      text: 'Code 4711',
      configurationSet: 'acme-transactional',
      headers: { 'X-Entity-Ref-ID': 'acme', 'X-Herald-Idempotency-Key': sent.idempotencyKey },
      tags: [
        { Name: 'campaign_id', Value: '01KCAMPAIGN' },
        { Name: 'execution_id', Value: '01KEXECUTION' },
      ],
    });
    const [request] = fake.requests;
    expect(request!.path).toBe('/v2/email/outbound-emails');
    expect(request!.headers.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${fake.accessKeyId}/\\d{8}/${fake.region}/ses/aws4_request`));
  });

  it('classifies 429 (with Retry-After), 5xx, throttling names and a dropped connection as retryable, without retrying itself', async () => {
    fake.failNext([
      { status: 429, retryAfterSeconds: 3 },
      { status: 500 },
      { status: 503 },
      { status: 400, name: 'LimitExceededException', message: 'Maximum sending rate exceeded.' },
      { dropConnection: true },
    ]);
    const rateLimited = await ses.send(message()).catch((e: unknown) => e);
    expect(rateLimited).toBeInstanceOf(ProviderUnavailableError);
    expect(rateLimited).toMatchObject({ retryAfterMs: 3000, message: expect.stringContaining('SES 429 TooManyRequestsException') });
    for (let i = 0; i < 4; i++) await expect(ses.send(message())).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(fake.requests).toHaveLength(5);
    expect(fake.messages).toHaveLength(0);
  });

  it('classifies other 4xx as permanent: a rejected message, an unverified sender, wrong keys', async () => {
    fake.rejectAddress('gone@example.com');
    const rejected = await ses.send(message('gone@example.com')).catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(ProviderRejectedError);
    expect((rejected as Error).message).toMatch(/^SES 400 MessageRejected: Email address is not verified/);

    fake.failNext([{ status: 400, name: 'MailFromDomainNotVerifiedException', message: 'MAIL FROM domain not verified' }]);
    await expect(ses.send(message())).rejects.toBeInstanceOf(ProviderRejectedError);

    const wrongKey = new SesEmailProvider({ ...account, accessKeyId: 'AKIAWRONG' }, 2_000);
    await expect(wrongKey.send(message())).rejects.toThrow(/SES 403 UnrecognizedClientException/);
    expect(fake.messages).toHaveLength(0);
  });

  it('gives up on a held request after its timeout, and on a refused connection, as retryable', async () => {
    const impatient = new SesEmailProvider(account, 300);
    fake.failNext([{ hold: true }]);
    const started = Date.now();
    await expect(impatient.send(message())).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(Date.now() - started).toBeLessThan(5_000);

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = new SesEmailProvider({ ...account, endpoint: `http://127.0.0.1:${port}` }, 2_000);
    await expect(refused.send(message())).rejects.toThrow(/^SES unreachable/);
  });

  it('after a lost answer, the retry sends a second copy carrying the same X-Herald-Idempotency-Key (no SES idempotency)', async () => {
    const sent = message('cy@example.com');
    fake.failNext([{ acceptThenDrop: true }]);
    await expect(ses.send(sent)).rejects.toBeInstanceOf(ProviderUnavailableError);
    await ses.send(sent);
    const copies = fake.messagesTo('cy@example.com');
    expect(copies).toHaveLength(2);
    expect(copies.map((copy) => copy.headers['X-Herald-Idempotency-Key'])).toEqual([sent.idempotencyKey, sent.idempotencyKey]);
  });

  it('refuses a batch as a whole before sending anything, so its messages go one by one', async () => {
    await expect(ses.sendBatch([message('a@example.com'), message('b@example.com')], 'herald-batch/exec-1/0')).rejects.toBeInstanceOf(ProviderRejectedError);
    expect(fake.requests).toHaveLength(0);
  });
});
