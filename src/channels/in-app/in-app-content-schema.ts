// The in-app channel's campaign content as the API takes it (OpenAPI component InAppContent); the
// campaign schema (src/api/schemas/campaign-content.ts) puts each channel's in its content union.

import { z } from '@hono/zod-openapi';
import { templateSafetyProblem } from '../../domain/template-safety.mjs';
import { actionUrlTemplateProblem } from './in-app-rules';

export const InAppContentSchema = z
  .object({
    title: z.string().max(256).openapi({ example: 'Your order {{ context.orderId }} shipped' }),
    body: z.string().max(4096).openapi({ example: 'Hi {{ profile.firstName }}, it arrives tomorrow.' }),
    actionUrl: z.string().max(2048).optional().openapi({
      description:
        'Opened when the message is clicked: an http(s) URL or a path of your site, a text template rendered with the title and body (/orders/{{ context.orderId }}). Review checks it, and the send checks what it renders to.',
      example: 'https://example.com/orders/{{ context.orderId }}',
    }),
    data: z.record(z.string().min(1).max(64), z.unknown()).optional().openapi({
      description: 'A JSON object for your page, stored and answered as given, not rendered.',
    }),
  })
  .strict()
  .superRefine((content, ctx) => {
    for (const field of ['title', 'body'] as const) {
      const problem = templateSafetyProblem(content[field]);
      if (problem) ctx.addIssue({ code: 'custom', path: [field], message: problem });
    }
    if (content.actionUrl !== undefined) {
      const problem = actionUrlTemplateProblem(content.actionUrl);
      if (problem) ctx.addIssue({ code: 'custom', path: ['actionUrl'], message: problem });
    }
    if (content.data && JSON.stringify(content.data).length > 16_384)
      ctx.addIssue({ code: 'custom', path: ['data'], message: 'data is at most 16 KiB of JSON' });
  })
  .openapi('InAppContent', {
    description:
      "Title, body and `actionUrl` are nunjucks text templates (nothing is escaped), with the same template rules as email; `data` is stored as given. A send stores the message in the recipient's inbox (GET /v1/inbox/messages).",
  });
