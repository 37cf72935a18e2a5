import { DateTime, IANAZone } from 'luxon';
import type { QuietHours } from './campaign';

/**
 * Quiet hours: whether a marketing message may go out now in the recipient's local time.
 *
 * The window is [from, to) on the wall clock of the recipient's zone: the profile's `timezone`
 * attribute when it names an IANA zone, else the campaign's `quietHours.timezone`, else UTC. It
 * may wrap midnight (21:00–08:00); from == to is no window at all.
 *
 * Daylight-saving rules, all following from "judge the wall clock":
 * - Whether now is inside is read off the local wall clock at now, so a window's start that falls
 *   in a spring-forward gap (02:30 on a night that jumps 02:00→03:00) starts at the jump.
 * - A deferral ends at the first instant after now whose wall clock reads `to` or later. An end
 *   in a spring-forward gap is therefore the jump itself (02:30 → the instant clocks go to 03:00),
 *   never the half hour after it.
 * - An end that happens twice (fall-back night, 02:30 in Paris' repeated 02:00–03:00 hour) is the
 *   first of the two that is still ahead of now. A message judged during the repeated hour sees
 *   the wall clock too: at 02:10 of the second pass a 22:00–02:30 window is quiet again, until the
 *   second 02:30.
 */
export type QuietHoursDecision = { kind: 'send' } | { kind: 'defer'; untilMs: number } | { kind: 'discard' };

/** The reason a recipient waiting for the end of quiet hours has while still pending. */
export const QUIET_HOURS_DEFERRED = 'quiet-hours-deferred';

/** "HH:MM", 00:00–23:59. */
export const QUIET_HOURS_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Whether `name` is an IANA time zone this runtime knows (Europe/Paris, America/New_York, UTC). */
export function isIanaZone(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= 64 && IANAZone.isValidZone(name);
}

function minutesOf(time: string): number {
  const match = QUIET_HOURS_TIME.exec(time);
  if (!match) throw new Error(`quiet hours time ${JSON.stringify(time)} is not HH:MM`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/** The zone a recipient's quiet hours are read in: the profile's, the campaign's, UTC. */
export function quietHoursZone(quietHours: Pick<QuietHours, 'timezone'>, profileAttributes: Record<string, unknown>): string {
  if (isIanaZone(profileAttributes.timezone)) return profileAttributes.timezone;
  if (isIanaZone(quietHours.timezone)) return quietHours.timezone;
  return 'UTC';
}

export function quietHoursDecision(quietHours: QuietHours | undefined, profileAttributes: Record<string, unknown>, nowMs: number): QuietHoursDecision {
  if (!quietHours) return { kind: 'send' };
  const from = minutesOf(quietHours.from);
  const to = minutesOf(quietHours.to);
  if (from === to) return { kind: 'send' };
  const zone = quietHoursZone(quietHours, profileAttributes);
  const local = DateTime.fromMillis(nowMs, { zone });
  const minute = local.hour * 60 + local.minute;
  const wraps = from > to;
  const inside = wraps ? minute >= from || minute < to : minute >= from && minute < to;
  if (!inside) return { kind: 'send' };
  if (quietHours.action === 'discard') return { kind: 'discard' };
  // The end is on today's local date, or tomorrow's for the evening part of a window over midnight.
  const endDate = wraps && minute >= from ? local.plus({ days: 1 }) : local;
  return { kind: 'defer', untilMs: wallClockInstant(zone, endDate.year, endDate.month, endDate.day, to, nowMs) };
}

/**
 * The first instant after `afterMs` at which the wall clock of `zone` on that date reads `minuteOfDay`,
 * or, when that reading is skipped (spring-forward gap), the instant the clocks jump over it.
 */
function wallClockInstant(zone: string, year: number, month: number, day: number, minuteOfDay: number, afterMs: number): number {
  const wallAsUtc = Date.UTC(year, month - 1, day, Math.floor(minuteOfDay / 60), minuteOfDay % 60);
  const offsetAt = (ms: number) => DateTime.fromMillis(ms, { zone }).offset;
  // The offsets in force around that date: a transition that night is between them.
  const before = offsetAt(wallAsUtc - 86_400_000);
  const after = offsetAt(wallAsUtc + 86_400_000);
  const candidates = [...new Set([before, after])]
    .map((offset) => wallAsUtc - offset * 60_000)
    .filter((ms) => offsetAt(ms) === (wallAsUtc - ms) / 60_000)
    .sort((a, b) => a - b);
  const ahead = candidates.find((ms) => ms > afterMs);
  if (ahead !== undefined) return ahead;
  if (candidates.length > 0) return candidates[candidates.length - 1]!;
  // Skipped: the wall time falls in the gap. The jump is between its readings with either offset.
  let low = wallAsUtc - Math.max(before, after) * 60_000;
  let high = wallAsUtc - Math.min(before, after) * 60_000;
  while (high - low > 1000) {
    const middle = low + Math.floor((high - low) / 2000) * 1000;
    if (offsetAt(middle) === before) low = middle;
    else high = middle;
  }
  return high;
}
