// Engagement tracking for a rendered email: an open pixel and rewritten links (see
// src/domain/tracking.ts for the tokens). Runs in the render thread, after the templates, on
// the rendered HTML. Plain JavaScript for the same reason as render-thread.mjs. Types:
// tracking-rewrite.d.mts.
//
// The HTML is read by htmlparser2's streaming parser (the parser html-to-text already uses for
// the plain-text part): it builds no tree, so memory stays flat however many elements a message
// has, and it reports where each attribute lies in the source. Only the `href` attributes that
// are rewritten and the pixel's insertion point change: everything else stays byte for byte as
// rendered. Script, style, title and textarea contents are text to it, as to a browser.
//
// Plain text (an SMS body) is read by linkify-it, the link detector of markdown-it: only the
// URLs written with an explicit http:// or https:// change, everything else stays as rendered.
import { Parser } from 'htmlparser2';
import LinkifyIt from 'linkify-it';

/** Links past this many are left untracked (MAX_TRACKED_LINKS in src/domain/tracking.ts). */
export const MAX_TRACKED_LINKS = 100;
/** A link longer than this is left untracked. */
export const MAX_TRACKED_URL_CHARS = 4096;
/** HTML longer than this is not parsed: its links stay untracked and the pixel is appended. */
export const MAX_TRACKING_INPUT = 2 * 1024 * 1024;

/** Text longer than this is not scanned for links: they stay untracked (an SMS body is at most 1600 characters at Twilio). */
export const MAX_TEXT_TRACKING_INPUT = 64 * 1024;

/** ASCII whitespace, which browsers strip from both ends of a URL attribute. */
const ASCII_WHITESPACE = /^[\t\n\f\r ]+|[\t\n\f\r ]+$/g;

function escapeAttribute(value) {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The URL a link should be tracked with, or undefined to leave it alone. `attribs` holds each attribute's first value, decoded. */
function trackableUrl(attribs) {
  // The author's opt-out, e.g. for an unsubscribe link: `<a href="…" data-herald-untracked>`.
  if (Object.hasOwn(attribs, 'data-herald-untracked')) return undefined;
  return trackableHttpUrl(attribs.href.replace(ASCII_WHITESPACE, ''));
}

/** `url` if it is an absolute http(s) URL worth tracking, else undefined. */
function trackableHttpUrl(url) {
  if (url.length === 0 || url.length > MAX_TRACKED_URL_CHARS) return undefined;
  // Absolute http(s) only: mailto:, tel:, #anchors, relative and javascript: links stay as they are.
  if (!/^https?:\/\//i.test(url)) return undefined;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  } catch {
    return undefined;
  }
  // Unsubscribe links are never tracked: unsubscribing must not depend on Herald's redirect.
  if (/unsubscribe|opt-?out/i.test(url)) return undefined;
  return url;
}

/**
 * Adds the open pixel (`opens`) and rewrites the `<a href>` links (`clicks`) of `html`.
 * `pixelUrl` is the pixel's address; link `i` (in document order, at most MAX_TRACKED_LINKS)
 * becomes `${linkUrlPrefix}${i}`. Returns the new HTML and the original URL of each link, by
 * index. The pixel goes just before the closing `</body>` tag when the HTML has one, else at the end.
 */
export function addTracking(html, { opens, clicks, pixelUrl, linkUrlPrefix }) {
  /** [offset, endOffset, replacement], in source order. */
  const edits = [];
  const links = [];
  let bodyEnd;
  if (html.length <= MAX_TRACKING_INPUT) {
    /** The source span of the current tag's first href attribute. */
    let href;
    const parser = new Parser(
      {
        onopentagname() {
          href = undefined;
        },
        onattribute(name, _value, quote) {
          if (name !== 'href' || href !== undefined) return;
          // From the attribute's name to the end of its value, closing quote included.
          href = { start: parser.startIndex, end: quote === '"' || quote === "'" ? parser.endIndex + 1 : parser.endIndex };
        },
        onopentag(name, attribs) {
          if (clicks && name === 'a' && href !== undefined && links.length < MAX_TRACKED_LINKS && html.slice(href.start, href.start + 4).toLowerCase() === 'href') {
            const url = trackableUrl(attribs);
            if (url !== undefined) {
              edits.push([href.start, href.end, `href="${escapeAttribute(`${linkUrlPrefix}${links.length}`)}"`]);
              links.push(url);
            }
          }
          href = undefined;
        },
        onclosetag(name, isImplied) {
          // An explicit </body>: the last one wins. endIndex lies inside the tag, after its "</".
          if (name === 'body' && !isImplied) bodyEnd = html.lastIndexOf('</', parser.endIndex);
        },
      },
      { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
    );
    parser.end(html);
  }
  if (opens) {
    const at = bodyEnd !== undefined && bodyEnd >= 0 ? bodyEnd : html.length;
    edits.push([at, at, `<img src="${escapeAttribute(pixelUrl)}" width="1" height="1" alt="">`]);
  }
  edits.sort((a, b) => a[0] - b[0]);
  let out = '';
  let cursor = 0;
  for (const [start, end, replacement] of edits) {
    out += html.slice(cursor, start) + replacement;
    cursor = end;
  }
  return { html: out + html.slice(cursor), links };
}

/**
 * URLs in plain text: explicit http:// and https:// links only. No fuzzy links (`example.com`),
 * no e-mail addresses, no `//host`, `ftp:` or `mailto:` links.
 */
const linkify = new LinkifyIt({ fuzzyLink: false, fuzzyEmail: false, fuzzyIP: false });
linkify.add('ftp:', null).add('//', null).add('mailto:', null);

/** Link `i` of a text is written `${linkUrlPrefix}` + `i` on this many digits (fixed width: a digit after the link cannot change its index). */
export const TEXT_LINK_INDEX_DIGITS = 3;

/**
 * Rewrites the http(s) URLs of plain text (an SMS body) for click tracking: URL `i` (in text
 * order, at most MAX_TRACKED_LINKS, found by linkify-it) becomes `${linkUrlPrefix}` followed
 * by `i` on TEXT_LINK_INDEX_DIGITS digits; every other character stays as rendered. URLs longer
 * than MAX_TRACKED_URL_CHARS, unsubscribe and opt-out URLs, and everything in a text over
 * MAX_TEXT_TRACKING_INPUT characters stay as they are. Returns the new text and the original
 * URL of each link (exactly as written), by index.
 */
export function addTextTracking(text, { linkUrlPrefix }) {
  if (text.length > MAX_TEXT_TRACKING_INPUT) return { text, links: [] };
  const matches = linkify.match(text) ?? [];
  const links = [];
  let out = '';
  let cursor = 0;
  for (const match of matches) {
    if (links.length >= MAX_TRACKED_LINKS) break;
    if (match.schema !== 'http:' && match.schema !== 'https:') continue;
    const url = trackableHttpUrl(text.slice(match.index, match.lastIndex));
    if (url === undefined) continue;
    out += text.slice(cursor, match.index) + linkUrlPrefix + String(links.length).padStart(TEXT_LINK_INDEX_DIGITS, '0');
    cursor = match.lastIndex;
    links.push(url);
  }
  return { text: out + text.slice(cursor), links };
}
