/**
 * What a campaign report counts, as pure functions over a delivery's state and its events; the
 * rollups (src/repositories/report-rollups.ts) add and subtract these contributions.
 *
 * - Series metrics go in 5-minute buckets; breakdowns (reasons, domains, links) in hourly ones.
 * - A delivery counts as `targeted` and by its status (sent, failed by reason, excluded by
 *   reason) in the bucket of its last status change (`updated_at`); its provider feedback in the
 *   bucket of `feedback_at`. A complaint counts as delivered too (a complaint comes from a
 *   mailbox the message reached). A bounce without a type counts only in `bounced`.
 * - Failure reasons are grouped by category, the text before the first `:` (`provider-rejected`
 *   rather than the provider's whole message), so the breakdown stays short.
 * - Opens and clicks count every event; unique opens and clicks count deliveries, each in the
 *   bucket of its first recorded open or click; per link, total clicks and deliveries that
 *   clicked it.
 * - Top domains: the part after `@` of sent email addresses, lower-cased.
 * - In-app messages: seen and read, each counted once per message (the inbox records the first time).
 */

export const SERIES_METRICS = [
  'targeted',
  'sent',
  'failed',
  'excluded',
  'delivered',
  'delayed',
  'bounced',
  'bounced_hard',
  'bounced_soft',
  'complained',
  'unsubscribed',
  'opens',
  'unique_opens',
  'clicks',
  'unique_clicks',
  'seen',
  'read',
] as const;
export type SeriesMetric = (typeof SERIES_METRICS)[number];
export const KEYED_METRICS = ['excluded_reason', 'failed_reason', 'domain', 'link', 'link_unique', 'provider', 'failover'] as const;
export type KeyedMetric = (typeof KEYED_METRICS)[number];

const FIVE_MINUTES = 5 * 60_000;
const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;
/** Keys (URLs, reasons) longer than this are cut, to keep the rollups' primary key small. */
const MAX_KEY_LENGTH = 512;

const floorTo = (instant: string, step: number) => new Date(Math.floor(Date.parse(instant) / step) * step).toISOString();
/** Herald's own instants (`toISOString`): bucketed by slicing, which a fold does millions of times; anything else through Date. */
const CANONICAL_INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/;
export const fiveMinuteBucket = (instant: string) =>
  CANONICAL_INSTANT.test(instant)
    ? `${instant.slice(0, 14)}${String(Math.floor(Number(instant.slice(14, 16)) / 5) * 5).padStart(2, '0')}:00.000Z`
    : floorTo(instant, FIVE_MINUTES);
export const hourBucket = (instant: string) => (CANONICAL_INSTANT.test(instant) ? `${instant.slice(0, 13)}:00:00.000Z` : floorTo(instant, HOUR));

/** One count to add (or, with a negative delta, to take back) in the rollups. */
export interface Contribution {
  metric: SeriesMetric | KeyedMetric;
  key: string;
  bucket: string;
  delta: number;
}

/** The fields of a delivery a report counts, as `REPORT_SIGNATURE_SQL` (migration 0020) joins them. */
export interface DeliveryReportState {
  status: string;
  feedback: string;
  bounceType: string;
  updatedAt: string;
  feedbackAt: string;
  reason: string;
}

export function parseDeliverySignature(signature: string): DeliveryReportState {
  const [status = '', feedback = '', bounceType = '', updatedAt = '', feedbackAt = '', ...reason] = signature.split('|');
  return { status, feedback, bounceType, updatedAt, feedbackAt, reason: reason.join('|') };
}

export const emailDomain = (address: string | null) => {
  const at = address?.lastIndexOf('@') ?? -1;
  return address && at >= 0
    ? address
        .slice(at + 1)
        .toLowerCase()
        .slice(0, MAX_KEY_LENGTH)
    : undefined;
};
const reasonCategory = (reason: string) => (reason.split(':')[0]!.trim() || 'unknown').slice(0, MAX_KEY_LENGTH);

/**
 * Which provider sent a delivery and whether a fallback did (docs/failover.md). Written with the
 * `sent` status and never changed after, so a sent signature's take-back reads the same values.
 */
export interface SentViaState {
  /** Null: the channel's default provider, outside any channel configuration. */
  provider: string | null;
  failedOver: boolean;
}

/** The report's key for sends through the channel's default provider. */
export const DEFAULT_PROVIDER_KEY = 'default';

/** What one delivery in a state counts; `sign` -1 takes it back. `domain` for sent email only. */
export function deliveryContributions(state: DeliveryReportState, domain: string | undefined, sign: 1 | -1, via?: SentViaState): Contribution[] {
  const at = fiveMinuteBucket(state.updatedAt);
  const hour = hourBucket(state.updatedAt);
  const out: Contribution[] = [{ metric: 'targeted', key: '', bucket: at, delta: sign }];
  if (state.status === 'sent') {
    out.push({ metric: 'sent', key: '', bucket: at, delta: sign });
    if (domain) out.push({ metric: 'domain', key: domain, bucket: hour, delta: sign });
    // Only sends through a channel configuration name their provider (deliveries sent before
    // migration 0027 name none, so a take-back never subtracts what was not added); the report
    // counts the rest as the default provider's.
    if (via?.provider) {
      const provider = via.provider.slice(0, MAX_KEY_LENGTH);
      out.push({ metric: 'provider', key: provider, bucket: hour, delta: sign });
      if (via.failedOver) out.push({ metric: 'failover', key: provider, bucket: hour, delta: sign });
    }
  } else if (state.status === 'failed') {
    out.push({ metric: 'failed', key: '', bucket: at, delta: sign }, { metric: 'failed_reason', key: reasonCategory(state.reason), bucket: hour, delta: sign });
  } else if (state.status === 'excluded') {
    out.push(
      { metric: 'excluded', key: '', bucket: at, delta: sign },
      { metric: 'excluded_reason', key: state.reason.slice(0, MAX_KEY_LENGTH) || 'unknown', bucket: hour, delta: sign },
    );
  }
  if (state.feedback) {
    const feedbackBucket = fiveMinuteBucket(state.feedbackAt || state.updatedAt);
    const add = (metric: SeriesMetric) => out.push({ metric, key: '', bucket: feedbackBucket, delta: sign });
    if (state.feedback === 'delayed') add('delayed');
    if (state.feedback === 'delivered' || state.feedback === 'complained') add('delivered');
    if (state.feedback === 'complained') add('complained');
    if (state.feedback === 'bounced') {
      add('bounced');
      if (state.bounceType === 'hard') add('bounced_hard');
      if (state.bounceType === 'soft') add('bounced_soft');
    }
  }
  return out;
}

/** An event as the fold reads it; `first*` say whether it is its delivery's first of its kind. */
export interface FoldedEvent {
  type: string;
  occurredAt: string;
  url?: string;
  firstOfType: boolean;
  firstOnLink: boolean;
}

export function eventContributions(event: FoldedEvent): Contribution[] {
  const at = fiveMinuteBucket(event.occurredAt);
  const one = (metric: SeriesMetric | KeyedMetric, key = '', bucket = at): Contribution => ({ metric, key, bucket, delta: 1 });
  switch (event.type) {
    case 'opened':
      return event.firstOfType ? [one('opens'), one('unique_opens')] : [one('opens')];
    case 'clicked': {
      const url = (event.url ?? '(tracked by the provider)').slice(0, MAX_KEY_LENGTH);
      const hour = hourBucket(event.occurredAt);
      return [
        one('clicks'),
        ...(event.firstOfType ? [one('unique_clicks')] : []),
        one('link', url, hour),
        ...(event.firstOnLink ? [one('link_unique', url, hour)] : []),
      ];
    }
    case 'unsubscribed':
      return [one('unsubscribed')];
    case 'seen':
      return [one('seen')];
    case 'read':
      return [one('read')];
    default:
      // delivered, bounced, … events: the delivery's feedback column counts them, once.
      return [];
  }
}

export type Granularity = '5m' | 'hour' | 'day';
const STEP: Record<Granularity, number> = { '5m': FIVE_MINUTES, hour: HOUR, day: DAY };

/** Hours up to a week, days beyond; the live report asks for 5 minutes. */
export const granularityFor = (fromMs: number, toMs: number): Granularity => (toMs - fromMs <= 7 * DAY ? 'hour' : 'day');

/** The most a report may span: its rows grow with the buckets that had activity, its series with the span. */
export const MAX_REPORT_SPAN_MS = 366 * DAY;

/** A rollup row as the report reads it. */
export interface RollupCount {
  bucket: string;
  metric: string;
  key: string;
  count: number;
}

type Totals = Record<SeriesMetric, number>;
const zeroTotals = (): Totals => Object.fromEntries(SERIES_METRICS.map((m) => [m, 0])) as Totals;

export interface SeriesPoint {
  start: string;
  targeted: number;
  sent: number;
  delivered: number;
  failed: number;
  excluded: number;
  bounced: number;
  complained: number;
  unsubscribed: number;
  opens: number;
  uniqueOpens: number;
  clicks: number;
  uniqueClicks: number;
  seen: number;
  read: number;
}

export interface CampaignReport {
  campaignId: string;
  from: string;
  to: string;
  granularity: Granularity;
  generatedAt: string;
  totals: {
    targeted: number;
    excluded: number;
    sent: number;
    delivered: number;
    delayed: number;
    bounces: { total: number; hard: number; soft: number };
    failed: number;
    complaints: number;
    unsubscribes: number;
    retries: number;
    opens: { total: number; unique: number };
    clicks: { total: number; unique: number };
    /** In-app messages seen and read (each once). */
    inApp: { seen: number; read: number };
  };
  excludedByReason: Record<string, number>;
  failedByReason: Record<string, number>;
  /** Sent messages by the provider that took them (`default`: the channel's default provider, outside any channel configuration). */
  sentByProvider: Record<string, number>;
  /** Messages a fallback configuration sent because the campaign's own could not (docs/failover.md), by the fallback's provider. */
  failovers: { total: number; byProvider: Record<string, number> };
  rates: { clickThrough: number | null; clickThroughBase: 'delivered' | 'sent'; clickToOpen: number | null };
  links: { url: string; clicks: number; uniqueClicks: number }[];
  topDomains: { domain: string; count: number }[];
  series: SeriesPoint[];
}

const ratio = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null);
const sortedRecord = (map: Map<string, number>) =>
  Object.fromEntries([...map].filter(([, n]) => n !== 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
const add = (map: Map<string, number>, key: string, n: number) => map.set(key, (map.get(key) ?? 0) + n);

/** Sends by provider: the configured providers' counts, and the rest of `sent` as the default provider's. */
function withDefaultProvider(byProvider: Map<string, number>, sent: number): Record<string, number> {
  const configured = [...byProvider.values()].reduce((sum, n) => sum + n, 0);
  const out = new Map(byProvider);
  if (sent > configured) add(out, DEFAULT_PROVIDER_KEY, sent - configured);
  return sortedRecord(out);
}

/** The report from the rollup rows of [from, to), with a series point for every bucket of the granularity. */
export function assembleReport(campaignId: string, from: Date, to: Date, granularity: Granularity, rows: RollupCount[], now: Date): CampaignReport {
  const step = STEP[granularity];
  const firstBucket = Math.floor(from.getTime() / step) * step;
  const points = new Map<number, Totals>();
  for (let t = firstBucket; t < to.getTime(); t += step) points.set(t, zeroTotals());
  const totals = zeroTotals();
  const byKey: Record<KeyedMetric, Map<string, number>> = {
    excluded_reason: new Map(),
    failed_reason: new Map(),
    domain: new Map(),
    link: new Map(),
    link_unique: new Map(),
    provider: new Map(),
    failover: new Map(),
  };
  for (const row of rows) {
    if ((KEYED_METRICS as readonly string[]).includes(row.metric)) {
      add(byKey[row.metric as KeyedMetric], row.key, row.count);
      continue;
    }
    if (!(SERIES_METRICS as readonly string[]).includes(row.metric)) continue;
    const metric = row.metric as SeriesMetric;
    totals[metric] += row.count;
    const point = points.get(Math.floor(Date.parse(row.bucket) / step) * step);
    if (point) point[metric] += row.count;
  }
  const clickThroughBase = totals.delivered > 0 ? 'delivered' : 'sent';
  return {
    campaignId,
    from: from.toISOString(),
    to: to.toISOString(),
    granularity,
    generatedAt: now.toISOString(),
    totals: {
      targeted: totals.targeted,
      excluded: totals.excluded,
      sent: totals.sent,
      delivered: totals.delivered,
      delayed: totals.delayed,
      bounces: { total: totals.bounced, hard: totals.bounced_hard, soft: totals.bounced_soft },
      failed: totals.failed,
      complaints: totals.complained,
      unsubscribes: totals.unsubscribed,
      // Herald records no retry per message: a send the provider refused for a while is retried by
      // Temporal inside one activity, and only its outcome reaches the database.
      retries: 0,
      opens: { total: totals.opens, unique: totals.unique_opens },
      clicks: { total: totals.clicks, unique: totals.unique_clicks },
      inApp: { seen: totals.seen, read: totals.read },
    },
    excludedByReason: sortedRecord(byKey.excluded_reason),
    failedByReason: sortedRecord(byKey.failed_reason),
    sentByProvider: withDefaultProvider(byKey.provider, totals.sent),
    failovers: { total: [...byKey.failover.values()].reduce((sum, n) => sum + n, 0), byProvider: sortedRecord(byKey.failover) },
    rates: {
      clickThrough: ratio(totals.unique_clicks, clickThroughBase === 'delivered' ? totals.delivered : totals.sent),
      clickThroughBase,
      clickToOpen: ratio(totals.unique_clicks, totals.unique_opens),
    },
    links: [...byKey.link]
      .filter(([, n]) => n !== 0)
      .map(([url, clicks]) => ({ url, clicks, uniqueClicks: byKey.link_unique.get(url) ?? 0 }))
      .sort((a, b) => b.clicks - a.clicks || a.url.localeCompare(b.url)),
    topDomains: [...byKey.domain]
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, 10)
      .map(([domain, count]) => ({ domain, count })),
    series: [...points].map(([t, p]) => ({
      start: new Date(t).toISOString(),
      targeted: p.targeted,
      sent: p.sent,
      delivered: p.delivered,
      failed: p.failed,
      excluded: p.excluded,
      bounced: p.bounced,
      complained: p.complained,
      unsubscribed: p.unsubscribed,
      opens: p.opens,
      uniqueOpens: p.unique_opens,
      clicks: p.clicks,
      uniqueClicks: p.unique_clicks,
      seen: p.seen,
      read: p.read,
    })),
  };
}
