import ipaddr from 'ipaddr.js';

/**
 * Which addresses a feedback webhook may reach. Only unicast addresses on the public internet:
 * never loopback, private (RFC 1918, CGNAT), link-local (169.254/16, where cloud metadata
 * services answer, and fe80::/10), unique-local (fc00::/7), unspecified (0.0.0.0, ::),
 * multicast, broadcast or reserved ranges.
 *
 * IPv6 is judged conservatively, since several of its forms carry an IPv4 address that a stack,
 * NAT64 gateway or relay may turn into a connection to that IPv4 address: such a form passes only
 * when every IPv4 address it embeds is public itself. Any other IPv6 address must be plain
 * unicast inside 2000::/3, the only space IANA hands out for global unicast.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return isPublicIPv4(parsed as ipaddr.IPv4);
  const v6 = parsed as ipaddr.IPv6;
  const embedded = embeddedIPv4(v6);
  if (embedded !== undefined) return embedded.length > 0 && embedded.every(isPublicIPv4);
  return v6.range() === 'unicast' && v6.match(GLOBAL_UNICAST);
}

const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');
/** NAT64's local-use prefix (RFC 8215): where the IPv4 address sits depends on the operator's prefix length. */
const NAT64_LOCAL_USE = ipaddr.parseCIDR('64:ff9b:1::/48');
/** IPv4-compatible addresses (deprecated by RFC 4291), `::` and `::1` included. */
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

function isPublicIPv4(address: ipaddr.IPv4): boolean {
  return address.range() === 'unicast';
}

const ipv4From = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);

/**
 * The IPv4 addresses an IPv6 address carries, when it is of a form that carries one: an empty
 * list when its form is judged private whatever it carries; undefined for a plain IPv6 address.
 */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4[] | undefined {
  const p = address.parts as [number, number, number, number, number, number, number, number];
  // Before the range check: ipaddr.js classes ::a.b.c.d as plain unicast.
  if (address.match(IPV4_COMPATIBLE)) return [];
  if (address.match(NAT64_LOCAL_USE)) return [];
  switch (address.range()) {
    case 'ipv4Mapped': // ::ffff:a.b.c.d
    case 'rfc6145': // ::ffff:0:a.b.c.d (IPv4-translated, RFC 2765/6145)
    case 'rfc6052': // 64:ff9b::a.b.c.d (NAT64 well-known prefix)
      return [ipv4From(p[6], p[7])];
    case '6to4': // 2002:aabb:ccdd::/48 is the 6to4 site of a.b.c.d
      return [ipv4From(p[1], p[2])];
    case 'teredo': // 2001:0:<server>:<flags>:<port>:<client, inverted>
      return [ipv4From(p[2], p[3]), ipv4From(p[6] ^ 0xffff, p[7] ^ 0xffff)];
    default:
      return undefined;
  }
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
  // A trailing dot names the DNS root explicitly (`localhost.` is `localhost`); URL keeps it.
  const host = bareHostname(url).toLowerCase().replace(/\.+$/, '');
  if (host === 'localhost' || host.endsWith('.localhost'))
    return 'is a loopback address; Herald refuses private targets (set HERALD_WEBHOOKS_ALLOW_PRIVATE=true only for tests and closed networks)';
  if (ipaddr.isValid(host) && !isPublicAddress(host)) {
    return `is a private, loopback, link-local or reserved address (${host}); Herald refuses those (set HERALD_WEBHOOKS_ALLOW_PRIVATE=true only for tests and closed networks)`;
  }
  return undefined;
}
