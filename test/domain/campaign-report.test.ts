import { describe, expect, it } from 'vitest';
import { assembleReport, deliveryContributions, fiveMinuteBucket, hourBucket, parseDeliverySignature } from '../../src/domain/campaign-report';

describe('campaign report contributions', () => {
  it('buckets instants by 5 minutes and hours, sliced for canonical instants and through Date otherwise', () => {
    expect(fiveMinuteBucket('2026-12-02T10:57:59.999Z')).toBe('2026-12-02T10:55:00.000Z');
    expect(fiveMinuteBucket('2026-12-02T10:04:00Z')).toBe('2026-12-02T10:00:00.000Z');
    expect(hourBucket('2026-12-02T10:57:59.999Z')).toBe('2026-12-02T10:00:00.000Z');
    expect(fiveMinuteBucket('2026-12-02T10:57:59+01:00')).toBe('2026-12-02T09:55:00.000Z');
  });

  it('takes back exactly what a delivery counted before: old minus new leaves only the change', () => {
    const before = parseDeliverySignature('sent|delivered||2026-12-02T10:01:00.000Z|2026-12-02T10:02:00.000Z|');
    const after = parseDeliverySignature('sent|complained||2026-12-02T10:01:00.000Z|2026-12-02T10:40:00.000Z|');
    const net = new Map<string, number>();
    for (const c of [...deliveryContributions(before, 'gmail.com', -1), ...deliveryContributions(after, 'gmail.com', 1)]) {
      const key = `${c.metric}|${c.key}|${c.bucket}`;
      net.set(key, (net.get(key) ?? 0) + c.delta);
    }
    expect(Object.fromEntries([...net].filter(([, n]) => n !== 0))).toEqual({
      'delivered||2026-12-02T10:00:00.000Z': -1,
      'delivered||2026-12-02T10:40:00.000Z': 1,
      'complained||2026-12-02T10:40:00.000Z': 1,
    });
  });

  it('keeps a reason holding the separator whole, and groups failures by category', () => {
    const state = parseDeliverySignature('failed|||2026-12-02T10:01:00.000Z||provider-rejected: a|b');
    expect(state.reason).toBe('provider-rejected: a|b');
    expect(deliveryContributions(state, undefined, 1).find((c) => c.metric === 'failed_reason')?.key).toBe('provider-rejected');
  });

  it('computes rates over delivered, or over sent without delivery feedback; null without a base', () => {
    const from = new Date('2026-12-02T00:00:00.000Z');
    const to = new Date('2026-12-02T02:00:00.000Z');
    const rows = (delivered: number) => [
      { bucket: '2026-12-02T00:00:00.000Z', metric: 'sent', key: '', count: 10 },
      { bucket: '2026-12-02T00:00:00.000Z', metric: 'delivered', key: '', count: delivered },
      { bucket: '2026-12-02T01:00:00.000Z', metric: 'unique_opens', key: '', count: 4 },
      { bucket: '2026-12-02T01:00:00.000Z', metric: 'unique_clicks', key: '', count: 2 },
    ];
    expect(assembleReport('c', from, to, 'hour', rows(8), to).rates).toEqual({ clickThrough: 0.25, clickThroughBase: 'delivered', clickToOpen: 0.5 });
    expect(assembleReport('c', from, to, 'hour', rows(0), to).rates).toEqual({ clickThrough: 0.2, clickThroughBase: 'sent', clickToOpen: 0.5 });
    expect(assembleReport('c', from, to, 'hour', [], to).rates).toEqual({ clickThrough: null, clickThroughBase: 'sent', clickToOpen: null });
    expect(assembleReport('c', from, to, 'hour', rows(8), to).series.map((p) => [p.start, p.sent, p.uniqueClicks])).toEqual([
      ['2026-12-02T00:00:00.000Z', 10, 0],
      ['2026-12-02T01:00:00.000Z', 0, 2],
    ]);
  });
});
