import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTracking, MAX_TRACKED_LINKS } from '../../src/rendering/tracking-rewrite.mjs';
import { createTemplateRenderer, type TemplateRenderer } from '../../src/rendering/template-renderer';
import { TrackingTokens, trackingUrls } from '../../src/domain/tracking';

/** The hosts of these links, allowed as a send allows the hosts written in its content (tracked-link-hosts.test.ts covers the rest). */
const options = { opens: true, clicks: true, pixelUrl: 'P', linkUrlPrefix: 'L', allowedHosts: ['example.com'] };
const pixel = '<img src="P" width="1" height="1" alt="">';

/** The open pixel and link rewriting on rendered HTML (htmlparser2's streaming parser, with source positions). */
describe('tracking rewrite', () => {
  it('rewrites only absolute http(s) <a href> links and keeps every other byte', () => {
    const html = [
      '<!doctype html><html><head><title>x</title></head><body>',
      '<p class=a>Hi &amp; welcome</p>',
      '<a href="https://example.com/a?x=1&amp;y=2" title="t">A</a>',
      "<A HREF='HTTP://Example.com/B#frag'>B</A>",
      '<a href=" https://example.com/c ">C</a>',
      '<a href="mailto:help@example.com">m</a><a href="tel:+15550100">t</a><a href="#top">#</a><a href="/rel">r</a>',
      '<a href="javascript:alert(1)">j</a><a href="ftp://example.com/f">f</a><a>no href</a>',
      '<a href="https://example.com/unsubscribe?u=1">Unsubscribe</a><a href="https://example.com/p" data-herald-untracked>p</a>',
      '<!-- <a href="https://example.com/comment">c</a> -->',
      '<area href="https://example.com/area">',
      '</body></html>',
    ].join('\n');
    const { html: out, links } = addTracking(html, options);
    expect(links).toEqual(['https://example.com/a?x=1&y=2', 'HTTP://Example.com/B#frag', 'https://example.com/c']);
    const expected = html
      .replace('href="https://example.com/a?x=1&amp;y=2"', 'href="L0"')
      .replace("HREF='HTTP://Example.com/B#frag'", 'href="L1"')
      .replace('href=" https://example.com/c "', 'href="L2"')
      .replace('</body>', `${pixel}</body>`);
    expect(out).toBe(expected);
  });

  it('appends the pixel to a fragment without </body>, and does only what is asked', () => {
    const html = '<p>Hi</p><a href="https://example.com/">x</a>';
    expect(addTracking(html, { ...options, clicks: false })).toEqual({ html: `${html}${pixel}`, links: [] });
    expect(addTracking(html, { ...options, opens: false })).toEqual({ html: '<p>Hi</p><a href="L0">x</a>', links: ['https://example.com/'] });
    expect(addTracking('', options)).toEqual({ html: pixel, links: [] });
  });

  it('rewrites a link once even when the parser reconstructs it, keeps duplicate attributes, and stops at the cap', () => {
    // An unclosed <a> across paragraphs is reconstructed by the parser from one source tag.
    const reconstructed = addTracking('<p><a href="https://example.com/r">one<p>two</a>', { ...options, opens: false });
    expect(reconstructed).toEqual({ html: '<p><a href="L0">one<p>two</a>', links: ['https://example.com/r'] });
    const duplicate = addTracking('<a href="https://example.com/first" href="https://example.com/second">d</a>', { ...options, opens: false });
    expect(duplicate.links).toEqual(['https://example.com/first']);
    expect(duplicate.html).toBe('<a href="L0" href="https://example.com/second">d</a>');
    const many = addTracking(Array.from({ length: MAX_TRACKED_LINKS + 5 }, (_, i) => `<a href="https://example.com/${i}">${i}</a>`).join(''), {
      ...options,
      opens: false,
    });
    expect(many.links).toHaveLength(MAX_TRACKED_LINKS);
    expect(many.html).toContain(`href="L${MAX_TRACKED_LINKS - 1}"`);
    expect(many.html).toContain(`href="https://example.com/${MAX_TRACKED_LINKS}"`);
  });

  it('stays bounded on deep nesting (no tree is built)', () => {
    const deep = `${'<div>'.repeat(50_000)}<a href="https://example.com/deep">d</a>${'</div>'.repeat(50_000)}`;
    const { links } = addTracking(deep, { ...options, opens: false });
    expect(links).toEqual(['https://example.com/deep']);
  });
});

describe('tracked rendering in the render thread', () => {
  let renderer: TemplateRenderer;
  beforeAll(() => {
    renderer = createTemplateRenderer({ timeoutMs: 2000, maxBytes: 1024 * 1024, processes: 1 });
  });
  afterAll(() => renderer.close());

  it('signs the placeholders outside the thread; the plain text keeps the original links; a template cannot forge a placeholder', async () => {
    const tokens = new TrackingTokens(['k'.repeat(32)]);
    const urls = trackingUrls('https://t.example', tokens, '01EXECUTION', 3);
    const rendered = await renderer.renderEmail(
      {
        content: { subject: 'Hi', html: '<p>{{ context.fake }}</p><a href="{{ context.url }}">Go</a>' },
        profile: {},
        context: { url: 'https://example.com/go?a=1&b=2', fake: 'herald-tracking-000000000000000000000000-o' },
      },
      { opens: true, clicks: true, allowedHosts: ['example.com'], openUrl: urls.open, clickUrl: urls.click },
    );
    expect(rendered.html).toBe(
      `<p>herald-tracking-000000000000000000000000-o</p><a href="${urls.click(0)}">Go</a><img src="${urls.open()}" width="1" height="1" alt="">`,
    );
    expect(rendered.tracked).toEqual({ opens: true, clicks: true, links: ['https://example.com/go?a=1&b=2'] });
    expect(rendered.text).toContain('Go [https://example.com/go?a=1&b=2]');
    expect(tokens.verify(urls.click(0).split('/t/c/')[1]!)).toEqual({ kind: 'click', executionId: '01EXECUTION', position: 3, link: 0 });
    const untracked = await renderer.renderEmail({ content: { subject: 'Hi', html: '<a href="https://example.com/">x</a>' }, profile: {}, context: {} });
    expect(untracked).toEqual({ subject: 'Hi', html: '<a href="https://example.com/">x</a>', text: 'x [https://example.com/]' });
  });
});

describe('tracking tokens', () => {
  const tokens = new TrackingTokens(['s'.repeat(40)]);
  it('verify what they signed, with rotation, and nothing else', () => {
    const open = tokens.sign({ kind: 'open', executionId: '01ABC', position: 0 });
    const click = tokens.sign({ kind: 'click', executionId: '01ABC', position: 2, link: 7 });
    expect(tokens.verify(open)).toEqual({ kind: 'open', executionId: '01ABC', position: 0 });
    expect(tokens.verify(click)).toEqual({ kind: 'click', executionId: '01ABC', position: 2, link: 7 });
    // Rotation: a new key first still verifies tokens of the old one; a foreign key never does.
    expect(new TrackingTokens(['n'.repeat(40), 's'.repeat(40)]).verify(click)).toEqual({ kind: 'click', executionId: '01ABC', position: 2, link: 7 });
    expect(new TrackingTokens(['n'.repeat(40)]).verify(click)).toBeUndefined();
    const [payload, signature] = click.split('.') as [string, string];
    const flipped = `${payload}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
    const otherPayload = `${Buffer.from('c:01ABC:2:8').toString('base64url')}.${signature}`;
    for (const forged of [flipped, otherPayload, `${payload}.`, payload, '', 'garbage', `${click}x`, `${payload}.${signature.slice(0, -1)}B`]) {
      expect(tokens.verify(forged), forged).toBeUndefined();
    }
  });
});
