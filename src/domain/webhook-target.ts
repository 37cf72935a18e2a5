import ipaddr from 'ipaddr.js';

/**
 * Which addresses a feedback webhook may reach. Only unicast addresses on the public internet:
 * never loopback, private (RFC 1918, CGNAT), link-local (169.254/16, where cloud metadata
 * services answer, and fe80::/10), unique-local (fc00::/7), unspecified (0.0.0.0, ::),
 * multicast, broadcast or reserved ranges. IPv4-mapped IPv6 addresses are judged as IPv4.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast';
}

/** The hostname of a URL without IPv6 brackets. */
export function bareHostname(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * Why `value` cannot be a webhook target, or undefined when it can. Checked at creation on the
 * URL as written (a literal address, `localhost`); the delivery checks again every address the
 * name resolves to, and connects only to a checked one.
 */
export function webhookUrlProblem(value: string, allowPrivate: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL such as https://example.com/herald-events';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must start with http:// or https://';
  if (url.username || url.password) return 'must not hold a user name or password';
  if (url.hash) return 'must not have a fragment';
  if (allowPrivate) return undefined;
  const host = bareHostname(url).toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return 'is a loopback address; Herald refuses private targets (set HERALD_WEBHOOKS_ALLOW_PRIVATE=true only for tests and closed networks)';
  if (ipaddr.isValid(host) && !isPublicAddress(host)) {
    return `is a private, loopback, link-local or reserved address (${host}); Herald refuses those (set HERALD_WEBHOOKS_ALLOW_PRIVATE=true only for tests and closed networks)`;
  }
  return undefined;
}
