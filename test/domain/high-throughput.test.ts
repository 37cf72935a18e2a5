import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/env';
import type { Campaign } from '../../src/domain/campaign';
import { DEFAULT_HIGH_THROUGHPUT_PARTITIONS, MAX_HIGH_THROUGHPUT_PARTITIONS, partitionOf, reviewHighThroughput } from '../../src/domain/high-throughput';

const base: Campaign = {
  id: 'c1',
  name: 'Receipt',
  tags: [],
  type: 'transactional',
  channel: 'email',
  content: { subject: 'Order {{ context.orderId }}', html: '<p>Thanks</p>' },
  audience: { namespace: 'email', createMissingProfiles: false },
  schedule: {},
  status: 'draft',
  version: 1,
  createdAt: '2026-12-07T00:00:00Z',
  updatedAt: '2026-12-07T00:00:00Z',
  throughput: 'high',
};

describe('reviewHighThroughput', () => {
  it('passes a transactional email campaign that reads only the context', () => {
    expect(reviewHighThroughput(base)).toEqual([]);
  });

  it('leaves standard campaigns alone, whatever they use', () => {
    expect(reviewHighThroughput({ ...base, throughput: 'standard', type: 'marketing', content: { subject: '{{ profile.name }}', html: 'x' } })).toEqual([]);
    const { throughput: _, ...withoutThroughput } = base;
    expect(reviewHighThroughput({ ...withoutThroughput, type: 'marketing' })).toEqual([]);
  });

  it('lists every problem at once, each profile variable where it is read', () => {
    const issues = reviewHighThroughput({
      ...base,
      type: 'marketing',
      channel: 'inApp',
      content: {
        default: { subject: 'Hi {{ profile.firstName }}', html: '<p>{{ profile.address.city }} {{ context.x }}</p>' },
        translations: { fr: { subject: 'Salut {{ profile.firstName }}', html: '<p>ok</p>' } },
      } as unknown as Campaign['content'],
      steps: [{ id: 's1', type: 'send' }] as Campaign['steps'],
      capping: { max: 1, periodHours: 24 },
      quietHours: { from: '22:00', to: '07:00', action: 'defer' },
    });
    expect(issues.map((i) => i.field)).toEqual([
      'type',
      'channel',
      'steps',
      'capping',
      'quietHours',
      'content.default.subject',
      'content.default.html',
      'content.translations.fr.subject',
    ]);
    expect(issues.find((i) => i.field === 'content.default.html')?.message).toContain('profile.address.city');
  });

  it('accepts SMS and push', () => {
    expect(reviewHighThroughput({ ...base, channel: 'sms', content: { body: 'Code {{ context.code }}' } as Campaign['content'] })).toEqual([]);
    expect(reviewHighThroughput({ ...base, channel: 'push', content: { title: 't', body: 'b' } as Campaign['content'] })).toEqual([]);
  });
});

describe('partitionOf', () => {
  it('is stable and spreads requestIds over every partition', () => {
    expect(partitionOf('req-1', DEFAULT_HIGH_THROUGHPUT_PARTITIONS)).toBe(partitionOf('req-1', DEFAULT_HIGH_THROUGHPUT_PARTITIONS));
    const seen = new Set(Array.from({ length: 200 }, (_, i) => partitionOf(`req-${i}`, DEFAULT_HIGH_THROUGHPUT_PARTITIONS)));
    expect(seen.size).toBe(DEFAULT_HIGH_THROUGHPUT_PARTITIONS);
    for (const p of seen) expect(p).toBeGreaterThanOrEqual(0);
  });

  it('spreads over any count HERALD_HIGH_THROUGHPUT_PARTITIONS allows, from 1 to the most', () => {
    for (const count of [1, 2, 7, MAX_HIGH_THROUGHPUT_PARTITIONS]) {
      const seen = new Set(Array.from({ length: 50 * count }, (_, i) => partitionOf(`req-${i}`, count)));
      expect(seen.size).toBe(count);
      expect(Math.max(...seen)).toBe(count - 1);
    }
  });
});

describe('HERALD_HIGH_THROUGHPUT_PARTITIONS', () => {
  it('defaults to 4, takes 1 to 64, and fails fast on anything else, saying how to fix it', () => {
    expect(loadConfig({}).temporal.highThroughputPartitions).toBe(DEFAULT_HIGH_THROUGHPUT_PARTITIONS);
    expect(loadConfig({ HERALD_HIGH_THROUGHPUT_PARTITIONS: '16' }).temporal.highThroughputPartitions).toBe(16);
    for (const [value, message] of [
      ['0', 'must be at least 1'],
      ['65', 'must be at most 64'],
      ['four', 'must be a number of partitions, e.g. HERALD_HIGH_THROUGHPUT_PARTITIONS=4'],
    ]) {
      expect(() => loadConfig({ HERALD_HIGH_THROUGHPUT_PARTITIONS: value! })).toThrow(ConfigError);
      expect(() => loadConfig({ HERALD_HIGH_THROUGHPUT_PARTITIONS: value! })).toThrow(message!);
    }
  });
});
