import { sql } from 'kysely';
import type { HeraldDb } from '../db/database';
import type { Capping, CampaignType, Channel } from '../domain/campaign';

/** What the caller asks about at most per call; larger lists are counted in chunks of this size. */
const USER_IDS_PER_QUERY = 1000;

export interface CappedUserIdsInput {
  campaign: { id: string; type: CampaignType; channel: Channel; capping?: Capping };
  namespace: string;
  userIds: string[];
  nowMs: number;
  /** Not counted: the deliveries of the execution being prepared (a retried preparation must not cap its own sends). */
  exceptExecutionId?: string;
}

/**
 * Counts what profiles were sent, for capping. A message counts once its delivery is `sent`, from
 * the time it was recorded sent (`deliveries.updated_at`): messages still pending, including
 * those deferred by quiet hours, do not count yet, so two executions prepared at the same moment
 * can both pass a cap of one.
 */
export class CappingRepository {
  constructor(private readonly db: HeraldDb) {}

  /**
   * The userIds of `userIds` (≤ 1000 at a time) that have reached the campaign's capping or the
   * channel's global rule at `nowMs`; always empty for transactional campaigns. A few grouped
   * queries, never one per user.
   */
  async cappedUserIds(input: CappedUserIdsInput): Promise<Set<string>> {
    const capped = new Set<string>();
    const { campaign } = input;
    if (campaign.type !== 'marketing' || input.userIds.length === 0) return capped;
    const rule = await this.db.selectFrom('capping_rules').select(['max', 'period_hours']).where('channel', '=', campaign.channel).executeTakeFirst();
    if (!campaign.capping && !rule) return capped;
    const userIds = [...new Set(input.userIds)];
    for (let start = 0; start < userIds.length; start += USER_IDS_PER_QUERY) {
      const chunk = userIds.slice(start, start + USER_IDS_PER_QUERY);
      if (campaign.capping) {
        for (const userId of await this.reached(input, chunk, campaign.capping, 'campaign')) capped.add(userId);
      }
      if (rule) {
        const global = { max: Number(rule.max), periodHours: Number(rule.period_hours) };
        for (const userId of await this.reached(
          input,
          chunk.filter((id) => !capped.has(id)),
          global,
          'channel',
        ))
          capped.add(userId);
      }
    }
    return capped;
  }

  /** The userIds sent at least `capping.max` messages in the period: by this campaign, or by marketing campaigns on its channel. */
  private async reached(input: CappedUserIdsInput, userIds: string[], capping: Capping, scope: 'campaign' | 'channel'): Promise<string[]> {
    if (userIds.length === 0) return [];
    const since = new Date(input.nowMs - capping.periodHours * 3_600_000).toISOString();
    let query = this.db
      .selectFrom('deliveries as d')
      .innerJoin('executions as e', 'e.id', 'd.execution_id')
      .select('d.user_id')
      .where('d.namespace', '=', input.namespace)
      .where('d.user_id', 'in', userIds)
      .where('d.status', '=', 'sent')
      .where('d.updated_at', '>=', since)
      .groupBy('d.user_id')
      .having(sql<number>`count(*)`, '>=', capping.max);
    if (input.exceptExecutionId) query = query.where('d.execution_id', '!=', input.exceptExecutionId);
    query =
      scope === 'campaign'
        ? query.where('e.campaign_id', '=', input.campaign.id)
        : query.innerJoin('campaigns as c', 'c.id', 'e.campaign_id').where('c.type', '=', 'marketing').where('d.channel', '=', input.campaign.channel);
    const rows = await query.execute();
    return rows.map((row) => row.user_id);
  }
}
