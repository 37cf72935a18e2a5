// The SMS channel's campaign content as the API takes it (OpenAPI component SmsContent); the
// campaign schema (src/api/routes/campaigns/campaigns.routes.ts) puts each channel's in its content union.

import { z } from '@hono/zod-openapi';
import { templateSafetyProblem } from '../../domain/template-safety.mjs';

export const SmsContentSchema = z
  .object({
    body: z.string().max(1600).openapi({ example: 'Your code is {{ context.code }}' }),
  })
  .strict()
  .superRefine((content, ctx) => {
    const problem = templateSafetyProblem(content.body);
    if (problem) ctx.addIssue({ code: 'custom', path: ['body'], message: problem });
  })
  .openapi('SmsContent', {
    description: 'A nunjucks text template (nothing is escaped), at most 1600 characters as Twilio allows; the same template rules as email.',
  });
