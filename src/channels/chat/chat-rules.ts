import { CHAT_DESTINATION } from '../../domain/channel-configuration';
import type { ChannelContent, ChatContent } from '../../domain/channel-content';
import type { ChannelRules, ContentRendering, ReviewIssue } from '../../domain/channel-rules';
import { templateSyntaxError } from '../../domain/template-renderer';
import { blocksProblem, blocksTemplate, renderedBlocks } from './chat-blocks';

export { CHAT_DESTINATION };

/** The profile attribute a person's Slack user id is kept in (set by PUT /v1/profiles or an import). */
export const SLACK_USER_ID_ATTRIBUTE = 'slackUserId';

/**
 * Chat's content renders by its own shape: the text as a text template, the blocks' strings as one
 * text template (chat-blocks.ts) in the subject's place; stored as the text, and the rendered
 * blocks as JSON in `html` ('' without blocks).
 */
const chatRendering: ContentRendering = {
  templates(variant) {
    const { text, blocks } = variant as ChatContent;
    return { subject: blocks ? blocksTemplate(blocks) : '', html: '', text };
  },
  stored(variant, rendered) {
    const { blocks } = variant as ChatContent;
    return { subject: '', html: blocks ? JSON.stringify(renderedBlocks(blocks, rendered.subject)) : '', text: rendered.text ?? '' };
  },
};

/**
 * Chat (Slack, Microsoft Teams, Discord): the destination is channelData.chat.destination, else the
 * profile's slackUserId, else '' (the configuration's: a Slack bot's defaultDestination, or the
 * channel a webhook was made for). A text and optional blocks; no tracking, no unsubscribe link.
 */
export const chatRules: ChannelRules = {
  name: 'chat',
  needsPushTokens: false,
  addressKind: 'a chat destination (a Slack channel or user id such as C0123ABCD or U0123ABCD)',
  carriesUnsubscribeLink: false,
  normaliseFeedbackAddress: (trimmed) => (CHAT_DESTINATION.test(trimmed) ? trimmed : undefined),
  resolveAddress(recipient, { attributes }) {
    const given = recipient.channelData?.chat?.destination;
    if (given) return CHAT_DESTINATION.test(given) ? { address: given } : { address: given, reason: 'invalid-chat-destination' };
    const slackUserId = attributes[SLACK_USER_ID_ATTRIBUTE];
    if (typeof slackUserId === 'string' && slackUserId !== '')
      return CHAT_DESTINATION.test(slackUserId) ? { address: slackUserId } : { address: slackUserId, reason: 'invalid-chat-destination' };
    return { address: '' };
  },
  reviewContent(variants) {
    const issues: ReviewIssue[] = [];
    for (const { path, content: variant } of variants) {
      if (!isChatContent(variant)) {
        issues.push({ field: `${path}.text`, message: 'a chat campaign needs {text, blocks?}' });
        continue;
      }
      if (typeof variant.text !== 'string' || variant.text.trim() === '') issues.push({ field: `${path}.text`, message: 'a chat campaign needs a text' });
      if (variant.blocks !== undefined) {
        const problem = blocksProblem(variant.blocks, templateSyntaxError);
        if (problem) issues.push({ field: [`${path}.blocks`, ...problem.path].join('.'), message: problem.message });
      }
    }
    return issues;
  },
  rendering: chatRendering,
};

function isChatContent(content: ChannelContent): content is ChatContent {
  return Object.hasOwn(content, 'text') && !['subject', 'html', 'body', 'title'].some((field) => Object.hasOwn(content, field));
}
