import type { EmailContent } from './campaign';

/** One recipient's render: the campaign's templates and the only variables they may read. */
export interface RenderEmailInput {
  content: EmailContent;
  profile: Record<string, unknown>;
  context: Record<string, unknown>;
  /** After a digest step only: `{count, events}` (src/domain/campaign-steps.ts). */
  digest?: { count: number; events: Record<string, unknown>[] };
  /** The recipient's hosted preference page (docs/preferences.md), as `{{ preferencesUrl }}`; absent: renders empty. */
  preferencesUrl?: string;
}

export interface RenderedEmail {
  subject: string;
  html: string;
  /** The text template's output; without one, derived from `html` by the render thread. */
  text?: string;
  /** Set when `html` (or, for an SMS, `text`) carries engagement tracking: what is tracked, and each rewritten link's original URL by index. */
  tracked?: { opens: boolean; clicks: boolean; links: string[] };
}

/**
 * Engagement tracking for one recipient's render (src/domain/tracking.ts): the settings and the
 * signed addresses of its pixel and of link `i`. The render thread never sees the signing key.
 */
export interface EmailTracking {
  opens: boolean;
  clicks: boolean;
  /** What is tracked: the HTML (email, the default) or the http(s) URLs of the text part (an SMS body; clicks only, `text` then carries the signed links). */
  part?: 'html' | 'text';
  /** The hosts links may be tracked to (src/domain/tracked-link-hosts.ts): a link to any other host is sent untracked. Absent: none is. */
  allowedHosts?: readonly string[];
  openUrl(): string;
  clickUrl(link: number): string;
}
