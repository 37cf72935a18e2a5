import { z } from '@hono/zod-openapi';
import { CAPPING_MAX, CAPPING_PERIOD_HOURS } from '../../domain/capping-rule';
import { isIanaZone, QUIET_HOURS_TIME } from '../../domain/quiet-hours';

export const CappingSchema = z
  .object({
    max: z.number().int().min(CAPPING_MAX.min).max(CAPPING_MAX.max).openapi({ example: 3 }),
    periodHours: z.number().int().min(CAPPING_PERIOD_HOURS.min).max(CAPPING_PERIOD_HOURS.max).openapi({ example: 24 }),
  })
  .strict()
  .openapi('Capping', { description: 'At most `max` (1–1000) messages to one profile in any `periodHours` (1–8760) hours. Messages count once sent.' });

const time = z.string().regex(QUIET_HOURS_TIME, { message: 'must be a 24-hour time HH:MM, e.g. 21:00' });

export const QuietHoursSchema = z
  .object({
    from: time.openapi({ example: '21:00' }),
    to: time.openapi({ example: '08:00' }),
    timezone: z
      .string()
      .refine(isIanaZone, { message: 'must be an IANA time zone, e.g. Europe/Paris' })
      .optional()
      .openapi({ example: 'Europe/Paris', description: 'Used when the profile has no valid `timezone` attribute (which wins); neither: UTC.' }),
    action: z.enum(['defer', 'discard']).openapi({
      description: '`defer`: rendered now, sent when the window ends (the recipient stays pending). `discard`: excluded with reason `quiet-hours`.',
    }),
  })
  .strict()
  .openapi('QuietHours', {
    description:
      'The window [from, to) of local wall-clock time (it may wrap midnight; from == to: no window). Daylight saving: a window end skipped by a spring-forward jump ends at the jump; an end that happens twice ends at the first one still ahead.',
  });
