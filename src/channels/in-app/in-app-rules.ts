import type { ChannelContent, InAppContent } from '../../domain/channel-content';
import type { ChannelRules, ReviewIssue } from '../../domain/channel-rules';
import { templateSyntaxError } from '../../domain/template-renderer';
import { templateSafetyProblem } from '../../domain/template-safety.mjs';
import { inboxAddress } from './in-app-address';
import { inAppRendering } from './in-app-rendering';

/**
 * In-app: the recipient itself is the address (`namespace/userId`, its inbox); a title, a body and
 * a safe action URL, all three templates rendered together, and a JSON data object; no provider, no
 * engagement tracking, no unsubscribe link.
 */
export const inAppRules: ChannelRules = {
  name: 'inApp',
  needsPushTokens: false,
  addressKind: 'an inbox (namespace/userId)',
  carriesUnsubscribeLink: false,
  normaliseFeedbackAddress: (trimmed) => trimmed,
  resolveAddress: (recipient) => ({ address: inboxAddress(recipient.namespace, recipient.userId) }),
  titledExtras(variant) {
    const { actionUrl, data } = variant as InAppContent;
    return { ...(actionUrl !== undefined && { actionUrl }), ...(data !== undefined && { data }) };
  },
  reviewContent(variants) {
    const issues: ReviewIssue[] = [];
    for (const { path, content: variant } of variants) {
      if (!isTitled(variant)) {
        issues.push({ field: `${path}.title`, message: 'an in-app campaign needs a title and a body' });
        continue;
      }
      if (typeof variant.title !== 'string' || variant.title.trim() === '')
        issues.push({ field: `${path}.title`, message: 'an in-app campaign needs a title' });
      if (typeof variant.body !== 'string' || variant.body.trim() === '') issues.push({ field: `${path}.body`, message: 'an in-app campaign needs a body' });
      if (Object.hasOwn(variant, 'deepLink')) issues.push({ field: `${path}.deepLink`, message: 'in-app content has actionUrl, not deepLink' });
      if (variant.actionUrl !== undefined) {
        const problem = actionUrlTemplateProblem(variant.actionUrl, templateSyntaxError);
        if (problem) issues.push({ field: `${path}.actionUrl`, message: problem });
      }
      if (variant.data !== undefined && (typeof variant.data !== 'object' || variant.data === null || Array.isArray(variant.data)))
        issues.push({ field: `${path}.data`, message: 'in-app data is a JSON object' });
    }
    return issues;
  },
  rendering: inAppRendering,
};

function isTitled(content: ChannelContent): content is InAppContent {
  return Object.hasOwn(content, 'title') && !Object.hasOwn(content, 'html');
}

/**
 * What is wrong with an action URL, if anything: the page opens it on a click, so only an https
 * (or http) URL or a path of the page's own site, never a script or data URL.
 */
export function actionUrlProblem(url: string): string | undefined {
  if (url.length > 2048 || /[\s\u0000-\u001F\u007F]/.test(url)) return 'an action URL is one URL without spaces, at most 2048 characters';
  if (url.startsWith('/') && !url.startsWith('//')) return undefined;
  if (/^https?:\/\/[^\s/]+/i.test(url)) return undefined;
  return 'an action URL is an http(s) URL or a path starting with / (not javascript, data or file)';
}

/** Where a template tag opens: `{{`, `{%` or `{#`. */
const TEMPLATE_TAG = /\{[{%#]/;

/**
 * What is wrong with an action URL as written, if anything: as a template, its syntax (with
 * `syntaxError`: activation's check, as a draft may be saved half-written) and its safety; then what
 * can be told before it renders: all of it when it holds no tag, else the text before its first
 * tag, which must begin an http(s) URL or a path. What it renders to is checked at the send.
 */
export function actionUrlTemplateProblem(source: string, syntaxError?: (source: string) => string | undefined): string | undefined {
  const error = syntaxError?.(source);
  if (error) return `template does not parse: ${error}`;
  const unsafe = templateSafetyProblem(source);
  if (unsafe) return unsafe;
  const tag = source.search(TEMPLATE_TAG);
  if (tag < 0) return actionUrlProblem(source);
  // `{%-` and `{{-` trim the whitespace before them.
  const start = source.slice(0, tag).trimEnd();
  if (start === '') return undefined;
  if (/[\s\u0000-\u001F\u007F]/.test(start)) return actionUrlProblem(start);
  if (start.startsWith('/') && !start.startsWith('//')) return undefined;
  if (/^https?:\/\//i.test(start) || ['http://', 'https://'].some((scheme) => scheme.startsWith(start.toLowerCase()))) return undefined;
  return actionUrlProblem(start);
}
