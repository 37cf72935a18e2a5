import type { RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import twilio from 'twilio';
import { toE164 } from '../../../domain/phone-number';
import { smsKeywordConsent } from '../../../domain/sms-keywords';
import { applySmsKeyword } from '../../../services/public-consent';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { Problem } from '../../problem';
import { TWILIO_INBOUND_PATH, type twilioInbound } from './twilio-inbound.routes';

/** How Twilio writes a WhatsApp number (`whatsapp:+14155552671`). */
const WHATSAPP_ADDRESS_PREFIX = 'whatsapp:';

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

const forged = () =>
  new Problem(
    401,
    'invalid-signature',
    'Unauthorized',
    'The request does not carry a valid Twilio signature (X-Twilio-Signature) for this URL; nothing was changed.',
  );

/**
 * The parameters as Twilio signed them: the body read as `application/x-www-form-urlencoded`,
 * which is all Twilio sends. Read as text whatever the Content-Type claims, so a malformed body
 * (a multipart without boundary, JSON) only yields parameters the signature will not match: 401.
 */
async function formParameters(c: Context): Promise<Record<string, string>> {
  return Object.fromEntries(new URLSearchParams(await c.req.text()));
}

export function twilioInboundHandlers(deps: ServiceDependencies) {
  const inbound: RouteHandler<typeof twilioInbound> = async (c) => {
    const authToken = deps.config.sms.authToken;
    const signature = c.req.header('x-twilio-signature');
    const params = await formParameters(c);
    // Twilio signs the URL it was configured with: HERALD_PUBLIC_URL's, plus any query string it carries.
    const url = `${deps.config.publicUrl}${TWILIO_INBOUND_PATH}${new URL(c.req.url).search}`;
    if (!authToken || !signature || !twilio.validateRequest(authToken, signature, url, params)) throw forged();
    const consent = smsKeywordConsent(params.Body ?? '');
    // A WhatsApp message through Twilio comes from `whatsapp:+E164`: its keyword sets the WhatsApp consent, not the SMS one.
    const whatsapp = params.From?.startsWith(WHATSAPP_ADDRESS_PREFIX) ?? false;
    const from = params.From ? toE164(whatsapp ? params.From.slice(WHATSAPP_ADDRESS_PREFIX.length) : params.From) : undefined;
    if (consent && from) await applySmsKeyword(deps, from, consent, params.MessageSid, whatsapp ? 'whatsapp' : 'sms');
    return c.body(EMPTY_TWIML, 200, { 'content-type': 'text/xml; charset=utf-8', 'cache-control': 'no-store' });
  };
  return { inbound };
}
