// The email channel's campaign content as the API takes it (OpenAPI component EmailContent); the
// campaign schema (src/api/routes/campaigns/campaigns.routes.ts) puts each channel's in its content union.

import { z } from '@hono/zod-openapi';
import { templateSafetyProblem } from '../../domain/template-safety.mjs';

export const EmailContentSchema = z
  .object({
    subject: z.string().max(998).default('').openapi({ example: 'Your code is {{ context.code }}' }),
    html: z
      .string()
      .max(256 * 1024)
      .openapi({ example: '<p>Hello {{ profile.firstName }}, your code is <b>{{ context.code }}</b>.</p>' }),
    text: z
      .string()
      .max(256 * 1024)
      .optional(),
  })
  .superRefine((content, ctx) => {
    // Templates are untrusted: constructs that could reach JavaScript are refused on save. A
    // template that does not parse yet is kept as a draft; the activation review reports it.
    for (const field of ['subject', 'html', 'text'] as const) {
      const source = content[field];
      const problem = source === undefined ? undefined : templateSafetyProblem(source);
      if (problem) ctx.addIssue({ code: 'custom', path: [field], message: problem });
    }
  })
  .openapi('EmailContent', {
    description:
      'Nunjucks templates. `{{profile.<attr>}}` reads the profile, `{{context.<attr>}}` the trigger call. HTML is autoescaped. Templates cannot reach JavaScript: `{% include %}`/`{% import %}`/`{% extends %}`, names such as `constructor`, `__proto__` or `prototype`, and calls of anything but macros, `range`, `cycler` and `joiner` are refused.',
  });
