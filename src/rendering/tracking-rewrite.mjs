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
//
// A link is rewritten only when its host is allowed (`allowedHosts`, src/domain/link-hosts.mjs:
// the hosts written in the campaign's content and its allowlist): the click endpoint redirects
// to every link rewritten here, and a link whose host came from a trigger's context would make
// Herald's domain an open redirect. No `allowedHosts`: no link is rewritten.
import { Parser } from 'htmlparser2';
import LinkifyIt from 'linkify-it';
import { hostMatcher, linkHostProblem } from '../domain/link-hosts.mjs';

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

/** Why a `<a>` link is not tracked (see linkDecision), or undefined when it is. `attribs` holds each attribute's first value, decoded. */
function anchorDecision(attribs, isAllowed) {
  const url = attribs.href.replace(ASCII_WHITESPACE, '');
  if (!isHttpUrl(url)) return undefined;
  // The author's opt-out, e.g. for an unsubscribe link: `<a href="…" data-herald-untracked>`.
  if (Object.hasOwn(attribs, 'data-herald-untracked')) return { url, reason: 'opted-out' };
  return linkDecision(url, isAllowed);
}

/** Absolute http(s) only: mailto:, tel:, #anchors, relative and javascript: links are not links to track at all. */
function isHttpUrl(url) {
  return url.length > 0 && /^https?:\/\//i.test(url);
}

/**
 * For an absolute http(s) `url`: `{url}` when it is tracked, `{url, reason}` when it is sent as it
 * is: `too-long`, `invalid-url`, `unsubscribe-link`, `credentials-in-url` or `host-not-allowed`.
 */
function linkDecision(url, isAllowed) {
  if (url.length > MAX_TRACKED_URL_CHARS) return { url, reason: 'too-long' };
  // Unsubscribe links are never tracked: unsubscribing must not depend on Herald's redirect.
  if (/unsubscribe|opt-?out/i.test(url)) return { url, reason: 'unsubscribe-link' };
  const problem = linkHostProblem(url, isAllowed);
  return problem === undefined ? { url } : { url, reason: problem };
}

/** Visits the first `href` of each `<a>` of `html` (htmlparser2, as a browser reads it) with its source span, and each explicit `</body>`. */
function scanAnchors(html, onAnchor, onBodyEnd) {
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
        if (name === 'a' && href !== undefined && html.slice(href.start, href.start + 4).toLowerCase() === 'href') onAnchor(attribs, href);
        href = undefined;
      },
      onclosetag(name, isImplied) {
        // An explicit </body>: the last one wins. endIndex lies inside the tag, after its "</".
        if (name === 'body' && !isImplied && onBodyEnd) onBodyEnd(html.lastIndexOf('</', parser.endIndex));
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.end(html);
}

/**
 * Adds the open pixel (`opens`) and rewrites the `<a href>` links (`clicks`) of `html` whose host
 * `allowedHosts` allows. `pixelUrl` is the pixel's address; link `i` (in document order, at most
 * MAX_TRACKED_LINKS) becomes `${linkUrlPrefix}${i}`. Returns the new HTML and the original URL of
 * each link, by index. The pixel goes just before the closing `</body>` tag when the HTML has
 * one, else at the end.
 */
export function addTracking(html, { opens, clicks, pixelUrl, linkUrlPrefix, allowedHosts }) {
  /** [offset, endOffset, replacement], in source order. */
  const edits = [];
  const links = [];
  let bodyEnd;
  if (html.length <= MAX_TRACKING_INPUT) {
    const isAllowed = hostMatcher(allowedHosts);
    scanAnchors(
      html,
      (attribs, href) => {
        if (!clicks || links.length >= MAX_TRACKED_LINKS) return;
        const decision = anchorDecision(attribs, isAllowed);
        if (decision === undefined || decision.reason !== undefined) return;
        edits.push([href.start, href.end, `href="${escapeAttribute(`${linkUrlPrefix}${links.length}`)}"`]);
        links.push(decision.url);
      },
      (at) => {
        bodyEnd = at;
      },
    );
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

/** At most this many untracked links are reported (untrackedLinks, untrackedTextLinks). */
export const MAX_REPORTED_LINKS = 100;

/**
 * The http(s) links that addTracking left as they are in `tracked` (its output, whose tracked
 * links all read `trackedUrl`, as in a preview), with why: the reasons of linkDecision,
 * `opted-out` (data-herald-untracked), or `too-many-links` past MAX_TRACKED_LINKS. In document
 * order, at most MAX_REPORTED_LINKS; none for HTML over MAX_TRACKING_INPUT.
 */
export function untrackedLinks(tracked, { allowedHosts, trackedUrl }) {
  const out = [];
  if (tracked.length > MAX_TRACKING_INPUT) return out;
  const isAllowed = hostMatcher(allowedHosts);
  scanAnchors(tracked, (attribs) => {
    if (out.length >= MAX_REPORTED_LINKS || attribs.href.replace(ASCII_WHITESPACE, '') === trackedUrl) return;
    const decision = anchorDecision(attribs, isAllowed);
    // Allowed yet left as it is: past the limit.
    if (decision !== undefined) out.push({ url: decision.url, reason: decision.reason ?? 'too-many-links' });
  });
  return out;
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
export function addTextTracking(text, { linkUrlPrefix, allowedHosts }) {
  if (text.length > MAX_TEXT_TRACKING_INPUT) return { text, links: [] };
  const isAllowed = hostMatcher(allowedHosts);
  const links = [];
  let out = '';
  let cursor = 0;
  for (const match of textLinks(text)) {
    if (links.length >= MAX_TRACKED_LINKS) break;
    const decision = linkDecision(text.slice(match.index, match.lastIndex), isAllowed);
    if (decision.reason !== undefined) continue;
    out += text.slice(cursor, match.index) + linkUrlPrefix + String(links.length).padStart(TEXT_LINK_INDEX_DIGITS, '0');
    cursor = match.lastIndex;
    links.push(decision.url);
  }
  return { text: out + text.slice(cursor), links };
}

/** The explicit http(s) URLs of `text`, as linkify-it finds them. */
function textLinks(text) {
  return (linkify.match(text) ?? []).filter((match) => match.schema === 'http:' || match.schema === 'https:');
}

/** untrackedLinks for plain text (an SMS body): the http(s) URLs addTextTracking left as they are in `tracked`, its output. */
export function untrackedTextLinks(tracked, { allowedHosts, trackedUrl }) {
  const out = [];
  if (tracked.length > MAX_TEXT_TRACKING_INPUT) return out;
  const isAllowed = hostMatcher(allowedHosts);
  for (const match of textLinks(tracked)) {
    if (out.length >= MAX_REPORTED_LINKS) break;
    const url = tracked.slice(match.index, match.lastIndex);
    if (url.startsWith(trackedUrl)) continue;
    const decision = linkDecision(url, isAllowed);
    out.push({ url, reason: decision.reason ?? 'too-many-links' });
  }
  return out;
}
