import type { Capping, Channel } from '../domain/campaign';
import type { CappingRule } from '../domain/capping-rule';
import { notFound } from '../domain/errors';
import { AuditLogRepository } from '../repositories/audit-log';
import { CappingRuleRepository } from '../repositories/capping-rules';
import type { ServiceDependencies } from './service-dependencies';

/** Sets (creates or replaces) a channel's global capping rule, with its audit entry in the same transaction. */
export function putCappingRule(deps: Pick<ServiceDependencies, 'db'>, channel: Channel, capping: Capping, actorKeyId: string): Promise<CappingRule> {
  return deps.db.transaction().execute(async (trx) => {
    const rules = new CappingRuleRepository(trx);
    const before = await rules.get(channel);
    const after = await rules.put(channel, { max: capping.max, periodHours: capping.periodHours });
    await new AuditLogRepository(trx).record({
      actorKeyId,
      action: 'capping_rule.set',
      resourceType: 'capping_rule',
      resourceId: channel,
      ...(before && { before }),
      after,
    });
    return after;
  });
}

/** Deletes a channel's global capping rule, with its audit entry; not-found when there is none. */
export function deleteCappingRule(deps: Pick<ServiceDependencies, 'db'>, channel: Channel, actorKeyId: string): Promise<void> {
  return deps.db.transaction().execute(async (trx) => {
    const rules = new CappingRuleRepository(trx);
    const before = await rules.get(channel);
    if (!before || !(await rules.delete(channel))) throw notFound(`Capping rule for ${channel}`);
    await new AuditLogRepository(trx).record({ actorKeyId, action: 'capping_rule.deleted', resourceType: 'capping_rule', resourceId: channel, before });
  });
}

export function listCappingRules(deps: Pick<ServiceDependencies, 'db'>): Promise<CappingRule[]> {
  return new CappingRuleRepository(deps.db).list();
}
