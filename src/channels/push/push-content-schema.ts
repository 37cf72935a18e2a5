// The push channel's campaign content as the API takes it (OpenAPI component PushContent); the
// campaign schema (src/api/routes/campaigns/campaigns.routes.ts) puts each channel's in its content union.

import { z } from '@hono/zod-openapi';
import { templateSafetyProblem } from '../../domain/template-safety.mjs';

export const PushContentSchema = z
  .object({
    title: z.string().max(256).openapi({ example: 'Your order {{ context.orderId }} shipped' }),
    body: z.string().max(2048).openapi({ example: 'Hi {{ profile.firstName }}, it arrives tomorrow.' }),
    data: z.record(z.string().min(1).max(64), z.unknown()).optional().openapi({
      description:
        'Custom key/value pairs for the app, string values only (as FCM and APNs carry them); sent as given, not rendered. Review reports non-string values.',
    }),
    deepLink: z.string().max(2048).optional().openapi({
      description: 'Opened on tap: an https URL or an app scheme link (myapp://orders/42); sent as given. Review checks it.',
      example: 'myapp://orders/42',
    }),
  })
  .strict()
  .superRefine((content, ctx) => {
    for (const field of ['title', 'body'] as const) {
      const problem = templateSafetyProblem(content[field]);
      if (problem) ctx.addIssue({ code: 'custom', path: [field], message: problem });
    }
    if (content.data && Object.keys(content.data).length > 50) ctx.addIssue({ code: 'custom', path: ['data'], message: 'at most 50 data keys' });
  })
  .openapi('PushContent', {
    description:
      'Title and body are nunjucks text templates (nothing is escaped), with the same template rules as email; `data` and `deepLink` are sent as given.',
  });
