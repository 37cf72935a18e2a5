import type { ConsentValue } from './consent';

/**
 * Twilio's default opt-out and opt-in keywords (Advanced Opt-Out off or on with its defaults).
 * Twilio itself stops delivering to a number that sent an opt-out keyword; Herald records it as
 * the profile's SMS consent so marketing excludes it before any send (`no-consent`).
 */
export const SMS_OPT_OUT_KEYWORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT'] as const;
export const SMS_OPT_IN_KEYWORDS = ['START', 'YES', 'UNSTOP'] as const;

/**
 * The consent an inbound SMS body asks for: the whole body, trimmed and in any case, must be one
 * keyword (as Twilio matches them): "stop" opts out, "Please stop" is an ordinary message.
 */
export function smsKeywordConsent(body: string): ConsentValue | undefined {
  const word = body.trim().toUpperCase();
  if ((SMS_OPT_OUT_KEYWORDS as readonly string[]).includes(word)) return 'out';
  if ((SMS_OPT_IN_KEYWORDS as readonly string[]).includes(word)) return 'in';
  return undefined;
}
