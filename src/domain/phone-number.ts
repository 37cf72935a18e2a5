import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { Recipient } from './recipient';

/**
 * SMS addresses. Pure and deterministic (it also runs in the trigger workflow's bundle through
 * recipient preparation): libphonenumber-js with its full ("max") metadata, which validates a
 * number against its country's numbering plan, not only its length.
 */

/**
 * The number in E.164 (`+447911123456`), or undefined when it is not a valid phone number.
 * Numbers must be international (`+44 7911 123456`, `+1 (415) 555-2671`, `0044…` is not accepted):
 * a profile has no country to read a national number against.
 */
export function toE164(raw: string): string | undefined {
  if (raw.length > 64) return undefined;
  const parsed = parsePhoneNumberFromString(raw.trim());
  if (!parsed?.isValid()) return undefined;
  return parsed.number;
}

/** Where a recipient's number came from, before it is validated. */
export type PhoneNumberLookup = { found: false } | { found: true; raw: string; e164?: string };

/**
 * `channelData.mobilePhoneNumber` first, then the profile's `phone` attribute, then the userId
 * itself in the `phone` namespace; the first one present is the address, valid or not (a wrong
 * number on the call is not silently replaced by another).
 */
export function resolvePhoneNumber(recipient: Recipient, profileAttributes: Record<string, unknown>): PhoneNumberLookup {
  const candidate =
    recipient.channelData?.mobilePhoneNumber ??
    (typeof profileAttributes.phone === 'string' && profileAttributes.phone.length > 0 ? profileAttributes.phone : undefined) ??
    (recipient.namespace === 'phone' ? recipient.userId : undefined);
  if (candidate === undefined) return { found: false };
  const e164 = toE164(candidate);
  return { found: true, raw: candidate, ...(e164 !== undefined && { e164 }) };
}

/** E.164 as Twilio takes it; a last check before a provider call. */
export const E164 = /^\+[1-9]\d{1,14}$/;
