import type { Capping, Channel } from './campaign';

/**
 * A global capping rule: at most `max` marketing messages to one profile on `channel` in any
 * `periodHours` hours, across campaigns. Transactional campaigns are never capped.
 */
export interface CappingRule extends Capping {
  channel: Channel;
  updatedAt: string;
}

/** The bounds of a capping, on a campaign or in a global rule. */
export const CAPPING_MAX = { min: 1, max: 1000 } as const;
export const CAPPING_PERIOD_HOURS = { min: 1, max: 8760 } as const;
