/**
 * The pure rules of provider failover (src/domain/provider-failover.ts): which fallback lists
 * review refuses, the order a message tries configurations in, and what a sent message counts
 * in the report's split by provider.
 */
import { describe, expect, it } from 'vitest';
import { deliveryContributions } from '../../src/domain/campaign-report';
import { failoverOrder, fallbackProblems, MAX_FALLBACKS, type ChainMember } from '../../src/domain/provider-failover';

const member = (id: string, fallback: string[] = [], channel = 'email'): ChainMember => ({ id, channel, fallback });

function lookupOf(...members: ChainMember[]) {
  const byId = new Map(members.map((m) => [m.id, m]));
  return (id: string) => byId.get(id);
}

describe('fallbackProblems', () => {
  it('accepts an empty list and a list of existing configurations of the same channel', () => {
    const lookup = lookupOf(member('b'), member('c'));
    expect(fallbackProblems(member('a'), lookup)).toEqual([]);
    expect(fallbackProblems(member('a', ['b', 'c']), lookup)).toEqual([]);
  });

  it('names each bad entry by its index: unknown, another channel, itself, a repeat', () => {
    const lookup = lookupOf(member('b'), member('sms1', [], 'sms'));
    const issues = fallbackProblems(member('a', ['nope', 'sms1', 'a', 'b', 'b']), lookup);
    expect(issues).toEqual([
      { field: 'fallback.0', message: 'no channel configuration nope' },
      { field: 'fallback.1', message: 'sms1 is a sms configuration; a fallback must be email too' },
      { field: 'fallback.2', message: 'a configuration cannot be its own fallback' },
      { field: 'fallback.4', message: 'b is listed twice' },
    ]);
  });

  it('refuses a cycle through the fallbacks of fallbacks, and shows it', () => {
    // a → b → c → a: changing a to list b closes the cycle.
    const lookup = lookupOf(member('b', ['c']), member('c', ['a']));
    expect(fallbackProblems(member('a', ['b']), lookup)).toEqual([{ field: 'fallback.0', message: 'a cycle: a → b → c → a' }]);
    // A diamond is not a cycle: a → b → d, a → c → d.
    const diamond = lookupOf(member('b', ['d']), member('c', ['d']), member('d'));
    expect(fallbackProblems(member('a', ['b', 'c']), diamond)).toEqual([]);
  });

  it('refuses more than the most fallbacks', () => {
    const ids = Array.from({ length: MAX_FALLBACKS + 1 }, (_, i) => `f${i}`);
    const issues = fallbackProblems(member('a', ids), lookupOf(...ids.map((id) => member(id))));
    expect(issues).toEqual([{ field: 'fallback', message: `at most ${MAX_FALLBACKS} fallback configurations` }]);
  });
});

describe('failoverOrder', () => {
  it('is the primary, then its fallbacks as listed, each once', () => {
    const lookup = lookupOf(member('b', ['x']), member('c'), member('x'));
    expect(failoverOrder(member('a', ['c', 'b', 'c']), lookup).map((m) => m.id)).toEqual(['a', 'c', 'b']);
  });

  it('skips what review would now refuse: gone, another channel, the primary itself', () => {
    const lookup = lookupOf(member('sms1', [], 'sms'), member('b'));
    expect(failoverOrder(member('a', ['gone', 'sms1', 'a', 'b']), lookup).map((m) => m.id)).toEqual(['a', 'b']);
  });
});

describe('the report by provider', () => {
  const sent = { status: 'sent', feedback: '', bounceType: '', updatedAt: '2026-12-07T10:07:00.000Z', feedbackAt: '', reason: '' };
  const keyed = (contributions: ReturnType<typeof deliveryContributions>) =>
    contributions.filter((c) => c.metric === 'provider' || c.metric === 'failover').map(({ metric, key, delta }) => ({ metric, key, delta }));

  it('counts a sent message under its provider, and a fallback send as a failover too', () => {
    expect(keyed(deliveryContributions(sent, undefined, 1, { provider: 'resend', failedOver: false }))).toEqual([
      { metric: 'provider', key: 'resend', delta: 1 },
    ]);
    expect(keyed(deliveryContributions(sent, undefined, -1, { provider: 'smtp', failedOver: true }))).toEqual([
      { metric: 'provider', key: 'smtp', delta: -1 },
      { metric: 'failover', key: 'smtp', delta: -1 },
    ]);
  });

  it('counts nothing by provider for the default provider or a message not sent', () => {
    expect(keyed(deliveryContributions(sent, undefined, 1, { provider: null, failedOver: false }))).toEqual([]);
    expect(keyed(deliveryContributions({ ...sent, status: 'failed' }, undefined, 1, { provider: 'resend', failedOver: false }))).toEqual([]);
  });
});
