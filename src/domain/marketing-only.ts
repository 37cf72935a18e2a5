import type { CampaignType, Capping, QuietHours } from './campaign';
import { DomainError } from './errors';

/**
 * Capping and quiet hours are marketing rules: a transactional message (a password reset, a
 * receipt) is never held back, so a transactional campaign may not carry them.
 */
export function assertMarketingOnlyFields(fields: { type: CampaignType; capping?: Capping | null; quietHours?: QuietHours | null }): void {
  if (fields.type === 'marketing') return;
  const set = (['capping', 'quietHours'] as const).filter((key) => fields[key] !== undefined && fields[key] !== null);
  if (set.length === 0) return;
  throw new DomainError(
    'invalid',
    'marketing-only-field',
    'Capping and quiet hours are for marketing campaigns only',
    `A transactional campaign is never capped or held back: remove ${set.join(' and ')}, or make the campaign marketing.`,
    set.map((field) => ({ field, message: 'marketing campaigns only' })),
  );
}
