import { isSmsContent, type SmsContent } from '../../domain/channel-content';
import type { ChannelRules, ReviewIssue } from '../../domain/channel-rules';
import { toE164 } from '../../domain/phone-number';
import { templateSyntaxError } from '../../domain/template-renderer';
import { templateSafetyProblem } from '../../domain/template-safety.mjs';
import { smsRules } from '../sms/sms-rules';
import { isTemplateContent, MAX_TEMPLATE_PARAMETERS, parametersTemplate, storedTemplate, TEMPLATE_LANGUAGE, TEMPLATE_NAME } from './whatsapp-template';

/**
 * WhatsApp: a person is addressed as for SMS (a number in E.164, the same lookup); a session
 * message (a body) or an approved template (name, language, parameters rendered from the context);
 * no engagement tracking (WhatsApp shows no pixel, and a template's text is fixed at approval).
 */
export const whatsappRules: ChannelRules = {
  name: 'whatsapp',
  needsPushTokens: false,
  addressKind: smsRules.addressKind,
  carriesUnsubscribeLink: false,
  normaliseFeedbackAddress: toE164,
  ...(smsRules.seedAttributes && { seedAttributes: smsRules.seedAttributes }),
  resolveAddress: smsRules.resolveAddress,
  rendering: {
    // A body renders as text, as an SMS does; a template's parameters render in one go (parametersTemplate).
    templates: (variant) => ({
      subject: '',
      html: '',
      text: isTemplateContent(variant) ? parametersTemplate(variant.template.parameters ?? []) : (variant as SmsContent).body,
    }),
    stored: (variant, rendered) =>
      isTemplateContent(variant)
        ? { subject: '', html: storedTemplate(variant.template, rendered.text ?? '[]'), text: '' }
        : { subject: '', html: '', text: rendered.text ?? '' },
  },
  reviewContent(variants, campaign) {
    const issues: ReviewIssue[] = [];
    for (const { path, content: variant } of variants) {
      if (isTemplateContent(variant)) {
        issues.push(...templateIssues(variant.template, `${path}.template`));
      } else if (!isSmsContent(variant) || typeof variant.body !== 'string' || variant.body.trim() === '') {
        issues.push({ field: `${path}.body`, message: 'a WhatsApp campaign needs a body (a session message) or a template' });
      } else if (campaign?.type === 'marketing') {
        issues.push({
          field: `${path}.body`,
          message:
            'WhatsApp takes a marketing message only as an approved template: a body is a session message, refused outside the 24 hours after the person last wrote. Give content.template {name, language, parameters} instead',
        });
      }
    }
    return issues;
  },
};

function templateIssues(template: { name?: unknown; language?: unknown; parameters?: unknown }, at: string): ReviewIssue[] {
  const issues: ReviewIssue[] = [];
  if (typeof template.name !== 'string' || !TEMPLATE_NAME.test(template.name))
    issues.push({
      field: `${at}.name`,
      message: 'a template name is the approved template’s name (letters, digits and _), or with Twilio its Content SID (HX…)',
    });
  if (typeof template.language !== 'string' || !TEMPLATE_LANGUAGE.test(template.language))
    issues.push({ field: `${at}.language`, message: 'a template language is a WhatsApp language code such as en, en_US or pt_BR' });
  const parameters = template.parameters ?? [];
  if (!Array.isArray(parameters) || parameters.length > MAX_TEMPLATE_PARAMETERS) {
    issues.push({ field: `${at}.parameters`, message: `template parameters are a list of at most ${MAX_TEMPLATE_PARAMETERS} text templates` });
    return issues;
  }
  for (const [index, parameter] of parameters.entries()) {
    const field = `${at}.parameters.${index}`;
    const problem = typeof parameter !== 'string' ? 'a template parameter is a text template' : parameterProblem(parameter);
    if (problem) issues.push({ field, message: problem });
  }
  return issues;
}

function parameterProblem(parameter: string): string | undefined {
  if (parameter.trim() === '') return 'WhatsApp refuses an empty template parameter';
  const error = templateSyntaxError(parameter);
  return error ? `template does not parse: ${error}` : templateSafetyProblem(parameter);
}
