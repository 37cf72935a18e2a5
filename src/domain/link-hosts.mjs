// The hosts a tracked link may lead to (issue 18, finding 6: Herald's domain must not be an open
// redirect). Click tracking rewrites a link, and so lets /t/c/<token> redirect to it, only when
// the link's host was written literally in the campaign's content or is named by the campaign's
// `tracking.allowedLinkHosts`: a URL a trigger caller slips in through `context` stays as it is.
//
// Plain JavaScript, like template-safety.mjs, because the render thread (tracking-rewrite.mjs)
// decides with it too and loads no TypeScript. Types: link-hosts.d.mts. Every host goes through
// the WHATWG URL parser, the one browsers follow a redirect with, so "the host" means the same
// thing here as in the browser: lowercased, IDNA/punycode, percent-decoded, ports and userinfo
// apart.

/** At most this many entries in a campaign's `tracking.allowedLinkHosts`. */
export const MAX_ALLOWED_LINK_HOSTS = 100;

/** Hosts taken from a campaign's content past this many are ignored (their links stay untracked): the list goes with every render. */
export const MAX_LITERAL_LINK_HOSTS = 1000;

/** One DNS label once normalised (punycode is ASCII); `_` occurs in real host names and WHATWG keeps it. */
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** Characters that make an allowlist entry more than a host: a port, a path, userinfo, an IPv6 literal, spaces, percent-encoding. */
const NOT_A_HOST = /[\s:/\\?#@[\]%]/;

/** The host as WHATWG URL reads it from `https://<host>/`, one trailing dot dropped (`example.com.` is `example.com`); undefined when it does not parse. */
function parsedHost(host) {
  let url;
  try {
    url = new URL(`https://${host}/`);
  } catch {
    return undefined;
  }
  if (url.username !== '' || url.password !== '') return undefined;
  return withoutTrailingDot(url.hostname);
}

function withoutTrailingDot(hostname) {
  return hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
}

/**
 * Why `entry` cannot be in `tracking.allowedLinkHosts`, or undefined when it can: a host name
 * (`example.com`, `Bücher.example`) or a wildcard for its subdomains (`*.example.com`), no scheme,
 * port, path or userinfo. The wildcard matches subdomains only, and needs at least two labels
 * after `*.` (`*.com` would allow half the web).
 */
export function allowedLinkHostProblem(entry) {
  if (typeof entry !== 'string' || entry.length === 0) return 'must be a host name such as example.com or *.example.com';
  if (entry.length > 253) return 'must be at most 253 characters';
  const wildcard = entry.startsWith('*.');
  const host = wildcard ? entry.slice(2) : entry;
  if (NOT_A_HOST.test(host) || host.includes('*'))
    return 'must be a host name such as example.com or *.example.com (no scheme, port, path, userinfo or other wildcard)';
  const normalised = parsedHost(host);
  if (normalised === undefined || normalised.length === 0 || normalised.length > 253 || !normalised.split('.').every((label) => LABEL.test(label))) {
    return 'must be a valid host name such as example.com or *.example.com';
  }
  if (wildcard) {
    const labels = normalised.split('.');
    if (labels.length < 2) return 'a wildcard needs a domain of at least two labels (*.example.com, not *.com)';
    if (/^[0-9]+$/.test(labels[labels.length - 1])) return 'a wildcard names the subdomains of a domain, not of an IP address';
  }
  return undefined;
}

/** The canonical form of a valid allowlist entry (`*.` kept, the rest lowercased, punycode); undefined for an invalid one. */
export function canonicalAllowedLinkHost(entry) {
  if (allowedLinkHostProblem(entry) !== undefined) return undefined;
  return entry.startsWith('*.') ? `*.${parsedHost(entry.slice(2))}` : parsedHost(entry);
}

/**
 * An absolute http(s) URL written in a template, up to the end of its authority: what follows
 * `://` up to the first character that ends a host in a URL or in the HTML or text around it.
 */
const LITERAL_URL = /https?:\/\/([^\s/?#\\"'<>`]*)/gi;

/**
 * The hosts of the absolute http(s) URLs written literally in template sources, canonical and
 * deduplicated. A host counts only when the template spells it out entirely: an authority that
 * runs into a template tag (`https://{{ context.host }}/`, `https://shop.example.com{{ x }}`,
 * which could continue as `.attacker.example` or `@attacker.example`), carries userinfo, or
 * holds a `*` is left out. Anything written outside the tags, or as a string inside them, came
 * from the campaign's author, who may link anywhere; only variables come from a trigger caller.
 */
export function literalLinkHosts(sources) {
  const hosts = new Set();
  for (const source of sources) {
    if (typeof source !== 'string') continue;
    for (const match of source.matchAll(LITERAL_URL)) {
      const authority = match[1];
      if (authority === '' || authority.includes('{') || authority.includes('@') || authority.includes('*')) continue;
      const host = parsedHost(authority);
      if (host === undefined || host === '') continue;
      hosts.add(host);
      if (hosts.size >= MAX_LITERAL_LINK_HOSTS) return [...hosts];
    }
  }
  return [...hosts];
}

/**
 * A matcher for canonical hosts and `*.` wildcards (canonicalAllowedLinkHost, literalLinkHosts):
 * true when `hostname` (WHATWG's, as `new URL(...).hostname` gives it) is one of the hosts or a
 * subdomain of a wildcard's domain. Nothing given: nothing matches.
 */
export function hostMatcher(allowedHosts) {
  const exact = new Set();
  const suffixes = [];
  for (const entry of allowedHosts ?? []) {
    if (typeof entry !== 'string') continue;
    if (entry.startsWith('*.')) suffixes.push(entry.slice(1));
    else exact.add(entry);
  }
  return (hostname) => {
    const host = withoutTrailingDot(hostname);
    if (host === '') return false;
    if (exact.has(host)) return true;
    // `.example.com` as a suffix: a subdomain, never example.com itself nor notexample.com.
    return suffixes.some((suffix) => host.length > suffix.length && host.endsWith(suffix));
  };
}

/**
 * Why the absolute http(s) URL `url` may not be tracked given `isAllowed` (hostMatcher), or
 * undefined when it may: `credentials-in-url` when its authority holds userinfo or a backslash
 * (`https://shop.example.com@attacker.example/` leads to attacker.example; `\` is read as `/` by
 * browsers and not by every other parser), `invalid-url` when it does not parse,
 * `host-not-allowed` when its host is not allowed.
 */
export function linkHostProblem(url, isAllowed) {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url)?.[1];
  if (authority === undefined) return 'invalid-url';
  if (authority.includes('@') || authority.includes('\\')) return 'credentials-in-url';
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return 'invalid-url';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'invalid-url';
  if (parsed.username !== '' || parsed.password !== '') return 'credentials-in-url';
  return isAllowed(parsed.hostname) ? undefined : 'host-not-allowed';
}
