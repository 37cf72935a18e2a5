import { describe, expect, it } from 'vitest';
import type { Campaign } from '../../src/domain/campaign';
import { HIGH_THROUGHPUT_PARTITIONS, partitionOf, reviewHighThroughput } from '../../src/domain/high-throughput';

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
    expect(partitionOf('req-1')).toBe(partitionOf('req-1'));
    const seen = new Set(Array.from({ length: 200 }, (_, i) => partitionOf(`req-${i}`)));
    expect(seen.size).toBe(HIGH_THROUGHPUT_PARTITIONS);
    for (const p of seen) expect(p).toBeGreaterThanOrEqual(0);
  });
});
