import type { HeraldDb } from '../db/database';
import type { Channel } from '../domain/campaign';
import type { CappingRule } from '../domain/capping-rule';

function toRule(row: { channel: Channel; max: number; period_hours: number; updated_at: string }): CappingRule {
  return { channel: row.channel, max: Number(row.max), periodHours: Number(row.period_hours), updatedAt: row.updated_at };
}

/** The global capping rules (`capping_rules`): at most one per channel. */
export class CappingRuleRepository {
  constructor(private readonly db: HeraldDb) {}

  async list(): Promise<CappingRule[]> {
    const rows = await this.db.selectFrom('capping_rules').selectAll().orderBy('channel').execute();
    return rows.map(toRule);
  }

  async get(channel: Channel): Promise<CappingRule | undefined> {
    const row = await this.db.selectFrom('capping_rules').selectAll().where('channel', '=', channel).executeTakeFirst();
    return row && toRule(row);
  }

  /** Creates or replaces the channel's rule. */
  async put(channel: Channel, rule: { max: number; periodHours: number }): Promise<CappingRule> {
    const now = new Date().toISOString();
    await this.db
      .insertInto('capping_rules')
      .values({ channel, max: rule.max, period_hours: rule.periodHours, updated_at: now })
      .onConflict((oc) => oc.column('channel').doUpdateSet({ max: rule.max, period_hours: rule.periodHours, updated_at: now }))
      .execute();
    return { channel, ...rule, updatedAt: now };
  }

  /** Whether there was a rule to delete. */
  async delete(channel: Channel): Promise<boolean> {
    const result = await this.db.deleteFrom('capping_rules').where('channel', '=', channel).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
