import { describe, expect, it } from 'vitest';
import { allowedLinkHostProblem, canonicalAllowedLinkHost, hostMatcher, linkHostProblem, literalLinkHosts } from '../../src/domain/link-hosts.mjs';
import { trackedLinkHosts } from '../../src/domain/tracked-link-hosts';
import { addTextTracking, addTracking, untrackedLinks, untrackedTextLinks } from '../../src/rendering/tracking-rewrite.mjs';

/** Issue 18, finding 6: which links click tracking may rewrite (and /t/c/ redirect to). */
describe('literal link hosts of templates', () => {
  it('takes the hosts spelt out entirely, canonical, and leaves out any the template builds', () => {
    const html = [
      '<a href="https://Shop.Example.com/orders/{{ context.id }}">o</a>',
      "<a href='http://plain.example:8080?x'>p</a>",
      '<a href="https://bücher.example/">idn</a> https://shop。other。example/ text',
      '<a href="{{ context.url }}">u</a>',
      '<a href="https://{{ context.host }}/x">h</a>',
      '<a href="https://prefix.example{{ context.rest }}">r</a>',
      '<a href="https://cdn.example{% if x %}.evil.example{% endif %}/">i</a>',
      '<a href="https://shop.example.com@evil.example/">userinfo</a>',
      '<a href="https://*.wild.example/">wildcard</a>',
      '<a href="//relative.example/">protocol-relative</a> mailto:a@mail.example',
      'https://trailing.example.',
    ].join('\n');
    expect(literalLinkHosts([html, undefined as unknown as string, 'Subject https://subject.example'])).toEqual([
      'shop.example.com',
      'plain.example',
      'xn--bcher-kva.example',
      'shop.other.example',
      'trailing.example',
      'subject.example',
    ]);
  });

  it('covers every variant and template field of a campaign, and adds the canonical allowlist', () => {
    const hosts = trackedLinkHosts({
      content: {
        default: { subject: 'https://subject.example', html: '<a href="https://html.example/">x</a>', text: 'https://text.example/{{ context.p }}' },
        translations: { fr: { subject: 'x', html: '<a href="https://fr.example/">x</a>' } },
      },
      tracking: { clicks: true, allowedLinkHosts: ['Partner.Example', '*.Bücher.example', 'html.example'] },
    });
    expect(hosts).toEqual(['subject.example', 'html.example', 'text.example', 'fr.example', 'partner.example', '*.xn--bcher-kva.example']);
    expect(trackedLinkHosts({ content: { body: 'SMS https://sms.example/{{ context.code }} {{ context.url }}' } })).toEqual(['sms.example']);
  });
});

describe('allowlist entries', () => {
  it('accepts host names and subdomain wildcards, in canonical form', () => {
    for (const [entry, canonical] of [
      ['example.com', 'example.com'],
      ['EXAMPLE.com.', 'example.com'],
      ['*.example.com', '*.example.com'],
      ['bücher.example', 'xn--bcher-kva.example'],
      ['a_b.example', 'a_b.example'],
      ['192.0.2.1', '192.0.2.1'],
    ]) {
      expect(allowedLinkHostProblem(entry), entry).toBeUndefined();
      expect(canonicalAllowedLinkHost(entry!), entry).toBe(canonical);
    }
  });

  it('refuses anything more or less than a host', () => {
    for (const entry of [
      '',
      'https://example.com',
      'example.com:443',
      'example.com/x',
      'user@example.com',
      'exa mple.com',
      '[::1]',
      '*',
      '*.com',
      '*.*.example.com',
      'a*.example.com',
      '*.192.0.2',
      'ex%61mple.com',
      `${'a'.repeat(64)}.com`,
      'a..b',
      42,
    ]) {
      expect(allowedLinkHostProblem(entry), String(entry)).toEqual(expect.any(String));
    }
  });
});

describe('host matching', () => {
  const allowed = hostMatcher(['shop.example.com', '*.partner.example', '[::1]']);
  const problem = (url: string) => linkHostProblem(url, allowed);

  it('matches exactly, lowercase and punycode as WHATWG URL reads the host, ports aside', () => {
    expect(problem('https://shop.example.com/x')).toBeUndefined();
    expect(problem('HTTPS://SHOP.EXAMPLE.COM:8443/x')).toBeUndefined();
    expect(problem('https://shop.example.com./x')).toBeUndefined();
    expect(problem('https://shop%2eexample.com/x')).toBeUndefined();
    expect(problem('https://[::1]/x')).toBeUndefined();
    expect(problem('https://example.com/')).toBe('host-not-allowed');
    expect(problem('https://shop.example.com.evil.example/')).toBe('host-not-allowed');
    expect(problem('https://evilshop.example.com/')).toBe('host-not-allowed');
    expect(problem('https://evil.example/https://shop.example.com/')).toBe('host-not-allowed');
    expect(problem('https://evil.example/?u=https://shop.example.com')).toBe('host-not-allowed');
  });

  it('lets a wildcard match subdomains only', () => {
    expect(problem('https://a.partner.example/')).toBeUndefined();
    expect(problem('https://a.b.partner.example/')).toBeUndefined();
    expect(problem('https://partner.example/')).toBe('host-not-allowed');
    expect(problem('https://evilpartner.example/')).toBe('host-not-allowed');
  });

  it('refuses userinfo and backslashes in the authority, whatever the host', () => {
    for (const url of [
      'https://shop.example.com@evil.example/',
      'https://shop.example.com:443@evil.example/',
      'https://user:pw@shop.example.com/',
      'https://shop.example.com\\@evil.example/',
      'https://shop.example.com\t@evil.example/',
    ]) {
      expect(problem(url), url).toBe('credentials-in-url');
    }
    expect(problem('https://shop.example.com/@evil.example')).toBeUndefined();
  });

  it('allows nothing without a list', () => {
    expect(hostMatcher(undefined)('example.com')).toBe(false);
    expect(hostMatcher([])('example.com')).toBe(false);
    expect(hostMatcher(['*.example.com'])('')).toBe(false);
  });
});

describe('the rewrite keeps to allowed hosts', () => {
  const html = [
    '<a href="https://shop.example.com/o/1">shop</a>',
    '<a href="https://attacker.example/phish">evil</a>',
    '<a href="https://shop.example.com@attacker.example/">userinfo</a>',
    '<a href="https://shop.example.com/unsubscribe">u</a>',
    '<a href="https://shop.example.com/p" data-herald-untracked>p</a>',
    '<a href="mailto:a@shop.example.com">m</a>',
    '<a href="https://a.partner.example/">partner</a>',
  ].join('');

  it('rewrites only links to allowed hosts; without allowedHosts, none', () => {
    const tracking = { opens: false, clicks: true, pixelUrl: 'P', linkUrlPrefix: 'L', allowedHosts: ['shop.example.com', '*.partner.example'] };
    const { html: out, links } = addTracking(html, tracking);
    expect(links).toEqual(['https://shop.example.com/o/1', 'https://a.partner.example/']);
    expect(out).toBe(html.replace('href="https://shop.example.com/o/1"', 'href="L0"').replace('href="https://a.partner.example/"', 'href="L1"'));
    expect(addTracking(html, { ...tracking, allowedHosts: undefined })).toEqual({ html, links: [] });

    // What a preview reports for the output: every http(s) link left as it is, with why.
    expect(untrackedLinks(out, { allowedHosts: tracking.allowedHosts, trackedUrl: 'L0' }).map(({ url, reason }) => `${reason} ${url}`)).toEqual([
      'host-not-allowed https://attacker.example/phish',
      'credentials-in-url https://shop.example.com@attacker.example/',
      'unsubscribe-link https://shop.example.com/unsubscribe',
      'opted-out https://shop.example.com/p',
      // Not the mailto: link (no http(s) link), nor the placeholders L0 and L1.
    ]);
  });

  it('does the same for the URLs of a text', () => {
    const text =
      'Shop https://shop.example.com/o/1 evil https://attacker.example/phish trick https://shop.example.com@attacker.example/ ok https://a.partner.example/x';
    const { text: out, links } = addTextTracking(text, { linkUrlPrefix: 'https://t.example/c/', allowedHosts: ['shop.example.com', '*.partner.example'] });
    expect(links).toEqual(['https://shop.example.com/o/1', 'https://a.partner.example/x']);
    expect(out).toBe(
      'Shop https://t.example/c/000 evil https://attacker.example/phish trick https://shop.example.com@attacker.example/ ok https://t.example/c/001',
    );
    expect(untrackedTextLinks(out, { allowedHosts: ['shop.example.com', '*.partner.example'], trackedUrl: 'https://t.example/c/' })).toEqual([
      { url: 'https://attacker.example/phish', reason: 'host-not-allowed' },
      { url: 'https://shop.example.com@attacker.example/', reason: 'credentials-in-url' },
    ]);
    expect(addTextTracking(text, { linkUrlPrefix: 'L' })).toEqual({ text, links: [] });
  });

  it('reports allowed links past the cap as too many', () => {
    const many = Array.from({ length: 102 }, (_, i) => `<a href="https://shop.example.com/${i}">${i}</a>`).join('');
    const { html: out, links } = addTracking(many, { opens: false, clicks: true, pixelUrl: 'P', linkUrlPrefix: 'T', allowedHosts: ['shop.example.com'] });
    expect(links).toHaveLength(100);
    const tracked = out.replace(/href="T\d+"/g, 'href="T"');
    expect(untrackedLinks(tracked, { allowedHosts: ['shop.example.com'], trackedUrl: 'T' })).toEqual([
      { url: 'https://shop.example.com/100', reason: 'too-many-links' },
      { url: 'https://shop.example.com/101', reason: 'too-many-links' },
    ]);
  });
});
