import { SegmentedMessage } from 'sms-segments-calculator';

export interface SmsSegments {
  /** GSM-7 when every character is in the GSM 03.38 basic or extension table, else UCS-2. */
  encoding: 'GSM-7' | 'UCS-2';
  /** Segments the body is sent (and billed) as: 160 GSM-7 / 70 UCS-2 alone, 153 / 67 each when split. */
  segments: number;
  /** Characters as a reader counts them (grapheme clusters). */
  characters: number;
}

/**
 * How an SMS body is encoded and split, computed by Twilio's own calculator
 * (`sms-segments-calculator`, from TwilioDevEd/message-segment-calculator): GSM-7 extension
 * characters such as `€` or `{` take two septets, and a UCS-2 character outside the BMP takes two
 * code units. Smart Encoding is not emulated: the body is counted as Herald sends it.
 */
export function smsSegments(body: string): SmsSegments {
  const message = new SegmentedMessage(body, 'auto', false);
  return { encoding: message.encodingName, segments: body.length === 0 ? 0 : message.segmentsCount, characters: message.numberOfCharacters };
}
