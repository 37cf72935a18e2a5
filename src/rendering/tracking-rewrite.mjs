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
import { Parser } from 'htmlparser2';

/** Links past this many are left untracked (MAX_TRACKED_LINKS in src/domain/tracking.ts). */
export const MAX_TRACKED_LINKS = 100;
/** A link longer than this is left untracked. */
export const MAX_TRACKED_URL_CHARS = 4096;
/** HTML longer than this is not parsed: its links stay untracked and the pixel is appended. */
export const MAX_TRACKING_INPUT = 2 * 1024 * 1024;

/** ASCII whitespace, which browsers strip from both ends of a URL attribute. */
const ASCII_WHITESPACE = /^[\t\n\f\r ]+|[\t\n\f\r ]+$/g;

function escapeAttribute(value) {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The URL a link should be tracked with, or undefined to leave it alone. `attribs` holds each attribute's first value, decoded. */
function trackableUrl(attribs) {
  // The author's opt-out, e.g. for an unsubscribe link: `<a href="…" data-herald-untracked>`.
  if (Object.hasOwn(attribs, 'data-herald-untracked')) return undefined;
  const url = attribs.href.replace(ASCII_WHITESPACE, '');
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
