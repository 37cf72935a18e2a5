// A recipient's channelData for chat as the API takes it (trigger calls and previews).

import { z } from '@hono/zod-openapi';
import { CHAT_DESTINATION } from './chat-rules';

export const ChatChannelDataSchema = z
  .object({
    destination: z.string().regex(CHAT_DESTINATION, 'must be a Slack channel or user id (C0123ABCD, U0123ABCD) or a #channel name').optional().openapi({
      description: "Chat campaigns send here instead of the profile's slackUserId (Slack's bot; a webhook names its own channel).",
      example: 'C0123ABCD',
    }),
  })
  .strict();
