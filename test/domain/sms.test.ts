import { describe, expect, it } from 'vitest';
import { smsSegments } from '../../src/channels/sms/segments';
import type { Campaign } from '../../src/domain/campaign';
import { smsRules } from '../../src/channels/sms/sms-rules';
import { reviewCampaign } from '../../src/domain/campaign-review';
import { resolvePhoneNumber, toE164 } from '../../src/domain/phone-number';

describe('phone numbers', () => {
  it('normalises international numbers to E.164 and refuses what is not a valid number', () => {
    expect(toE164('+1 (415) 555-2671')).toBe('+14155552671');
    expect(toE164('+44 7911 123456')).toBe('+447911123456');
    expect(toE164('+33 6 12 34 56 78')).toBe('+33612345678');
    expect(toE164('+14155552671')).toBe('+14155552671');
    // Fictional 555-01xx, too short, national without a country, letters.
    expect(toE164('+15555550100')).toBeUndefined();
    expect(toE164('+1234')).toBeUndefined();
    expect(toE164('07911 123456')).toBeUndefined();
    expect(toE164('call me')).toBeUndefined();
    expect(toE164(`+1${'2'.repeat(80)}`)).toBeUndefined();
  });

  it('takes channelData first, then the profile phone, then a userId in the phone namespace', () => {
    const base = { userId: '+14155552671', namespace: 'phone' };
    expect(resolvePhoneNumber({ ...base, channelData: { mobilePhoneNumber: '+44 7911 123456' } }, { phone: '+33612345678' })).toEqual({
      found: true,
      raw: '+44 7911 123456',
      e164: '+447911123456',
    });
    expect(resolvePhoneNumber(base, { phone: '+33 6 12 34 56 78' })).toEqual({ found: true, raw: '+33 6 12 34 56 78', e164: '+33612345678' });
    expect(resolvePhoneNumber(base, {})).toEqual({ found: true, raw: '+14155552671', e164: '+14155552671' });
    expect(resolvePhoneNumber({ userId: 'crm-1', namespace: 'crm' }, {})).toEqual({ found: false });
    expect(resolvePhoneNumber({ userId: 'crm-1', namespace: 'crm' }, { phone: 42 })).toEqual({ found: false });
    // The first number present is the address even when invalid: a wrong number is not replaced in silence.
    expect(resolvePhoneNumber({ ...base, channelData: { mobilePhoneNumber: '+1234' } }, { phone: '+33612345678' })).toEqual({ found: true, raw: '+1234' });
  });
});

describe('SMS segments and encoding', () => {
  it('counts GSM-7 with its extension table as two septets', () => {
    expect(smsSegments('Your code is 4711')).toEqual({ encoding: 'GSM-7', segments: 1, characters: 17 });
    expect(smsSegments('a'.repeat(160))).toMatchObject({ encoding: 'GSM-7', segments: 1 });
    expect(smsSegments('a'.repeat(161))).toMatchObject({ encoding: 'GSM-7', segments: 2 });
    expect(smsSegments('a'.repeat(306))).toMatchObject({ segments: 2 });
    expect(smsSegments('a'.repeat(307))).toMatchObject({ segments: 3 });
    // € { } [ ] ~ ^ | \ are in the extension table: escape plus character.
    expect(smsSegments('€'.repeat(80))).toMatchObject({ encoding: 'GSM-7', segments: 1 });
    expect(smsSegments('€'.repeat(81))).toMatchObject({ encoding: 'GSM-7', segments: 2 });
    expect(smsSegments('Ça coûte 5 € à Zürich')).toMatchObject({ encoding: 'UCS-2' });
    expect(smsSegments('Hällö Ñandu, è é ù ì ò Ç Ø å Æ ß É')).toMatchObject({ encoding: 'GSM-7', segments: 1 });
  });

  it('falls back to UCS-2 for anything else, 70 characters alone and 67 per part', () => {
    expect(smsSegments('Ваш код 4711')).toMatchObject({ encoding: 'UCS-2', segments: 1 });
    expect(smsSegments('я'.repeat(70))).toMatchObject({ encoding: 'UCS-2', segments: 1 });
    expect(smsSegments('я'.repeat(71))).toMatchObject({ encoding: 'UCS-2', segments: 2 });
    expect(smsSegments('я'.repeat(134))).toMatchObject({ segments: 2 });
    expect(smsSegments('я'.repeat(135))).toMatchObject({ segments: 3 });
    // An emoji outside the BMP is two UTF-16 code units, one character to a reader.
    expect(smsSegments('Hi 😀')).toEqual({ encoding: 'UCS-2', segments: 1, characters: 4 });
    expect(smsSegments('')).toMatchObject({ segments: 0 });
  });
});

describe('review of SMS campaigns', () => {
  const campaign = (content: unknown): Campaign =>
    ({
      id: 'c',
      name: 'OTP',
      tags: [],
      type: 'transactional',
      channel: 'sms',
      content,
      audience: { namespace: 'phone', createMissingProfiles: true },
      schedule: {},
      status: 'draft',
      version: 1,
      createdAt: '',
      updatedAt: '',
    }) as Campaign;

  it('needs a body in every variant and checks each template', () => {
    expect(reviewCampaign(campaign({ body: 'Code {{ context.code }}' }), 0, smsRules)).toEqual([]);
    expect(reviewCampaign(campaign({ body: ' ' }), 0, smsRules)).toEqual([{ field: 'content.body', message: 'an SMS campaign needs a body' }]);
    expect(reviewCampaign(campaign({ subject: 'x', html: '<p>x</p>' }), 0, smsRules)).toEqual([
      { field: 'content.body', message: 'an SMS campaign needs a body' },
    ]);
    const issues = reviewCampaign(
      campaign({ default: { body: 'Code' }, translations: { fr: { body: '' }, de: { body: '{{ constructor }}' }, es: { body: '{% if %}' } } }),
      0,
      smsRules,
    );
    expect(issues.map((issue) => issue.field)).toEqual(['content.translations.fr.body', 'content.translations.de.body', 'content.translations.es.body']);
  });
});
