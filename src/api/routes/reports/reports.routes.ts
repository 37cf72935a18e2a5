import { createRoute, z } from '@hono/zod-openapi';
import { allowKeys } from '../../access';
import { problemContent, v1Responses } from '../../problem';

const count = z.number().int();
const SeriesPointSchema = z.object({
  start: z.string().openapi({ description: 'Start of the bucket (UTC).' }),
  targeted: count,
  sent: count,
  delivered: count,
  failed: count,
  excluded: count,
  bounced: count,
  complained: count,
  unsubscribed: count,
  opens: count,
  uniqueOpens: count,
  clicks: count,
  uniqueClicks: count,
  seen: count.openapi({ description: 'In-app messages seen the first time in the bucket.' }),
  read: count.openapi({ description: 'In-app messages read the first time in the bucket.' }),
});

export const CampaignReportSchema = z
  .object({
    campaignId: z.string(),
    from: z.string(),
    to: z.string(),
    granularity: z.enum(['5m', 'hour', 'day']).openapi({ description: 'The series buckets: 5 minutes (live), hours up to 7 days, days beyond.' }),
    generatedAt: z.string(),
    totals: z.object({
      targeted: count.openapi({ description: 'Deliveries created for the campaign (every recipient of every execution).' }),
      excluded: count,
      sent: count.openapi({ description: 'Accepted by the provider.' }),
      delivered: count.openapi({ description: 'Reported delivered by the provider (a complaint counts as delivered too).' }),
      delayed: count.openapi({ description: 'Reported delayed and nothing further yet.' }),
      bounces: z.object({ total: count, hard: count, soft: count }),
      failed: count.openapi({ description: 'Errors: the send failed (see failedByReason).' }),
      complaints: count,
      unsubscribes: count,
      retries: count.openapi({ description: 'Always 0: Herald does not record retries of a message, only its outcome.' }),
      opens: z.object({ total: count, unique: count.openapi({ description: 'Deliveries opened at least once.' }) }),
      clicks: z.object({ total: count, unique: count.openapi({ description: 'Deliveries with at least one click.' }) }),
      inApp: z.object({ seen: count, read: count }).openapi({ description: 'In-app messages seen and read, each counted once.' }),
    }),
    excludedByReason: z.record(z.string(), count).openapi({ example: { 'no-consent': 12, suppressed: 3 } }),
    failedByReason: z.record(z.string(), count).openapi({ description: 'By category: the reason up to its first colon.', example: { 'provider-rejected': 2 } }),
    sentByProvider: z.record(z.string(), count).openapi({
      description: "Sent messages by the provider that took them; `default` is the channel's default provider, outside any channel configuration.",
      example: { resend: 940, smtp: 60 },
    }),
    failovers: z
      .object({ total: count, byProvider: z.record(z.string(), count) })
      .openapi({ description: "Messages a fallback configuration sent because the campaign's own could not (docs/failover.md), by the fallback's provider." }),
    rates: z.object({
      clickThrough: z
        .number()
        .nullable()
        .openapi({ description: 'Unique clicks / delivered, or / sent when no delivery was reported (see clickThroughBase); null when the base is 0.' }),
      clickThroughBase: z.enum(['delivered', 'sent']),
      clickToOpen: z.number().nullable().openapi({ description: 'Unique clicks / unique opens; null without opens.' }),
    }),
    links: z
      .array(z.object({ url: z.string(), clicks: count, uniqueClicks: count }))
      .openapi({ description: 'Clicks per tracked link (original URL), most clicked first.' }),
    topDomains: z.array(z.object({ domain: z.string(), count })).openapi({ description: 'The 10 recipient domains with most sent email.' }),
    series: z.array(SeriesPointSchema),
  })
  .openapi('CampaignReport');

const tags = ['Reports'];
const params = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' } }),
});
const instant = z.iso.datetime({ offset: true }).optional();

export const getReport = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/report',
  tags,
  security: allowKeys('full'),
  summary: "A campaign's global report",
  description:
    'Counts from the delivery records, exact up to the moment of the call, with a time series (hourly up to 7 days, daily beyond). Breakdowns (reasons, links, domains) count from the start of the hour holding `from`. At most 366 days.',
  request: {
    params,
    query: z.object({
      from: instant.openapi({ description: 'ISO 8601 instant; default: when the campaign was created.', example: '2026-12-01T00:00:00Z' }),
      to: instant.openapi({ description: 'ISO 8601 instant, excluded; default: now.' }),
    }),
  },
  responses: {
    200: { description: 'The report', content: { 'application/json': { schema: CampaignReportSchema } } },
    400: problemContent('Invalid id, from or to, from not before to, or a span over 366 days'),
    ...v1Responses,
    404: problemContent('Unknown campaign'),
  },
});

export const getLiveReport = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/report/live',
  tags,
  security: allowKeys('full'),
  summary: "A campaign's report over the last 24 hours",
  description: 'As the global report, over the last 24 hours, in 5-minute buckets.',
  request: { params },
  responses: {
    200: { description: 'The report', content: { 'application/json': { schema: CampaignReportSchema } } },
    400: problemContent('Invalid id'),
    ...v1Responses,
    404: problemContent('Unknown campaign'),
  },
});
