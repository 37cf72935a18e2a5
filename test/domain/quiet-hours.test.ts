import { describe, expect, it } from 'vitest';
import type { QuietHours } from '../../src/domain/campaign';
import { isIanaZone, quietHoursDecision, quietHoursZone } from '../../src/domain/quiet-hours';

const at = (iso: string) => Date.parse(iso);
const night = (extra: Partial<QuietHours> = {}): QuietHours => ({ from: '21:00', to: '08:00', action: 'defer', ...extra });
const deferUntil = (iso: string) => ({ kind: 'defer', untilMs: at(iso) });
const paris = { timezone: 'Europe/Paris' };
const newYork = { timezone: 'America/New_York' };

describe('quiet hours', () => {
  it('sends when there are no quiet hours or the window is empty (from == to)', () => {
    expect(quietHoursDecision(undefined, {}, at('2026-06-01T23:00:00Z'))).toEqual({ kind: 'send' });
    expect(quietHoursDecision(night({ from: '08:00', to: '08:00' }), {}, at('2026-06-01T08:00:00Z'))).toEqual({ kind: 'send' });
  });

  it('is a half-open window [from, to) that may wrap midnight, in UTC without any zone', () => {
    expect(quietHoursDecision(night(), {}, at('2026-06-01T20:59:59Z'))).toEqual({ kind: 'send' });
    expect(quietHoursDecision(night(), {}, at('2026-06-01T21:00:00Z'))).toEqual(deferUntil('2026-06-02T08:00:00Z'));
    expect(quietHoursDecision(night(), {}, at('2026-06-01T23:59:00Z'))).toEqual(deferUntil('2026-06-02T08:00:00Z'));
    expect(quietHoursDecision(night(), {}, at('2026-06-02T00:00:00Z'))).toEqual(deferUntil('2026-06-02T08:00:00Z'));
    expect(quietHoursDecision(night(), {}, at('2026-06-02T07:59:59Z'))).toEqual(deferUntil('2026-06-02T08:00:00Z'));
    expect(quietHoursDecision(night(), {}, at('2026-06-02T08:00:00Z'))).toEqual({ kind: 'send' });
    const lunch = night({ from: '12:00', to: '14:00' });
    expect(quietHoursDecision(lunch, {}, at('2026-06-02T11:59:00Z'))).toEqual({ kind: 'send' });
    expect(quietHoursDecision(lunch, {}, at('2026-06-02T13:30:00Z'))).toEqual(deferUntil('2026-06-02T14:00:00Z'));
    expect(quietHoursDecision(lunch, {}, at('2026-06-02T14:00:00Z'))).toEqual({ kind: 'send' });
    // New Year's Eve: the end is on the next local date, in the next year.
    expect(quietHoursDecision(night(), {}, at('2026-12-31T22:00:00Z'))).toEqual(deferUntil('2027-01-01T08:00:00Z'));
  });

  it('discards inside the window when asked to', () => {
    expect(quietHoursDecision(night({ action: 'discard' }), {}, at('2026-06-01T22:00:00Z'))).toEqual({ kind: 'discard' });
    expect(quietHoursDecision(night({ action: 'discard' }), {}, at('2026-06-01T12:00:00Z'))).toEqual({ kind: 'send' });
  });

  it("reads the profile's timezone first, then the campaign's, then UTC", () => {
    const campaignParis = night({ timezone: 'Europe/Paris' });
    expect(quietHoursZone(campaignParis, { timezone: 'Asia/Tokyo' })).toBe('Asia/Tokyo');
    expect(quietHoursZone(campaignParis, { timezone: 'Mars/Olympus' })).toBe('Europe/Paris');
    expect(quietHoursZone(campaignParis, { timezone: 42 })).toBe('Europe/Paris');
    expect(quietHoursZone(night(), {})).toBe('UTC');
    // 20:30 UTC in June: 22:30 in Paris (quiet), 05:30 in Tokyo (quiet), 20:30 UTC (not yet).
    const now = at('2026-06-01T20:30:00Z');
    expect(quietHoursDecision(campaignParis, {}, now)).toEqual(deferUntil('2026-06-02T06:00:00Z'));
    expect(quietHoursDecision(campaignParis, { timezone: 'Asia/Tokyo' }, now)).toEqual(deferUntil('2026-06-01T23:00:00Z'));
    expect(quietHoursDecision(night(), {}, now)).toEqual({ kind: 'send' });
    // A half-hour zone: 21:00 UTC is 02:30 in Kolkata, quiet until 08:00 IST = 02:30 UTC.
    expect(quietHoursDecision(night(), { timezone: 'Asia/Kolkata' }, at('2026-06-01T21:00:00Z'))).toEqual(deferUntil('2026-06-02T02:30:00Z'));
  });

  it('validates IANA zone names', () => {
    for (const zone of ['Europe/Paris', 'America/New_York', 'UTC', 'Asia/Kolkata']) expect(isIanaZone(zone), zone).toBe(true);
    for (const zone of ['Europe/Pariss', 'CEST+2', '', 'local', 42, null]) expect(isIanaZone(zone), String(zone)).toBe(false);
  });

  describe('Europe/Paris daylight-saving nights (2026-03-29 02:00→03:00, 2026-10-25 03:00→02:00)', () => {
    it('ends an 08:00 window at 08:00 summer time on the spring-forward night (06:00Z, not 07:00Z)', () => {
      // 23:00 CET on the 28th.
      expect(quietHoursDecision(night(), paris, at('2026-03-28T22:00:00Z'))).toEqual(deferUntil('2026-03-29T06:00:00Z'));
      // 07:30 CEST on the 29th.
      expect(quietHoursDecision(night(), paris, at('2026-03-29T05:30:00Z'))).toEqual(deferUntil('2026-03-29T06:00:00Z'));
      expect(quietHoursDecision(night(), paris, at('2026-03-29T06:00:00Z'))).toEqual({ kind: 'send' });
    });

    it('ends an 08:00 window at 08:00 winter time on the fall-back night (07:00Z, not 06:00Z)', () => {
      // 22:00 CEST on the 24th.
      expect(quietHoursDecision(night(), paris, at('2026-10-24T20:00:00Z'))).toEqual(deferUntil('2026-10-25T07:00:00Z'));
      expect(quietHoursDecision(night(), paris, at('2026-10-25T06:30:00Z'))).toEqual(deferUntil('2026-10-25T07:00:00Z'));
    });

    it('ends a window whose end is skipped (02:30 on the spring-forward night) at the jump itself', () => {
      const untilHalfPastTwo = night({ from: '22:00', to: '02:30' });
      // 00:30 CET: the clocks jump from 02:00 CET to 03:00 CEST at 01:00Z.
      expect(quietHoursDecision(untilHalfPastTwo, paris, at('2026-03-28T23:30:00Z'))).toEqual(deferUntil('2026-03-29T01:00:00Z'));
      // 03:00 CEST is past 02:30: not quiet.
      expect(quietHoursDecision(untilHalfPastTwo, paris, at('2026-03-29T01:00:00Z'))).toEqual({ kind: 'send' });
    });

    it('starts a window whose start is skipped (02:30) at the jump', () => {
      const early = night({ from: '02:30', to: '06:00' });
      expect(quietHoursDecision(early, paris, at('2026-03-29T00:59:00Z'))).toEqual({ kind: 'send' });
      expect(quietHoursDecision(early, paris, at('2026-03-29T01:00:00Z'))).toEqual(deferUntil('2026-03-29T04:00:00Z'));
    });

    it('ends a window whose end happens twice (02:30 on the fall-back night) at the first one ahead', () => {
      const untilHalfPastTwo = night({ from: '22:00', to: '02:30' });
      // Midnight CEST: the first 02:30 (CEST) is 00:30Z.
      expect(quietHoursDecision(untilHalfPastTwo, paris, at('2026-10-24T22:00:00Z'))).toEqual(deferUntil('2026-10-25T00:30:00Z'));
      // 02:45 CEST (00:45Z): past the first 02:30, so it is not quiet.
      expect(quietHoursDecision(untilHalfPastTwo, paris, at('2026-10-25T00:45:00Z'))).toEqual({ kind: 'send' });
      // 02:10 CET, the repeated hour (01:10Z): the wall clock is in the window again, until the second 02:30.
      expect(quietHoursDecision(untilHalfPastTwo, paris, at('2026-10-25T01:10:00Z'))).toEqual(deferUntil('2026-10-25T01:30:00Z'));
    });
  });

  describe('America/New_York daylight-saving nights (2026-03-08 02:00→03:00, 2026-11-01 02:00→01:00)', () => {
    const evening = night({ from: '22:00', to: '07:00' });

    it('ends at 07:00 daylight time on the spring-forward night (11:00Z)', () => {
      // 23:00 EST on the 7th.
      expect(quietHoursDecision(evening, newYork, at('2026-03-08T04:00:00Z'))).toEqual(deferUntil('2026-03-08T11:00:00Z'));
    });

    it('ends at 07:00 standard time on the fall-back night (12:00Z)', () => {
      // 23:00 EDT on October 31st.
      expect(quietHoursDecision(evening, newYork, at('2026-11-01T03:00:00Z'))).toEqual(deferUntil('2026-11-01T12:00:00Z'));
    });

    it('takes the first 01:30 of the repeated hour, then the second from inside it', () => {
      const untilHalfPastOne = night({ from: '23:00', to: '01:30' });
      // 00:00 EDT (04:00Z): the first 01:30 is EDT, 05:30Z.
      expect(quietHoursDecision(untilHalfPastOne, newYork, at('2026-11-01T04:00:00Z'))).toEqual(deferUntil('2026-11-01T05:30:00Z'));
      // 01:10 EST (06:10Z), the repeated hour: the second 01:30, 06:30Z.
      expect(quietHoursDecision(untilHalfPastOne, newYork, at('2026-11-01T06:10:00Z'))).toEqual(deferUntil('2026-11-01T06:30:00Z'));
    });

    it('ends a window ending at 02:30 on the spring-forward night at the jump (07:00Z)', () => {
      expect(quietHoursDecision(night({ from: '23:00', to: '02:30' }), newYork, at('2026-03-08T06:00:00Z'))).toEqual(deferUntil('2026-03-08T07:00:00Z'));
    });
  });
});
