// The chat channel's campaign content as the API takes it (OpenAPI component ChatContent); the
// campaign schema (src/api/schemas/campaign-content.ts) puts each channel's in its content union.

import { z } from '@hono/zod-openapi';
import { templateSafetyProblem } from '../../domain/template-safety.mjs';
import { blocksProblem, MAX_BLOCKS } from './chat-blocks';

export const ChatContentSchema = z
  .object({
    text: z.string().max(4000).openapi({ example: 'Deploy {{ context.version }} is live :rocket:' }),
    blocks: z
      .array(z.unknown())
      .max(MAX_BLOCKS)
      .optional()
      .openapi({
        description:
          "The provider's rich layout, sent as given with each string value rendered as a text template: Slack Block Kit blocks, a Teams Adaptive Card's body elements, or Discord embeds. At most 50 items and 16 KiB of JSON.",
        example: [{ type: 'section', text: { type: 'mrkdwn', text: '*{{ context.service }}* deployed by {{ profile.firstName }}' } }],
      }),
  })
  .strict()
  .superRefine((content, ctx) => {
    const problem = templateSafetyProblem(content.text);
    if (problem) ctx.addIssue({ code: 'custom', path: ['text'], message: problem });
    if (content.blocks !== undefined) {
      const blocks = blocksProblem(content.blocks);
      if (blocks) ctx.addIssue({ code: 'custom', path: ['blocks', ...blocks.path], message: blocks.message });
    }
  })
  .openapi('ChatContent', {
    description:
      'A chat message (Slack, Microsoft Teams, Discord): `text` is a nunjucks text template (nothing is escaped), the message or, with blocks, its plain-text fallback; the same template rules as email. At most 4000 characters (Discord takes 2000).',
  });
