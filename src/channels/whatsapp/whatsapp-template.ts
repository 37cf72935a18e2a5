// A WhatsApp approved template: its name and language as WhatsApp knows them, its parameters as
// written (text templates) and as sent (rendered). Pure: the rules, the content schema and the
// dispatch read it.

import type { ChannelContent, WhatsAppTemplateContent } from '../../domain/channel-content';

/** Meta's template names (lower-case letters, digits, _) and Twilio's Content SIDs (HX…). */
export const TEMPLATE_NAME = /^[A-Za-z0-9_]{1,512}$/;
/** WhatsApp's language codes: `en`, `en_US`, `pt_BR`. */
export const TEMPLATE_LANGUAGE = /^[a-z]{2,3}(_[A-Z]{2})?$/;
/** Each parameter renders in the sandbox; a template's body has a handful of them. */
export const MAX_TEMPLATE_PARAMETERS = 20;
export const MAX_PARAMETER_CHARS = 1024;

/** An approved template as sent: its parameters rendered, in the order of the template's {{1}}, {{2}}… */
export interface WhatsAppTemplateMessage {
  name: string;
  language: string;
  parameters: string[];
}

export function isTemplateContent(variant: ChannelContent): variant is WhatsAppTemplateContent {
  return Object.hasOwn(variant, 'template');
}

/**
 * One text template for every parameter: a JSON array of each one rendered and written as a JSON
 * string (`dump`), so a rendered value can never break out of its place. Each parameter parses on
 * its own (review), so each filter block closes where it should.
 */
export function parametersTemplate(parameters: readonly string[]): string {
  return `[${parameters.map((parameter) => `{% filter dump %}${parameter}{% endfilter %}`).join(',')}]`;
}

/** The rendered template as the delivery stores it (JSON in the rendered message's `html`). */
export function storedTemplate(template: WhatsAppTemplateContent['template'], renderedParameters: string): string {
  const parameters = JSON.parse(renderedParameters) as unknown;
  if (!Array.isArray(parameters) || parameters.some((item) => typeof item !== 'string'))
    throw new Error('the rendered WhatsApp parameters are not a list of strings');
  const message: WhatsAppTemplateMessage = { name: template.name, language: template.language, parameters: parameters as string[] };
  return JSON.stringify(message);
}

/** A stored template read back for the send; undefined when it is not one. */
export function readStoredTemplate(html: string): WhatsAppTemplateMessage | undefined {
  try {
    const value = JSON.parse(html) as Partial<WhatsAppTemplateMessage> | null;
    if (typeof value?.name !== 'string' || typeof value.language !== 'string' || !Array.isArray(value.parameters)) return undefined;
    if (value.parameters.some((item) => typeof item !== 'string')) return undefined;
    return { name: value.name, language: value.language, parameters: value.parameters };
  } catch {
    return undefined;
  }
}
