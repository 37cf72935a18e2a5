import type { HeraldDb } from '../db/database';
import { assembleReport, fiveMinuteBucket, granularityFor, hourBucket, MAX_REPORT_SPAN_MS, type CampaignReport } from '../domain/campaign-report';
import { invalidRequest, notFound } from '../domain/errors';
import { ReportRollupRepository } from '../repositories/report-rollups';

const DAY_MS = 24 * 60 * 60_000;

export interface ReportWindow {
  from?: string;
  to?: string;
}

/**
 * Campaign reports: fold what changed since the last report into the rollups, then read them.
 * A report is exact up to the moment it is asked.
 */
export class CampaignReports {
  private readonly rollups: ReportRollupRepository;

  constructor(private readonly db: HeraldDb) {
    this.rollups = new ReportRollupRepository(db);
  }

  /** The global report: from the campaign's creation (or `from`) to now (or `to`), hourly up to a week, daily beyond. */
  async global(campaignId: string, window: ReportWindow, now = new Date()): Promise<CampaignReport> {
    const createdAt = await this.campaignCreatedAt(campaignId);
    const to = window.to ? new Date(window.to) : now;
    const from = window.from ? new Date(window.from) : new Date(Math.max(Date.parse(createdAt), to.getTime() - MAX_REPORT_SPAN_MS));
    if (from.getTime() >= to.getTime()) throw invalidRequest([{ field: 'from', message: 'must be before to' }], '`from` must be before `to`.');
    if (to.getTime() - from.getTime() > MAX_REPORT_SPAN_MS)
      throw invalidRequest([{ field: 'to', message: 'at most 366 days after from' }], 'A report spans at most 366 days.');
    return this.report(campaignId, from, to, granularityFor(from.getTime(), to.getTime()), now);
  }

  /** The last 24 hours in 5-minute buckets. */
  async live(campaignId: string, now = new Date()): Promise<CampaignReport> {
    await this.campaignCreatedAt(campaignId);
    return this.report(campaignId, new Date(now.getTime() - DAY_MS), now, '5m', now);
  }

  private async report(campaignId: string, from: Date, to: Date, granularity: CampaignReport['granularity'], now: Date): Promise<CampaignReport> {
    await this.rollups.foldChanges();
    // Breakdowns are hourly: they count from the hour holding `from`.
    const rows = await this.rollups.counts(campaignId, {
      from: fiveMinuteBucket(from.toISOString()),
      keyedFrom: hourBucket(from.toISOString()),
      to: to.toISOString(),
      granularity,
    });
    return assembleReport(campaignId, from, to, granularity, rows, now);
  }

  private async campaignCreatedAt(campaignId: string): Promise<string> {
    const row = await this.db.selectFrom('campaigns').select('created_at').where('id', '=', campaignId).executeTakeFirst();
    if (!row) throw notFound(`Campaign ${campaignId}`);
    return row.created_at;
  }
}
