// The WhatsApp channel's campaign content as the API takes it (OpenAPI component WhatsAppContent);
// the campaign schema (src/api/schemas/campaign-content.ts) puts each channel's in its content union.

import { z } from '@hono/zod-openapi';
import { templateSafetyProblem } from '../../domain/template-safety.mjs';
import { MAX_PARAMETER_CHARS, MAX_TEMPLATE_PARAMETERS, TEMPLATE_LANGUAGE, TEMPLATE_NAME } from './whatsapp-template';

/** WhatsApp's limit for a text message's body. */
const MAX_BODY_CHARS = 4096;

const WhatsAppSessionContentSchema = z
  .object({
    body: z.string().max(MAX_BODY_CHARS).openapi({ example: 'Your table for {{ context.guests }} is ready' }),
  })
  .strict()
  .superRefine((content, ctx) => {
    const problem = templateSafetyProblem(content.body);
    if (problem) ctx.addIssue({ code: 'custom', path: ['body'], message: problem });
  })
  .openapi('WhatsAppSessionContent', {
    description: `A session message: a nunjucks text template (nothing is escaped), at most ${MAX_BODY_CHARS} characters. WhatsApp delivers it only within 24 hours of the person's last message, so a marketing campaign cannot activate with one.`,
  });

const WhatsAppTemplateContentSchema = z
  .object({
    template: z
      .object({
        name: z.string().regex(TEMPLATE_NAME, 'must be the approved template’s name (letters, digits and _) or, with Twilio, its Content SID (HX…)').openapi({
          example: 'order_shipped',
        }),
        language: z.string().regex(TEMPLATE_LANGUAGE, 'must be a WhatsApp language code such as en, en_US or pt_BR').openapi({ example: 'en_US' }),
        parameters: z
          .array(z.string().min(1).max(MAX_PARAMETER_CHARS))
          .max(MAX_TEMPLATE_PARAMETERS)
          .optional()
          .openapi({
            description: "The body's {{1}}, {{2}}… in order, each a nunjucks text template rendered from the profile and context.",
            example: ['{{ profile.firstName }}', '{{ context.orderId }}'],
          }),
      })
      .strict(),
  })
  .strict()
  .superRefine((content, ctx) => {
    for (const [index, parameter] of (content.template.parameters ?? []).entries()) {
      const problem = templateSafetyProblem(parameter);
      if (problem) ctx.addIssue({ code: 'custom', path: ['template', 'parameters', index], message: problem });
    }
  })
  .openapi('WhatsAppTemplateContent', {
    description:
      'An approved template (the only way to write outside the 24-hour session, and the only form a marketing campaign takes): its name and language as approved; with Twilio, `name` is the Content SID (HX…).',
  });

export const WhatsAppContentSchema = z.union([WhatsAppSessionContentSchema, WhatsAppTemplateContentSchema]).openapi('WhatsAppContent', {
  description: 'A session message {body} or an approved template {template: {name, language, parameters}}; the same template rules as email.',
});
