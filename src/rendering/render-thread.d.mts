import type { EmailContent } from '../domain/campaign';
import type { TrackingRewrite } from './tracking-rewrite.mjs';

/** `range()` in a template makes at most this many numbers (and `list`/`reverse` of a string at most this many items). */
export declare const MAX_RANGE_ITEMS: number;

/** One render, as posted to a render process (over IPC): plain JSON data only. */
export interface RenderTask {
  content: EmailContent;
  variables: { profile: Record<string, unknown>; context: Record<string, unknown>; digest?: Record<string, unknown>; preferencesUrl?: string };
  /** The process stops the render itself past this; the pool kills the process a little later. */
  timeoutMs: number;
  /** Cap on subject + html + text, in UTF-8 bytes. */
  maxBytes: number;
  /** Engagement tracking: the pixel and link addresses to write (placeholders; the caller signs them). */
  tracking?: TrackingRewrite;
}

/** Rendered HTML beyond this many characters is left out of a derived plain-text part. */
export declare const MAX_PLAIN_TEXT_INPUT: number;

export type RenderTaskResult =
  /** `text` is the rendered text template, else derived from `html` (absent only if that failed). */
  /** `links` (with `tracking`): the original URL of each rewritten link, by index. */
  | { ok: true; subject: string; html: string; text?: string; links?: string[] }
  /** The template's fault: `message` is the recipient's failure reason; `limit` says which limit stopped it. */
  | { ok: false; message: string; limit?: 'time' | 'output' };

/** Renders one email; throws only for faults of the render process itself. */
export default function renderEmailTask(task: RenderTask): RenderTaskResult;
