import { describe, expect, it } from 'vitest';
import { collapseTagFromKey, uuidFromKey } from '../../src/channels/push/push-provider';
import { providerIdempotencyKey } from '../../src/channels/provider-idempotency-key';
import { deepLinkProblem, normalizePushToken, pushTokenProblem, webPushSubscription } from '../../src/domain/push';

const p256dh = `B${'A'.repeat(86)}`;
const auth = 'A'.repeat(22);

describe('push targets and ids', () => {
  it('derives a stable UUID (version 5 layout) and a 32-character collapse tag from the idempotency key', () => {
    const key = providerIdempotencyKey('exec-1', 'user-1', 'push');
    expect(uuidFromKey(key)).toBe(uuidFromKey(key));
    expect(uuidFromKey(key)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidFromKey(key)).not.toBe(uuidFromKey(providerIdempotencyKey('exec-1', 'user-2', 'push')));
    expect(collapseTagFromKey(key)).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('validates web subscriptions and stores them canonically', () => {
    const browser = JSON.stringify({ keys: { auth, p256dh }, expirationTime: null, endpoint: 'https://push.example/send/abc' });
    expect(pushTokenProblem('web', browser)).toBeUndefined();
    expect(normalizePushToken('web', browser)).toBe(JSON.stringify({ endpoint: 'https://push.example/send/abc', keys: { p256dh, auth } }));
    expect(webPushSubscription(JSON.stringify({ endpoint: 'http://push.example/x', keys: { p256dh, auth } }))).toHaveProperty('problem');
    expect(webPushSubscription(JSON.stringify({ endpoint: 'http://127.0.0.1:8080/push/x', keys: { p256dh, auth } }))).toHaveProperty('subscription');
    expect(webPushSubscription(JSON.stringify({ endpoint: 'https://push.example/x', keys: { p256dh: 'short', auth } }))).toHaveProperty('problem');
    expect(pushTokenProblem('ios', 'ab'.repeat(32))).toBeUndefined();
    expect(pushTokenProblem('ios', 'not-hex')).toBeDefined();
    expect(pushTokenProblem('android', 'short')).toBeDefined();
  });

  it('accepts https and app-scheme deep links only', () => {
    expect(deepLinkProblem('https://shop.example/orders/42')).toBeUndefined();
    expect(deepLinkProblem('myapp://orders/42')).toBeUndefined();
    for (const link of ['http://shop.example', 'javascript://x', 'data://x', 'orders/42', 'myapp://a b']) expect(deepLinkProblem(link), link).toBeDefined();
  });
});
