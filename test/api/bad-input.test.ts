import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';

const ada = { userId: 'ada@example.com', namespace: 'email' };

describe('bad input never gets a 500', () => {
  let herald: Herald;
  let campaign: { id: string };
  beforeAll(async () => {
    herald = await startHerald();
    campaign = await liveCampaign(herald, { content: { subject: 'Hi {{ context.name }}', html: '<p>{{ context.name }}</p>' } });
  });
  afterAll(() => herald.stop());

  const raw = async (body: string, headers: Record<string, string>) => {
    const res = await fetch(`${herald.baseUrl}/v1/executions/unitary`, { method: 'POST', body, headers });
    return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
  };

  it('malformed JSON is a 400 problem', async () => {
    for (const body of ['{', '{"requestId": }', 'null', '[]', '"string"', '\u0000']) {
      const res = await raw(body, { 'content-type': 'application/json' });
      expect(res.status, body).toBe(400);
      expect(res.type).toContain('application/problem+json');
    }
  });

  it('a missing or wrong content type is refused with a problem', async () => {
    const body = JSON.stringify({ requestId: uniqueRequestId(), campaignId: campaign.id, recipients: [ada] });
    const variants: Record<string, string>[] = [{}, { 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }];
    for (const headers of variants) {
      const res = await raw(body, headers);
      expect([400, 415], JSON.stringify(headers)).toContain(res.status);
      expect(res.type).toContain('application/problem+json');
    }
  });

  it('a body far over the limit gets 413 before the server has read it all', async () => {
    const total = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(256 * 1024, 'a');
    const url = new URL(`${herald.baseUrl}/v1/executions/unitary`);
    const result = await new Promise<{ status: number; sent: number }>((resolve, reject) => {
      let sent = 0;
      const req = httpRequest(
        {
          method: 'POST',
          hostname: url.hostname,
          port: url.port,
          path: url.pathname,
          headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        },
        (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, sent });
          req.destroy();
        },
      );
      req.on('error', (error) => (sent < total ? resolve({ status: -1, sent }) : reject(error)));
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      req.write('{"requestId":"');
      pump();
    });
    expect(result.status).toBe(413);
    expect(result.sent).toBeLessThan(total / 4);
  });

  it('deep nesting is refused with a 400, not a stack overflow', async () => {
    for (const depth of [40, 5000]) {
      const nested = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
      const res = await raw(
        `{"requestId":"${uniqueRequestId()}","campaignId":"${campaign.id}","recipients":[{"userId":"a@example.com","namespace":"email"}],"context":${nested}}`,
        { 'content-type': 'application/json' },
      );
      expect(res.status, `depth ${depth}`).toBe(400);
    }
    const arrays = `{"a":${'['.repeat(400_000)}${']'.repeat(400_000)}}`;
    const deepest = await raw(
      `{"requestId":"${uniqueRequestId()}","campaignId":"${campaign.id}","recipients":[{"userId":"a@example.com","namespace":"email"}],"context":${arrays}}`,
      { 'content-type': 'application/json' },
    );
    expect(deepest.status).toBe(400);
    const profile = await herald.request('PUT', '/v1/profiles/email/deep@example.com', `{"attributes":${'{"a":'.repeat(100)}1${'}'.repeat(100)}}`);
    expect(profile.status).toBe(400);
  });

  it('unicode edge cases in every string are stored and echoed, or refused with 400', async () => {
    const weird = ['Zoë 🎉 名前', '\u202Eevil\u202C', 'a\u0301', '\uFEFFbom', '𝕳𝖊𝖗𝖆𝖑𝖉'];
    for (const text of weird) {
      const created = await herald.request('POST', '/v1/campaigns', {
        name: text,
        type: 'transactional',
        channel: 'email',
        tags: [text],
        content: { subject: text, html: text },
        audience: { namespace: text, createMissingProfiles: true },
      });
      expect(created.status, text).toBe(201);
      expect(created.body.name).toBe(text);
      const profile = await herald.request('PUT', `/v1/profiles/${encodeURIComponent(text)}/${encodeURIComponent(text)}`, { attributes: { [text]: text } });
      expect(profile.status, text).toBe(201);
      expect(profile.body.attributes[text]).toBe(text);
    }
    for (const bad of ['a\u0000b', 'line\nbreak', '\ud800lone']) {
      const body = JSON.stringify({ requestId: bad, campaignId: campaign.id, recipients: [{ userId: bad, namespace: 'email' }] });
      const res = await raw(body, { 'content-type': 'application/json' });
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
    const execution = await herald.request('POST', '/v1/executions/unitary', {
      requestId: `unicode-${uniqueRequestId()}-名前🎉`,
      campaignId: campaign.id,
      recipients: [{ userId: 'zoë@example.com', namespace: 'email', context: { name: 'Zoë 🎉 \ud800' } }],
    });
    expect(execution.status).toBe(202);
    expect((await herald.waitForExecution(execution.body.executionId)).recipients[0].status).toBe('sent');
  });

  it('template-injection attempts in context render as inert text', async () => {
    const attempts = [
      '{{ 7*7 }}',
      '{% include "/etc/passwd" %}',
      "{{ ''.constructor.constructor('return process')().exit() }}",
      '{{ range.constructor("return global.process.mainModule")() }}',
      '${7*7}',
      '<%= 7*7 %>',
    ];
    const res = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId(),
      campaignId: campaign.id,
      recipients: attempts.map((name, i) => ({ userId: `inj${i}@example.com`, namespace: 'email', context: { name } })),
    });
    expect(res.status).toBe(202);
    const execution = await herald.waitForExecution(res.body.executionId);
    expect(execution.recipients.every((r: { status: string }) => r.status === 'sent')).toBe(true);
    const outbox = (await herald.request('GET', `/v1/outbox?campaignId=${campaign.id}`)).body.items as { userId: string; html: string; subject: string }[];
    attempts.forEach((attempt, i) => {
      const message = outbox.find((m) => m.userId === `inj${i}@example.com`)!;
      expect(message.subject).toBe(`Hi ${attempt}`);
      expect(message.html).not.toContain('49');
      expect(message.html).toContain(attempt.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;'));
    });
  });

  it('header injection in addresses is refused; in subjects it is flattened', async () => {
    const res = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId(),
      campaignId: campaign.id,
      recipients: [{ ...ada, channelData: { emailAddress: 'ada@example.com\r\nBcc: evil@example.com' } }],
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('recipients.0.channelData.emailAddress');
    const injected = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId(),
      campaignId: campaign.id,
      recipients: [{ ...ada, context: { name: 'x\r\nBcc: evil@example.com' } }],
    });
    const execution = await herald.waitForExecution(injected.body.executionId);
    const message = ((await herald.request('GET', `/v1/outbox?campaignId=${campaign.id}`)).body.items as { executionId: string; subject: string }[]).find(
      (m) => m.executionId === execution.executionId,
    )!;
    expect(message.subject).not.toMatch(/[\r\n]/);
  });
});

describe('rate limiting', () => {
  let herald: Herald;
  beforeAll(async () => {
    herald = await startHerald({ withoutWorker: true, env: { HERALD_API_KEYS: 'slow,fast', HERALD_RATE_LIMIT: '5', HERALD_RATE_LIMITS: 'fast=1000' } });
  });
  afterAll(() => herald.stop());

  it('answers 429 with Retry-After and RateLimit headers once a key spends its bucket, per key', async () => {
    const slow = await Promise.all(Array.from({ length: 12 }, () => herald.request('GET', '/v1/campaigns', undefined, { authorization: 'Bearer slow' })));
    const statuses = slow.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(5);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(6);
    const limited = slow.find((r) => r.status === 429)!;
    expect(limited.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get('ratelimit-limit')).toBe('5');
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    const ok = slow.find((r) => r.status === 200)!;
    expect(ok.headers.get('ratelimit-limit')).toBe('5');

    const fast = await Promise.all(Array.from({ length: 12 }, () => herald.request('GET', '/v1/campaigns', undefined, { authorization: 'Bearer fast' })));
    expect(fast.every((r) => r.status === 200)).toBe(true);

    await new Promise((r) => setTimeout(r, 1100));
    expect((await herald.request('GET', '/v1/campaigns', undefined, { authorization: 'Bearer slow' })).status).toBe(200);
  });

  it('is documented in the OpenAPI document', async () => {
    const doc = (await herald.request('GET', '/openapi.json')).body;
    const response = doc.paths['/v1/executions/unitary'].post.responses['429'];
    expect(Object.keys(response.headers)).toEqual(expect.arrayContaining(['Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset']));
  });
});
