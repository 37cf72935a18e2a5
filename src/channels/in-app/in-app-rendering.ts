import type { InAppContent } from '../../domain/channel-content';
import type { ContentRendering } from '../../domain/channel-rules';
import { TemplateError } from '../../domain/template-renderer';
import type { InAppExtras } from './in-app-address';

/**
 * Between the title's output and the action URL's in the rendered subject. The action URL renders
 * through `dump` (a JSON string, in which every control character is escaped), so the last mark is
 * the one put there, whatever the title printed.
 */
const ACTION_URL_MARK = '\u0000';

/**
 * In-app content renders in one call with the same variables: the title as the subject, the body
 * as the text, and the action URL, when there is one, after the title (its line and column numbers
 * stay the title's own). Stored as the dispatch reads it: title and body as subject and text,
 * {actionUrl, data} as JSON in `html`; `data` as given.
 */
export const inAppRendering: ContentRendering = {
  templates(variant) {
    const { title, body, actionUrl } = variant as InAppContent;
    const subject = actionUrl === undefined ? title : `${title}${ACTION_URL_MARK}{% filter dump %}${actionUrl}{% endfilter %}`;
    return { subject, html: '', text: body };
  },
  stored(variant, rendered) {
    const { actionUrl, data } = variant as InAppContent;
    let title = rendered.subject;
    const extras: InAppExtras = {};
    if (actionUrl !== undefined) {
      const mark = rendered.subject.lastIndexOf(ACTION_URL_MARK);
      if (mark < 0) throw new TemplateError('actionUrl: the action URL did not render');
      title = rendered.subject.slice(0, mark);
      extras.actionUrl = JSON.parse(rendered.subject.slice(mark + ACTION_URL_MARK.length)) as string;
    }
    if (data !== undefined) extras.data = data;
    return { subject: title, html: JSON.stringify(extras), text: rendered.text ?? '' };
  },
};
