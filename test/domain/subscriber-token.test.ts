import { describe, expect, it } from 'vitest';
import { SubscriberTokens } from '../../src/domain/subscriber-token';
import { TrackingTokens } from '../../src/domain/tracking';

const SECRET = 'subscriber-token-test-secret-0123456789';
const OLDER = 'an-older-subscriber-token-secret-987654321';
const ada = { namespace: 'crm', userId: 'ada@example.com' };
const NOW = Date.parse('2026-12-08T10:00:00Z');

describe('subscriber tokens', () => {
  const tokens = new SubscriberTokens([SECRET]);

  it('name one person until they expire', async () => {
    const token = await tokens.inboxToken(ada, NOW, NOW + 3_600_000);
    expect(await tokens.verifyInboxToken(token, NOW + 3_599_000)).toEqual(ada);
    expect(await tokens.verifyInboxToken(token, NOW + 3_600_000)).toBeUndefined();
  });

  it('refuse a token altered anywhere, signed with another key, or garbled', async () => {
    const token = await tokens.inboxToken(ada, NOW, NOW + 60_000);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const otherPerson = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'grace' })).toString('base64url');
    const flipped = `${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.at(-1)}`;
    for (const bad of [`${header}.${otherPerson}.${signature}`, `${header}.${payload}.${flipped}`, `${token}x`, 'not a token', '', 'a.b.c']) {
      expect(await tokens.verifyInboxToken(bad, NOW), bad).toBeUndefined();
    }
    expect(await new SubscriberTokens([OLDER]).verifyInboxToken(token, NOW)).toBeUndefined();
    // alg "none" is never taken.
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.`;
    expect(await tokens.verifyInboxToken(unsigned, NOW)).toBeUndefined();
  });

  it('keep verifying with an older key listed after the new one (rotation)', async () => {
    const token = await new SubscriberTokens([OLDER]).inboxToken(ada, NOW, NOW + 60_000);
    expect(await new SubscriberTokens([SECRET, OLDER]).verifyInboxToken(token, NOW)).toEqual(ada);
  });

  it('an inbox token is no page token and the other way round, and no tracking token either', async () => {
    const inbox = await tokens.inboxToken(ada, NOW, NOW + 60_000);
    const page = await tokens.pageToken(ada);
    expect(await tokens.verifyPageToken(page)).toEqual(ada);
    expect(await tokens.verifyPageToken(inbox)).toBeUndefined();
    expect(await tokens.verifyInboxToken(page, NOW)).toBeUndefined();
    expect(new TrackingTokens([SECRET]).verify(page)).toBeUndefined();
  });

  it('key a person for rate limits without naming them, the same for every token of theirs', () => {
    const key = tokens.personKey(ada);
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(key).not.toContain('ada');
    expect(tokens.personKey({ ...ada })).toBe(key);
    expect(tokens.personKey({ namespace: 'crm', userId: 'grace' })).not.toBe(key);
  });
});
