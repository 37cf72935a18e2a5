import { z } from 'zod';

/** Audience executions (workflows/audience-execution.ts). */
export const audienceVariables = z.object({
  // How long an audience run may take (AJO: 12 hours); members not reached by then are excluded as window-expired.
  HERALD_AUDIENCE_MAX_RUNTIME: z
    .string()
    .trim()
    .regex(/^\d+(ms|s|m|h)?$/, 'HERALD_AUDIENCE_MAX_RUNTIME must be a duration such as 12h, 90m, 30s or 5000ms (a bare number is seconds)')
    .optional()
    .transform((value) => durationMs(value ?? '12h'))
    .refine((ms) => ms >= 1000 && ms <= 7 * 24 * 3_600_000, 'HERALD_AUDIENCE_MAX_RUNTIME must be between 1s and 168h (a week)'),
});

export type AudienceVariables = z.infer<typeof audienceVariables>;

export interface AudienceConfig {
  /** HERALD_AUDIENCE_MAX_RUNTIME: an audience run's window, in milliseconds. */
  audienceMaxRuntimeMs: number;
}

export function audienceConfig(e: AudienceVariables): AudienceConfig {
  return { audienceMaxRuntimeMs: e.HERALD_AUDIENCE_MAX_RUNTIME };
}

/** `12h`, `90m`, `30s`, `5000ms`; a bare number is seconds. */
function durationMs(value: string): number {
  const [, amount, unit = 's'] = /^(\d+)(ms|s|m|h)?$/.exec(value) ?? [];
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  return Number(amount) * factor;
}
