import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTextTracking, MAX_TEXT_TRACKING_INPUT, MAX_TRACKED_LINKS } from '../../src/rendering/tracking-rewrite.mjs';
import { createTemplateRenderer, type TemplateRenderer } from '../../src/rendering/template-renderer';
import { TrackingTokens, trackingUrls } from '../../src/domain/tracking';

/** The hosts of these links, allowed as a send allows the hosts written in its content (tracked-link-hosts.test.ts covers the rest). */
const allowedHosts = ['example.com', 'ex.am'];

/** SMS click tracking: the http(s) URLs of plain text found by linkify-it, everything else kept. */
describe('text tracking rewrite', () => {
  it('rewrites only explicit http(s) URLs and keeps every other character', () => {
    const text = [
      'Hi Ada: https://example.com/o/4711?a=1&b=2, or (HTTPS://Example.com/Path#frag).',
      'Not: www.example.org example.com //cdn.example.com ftp://files.example.com/x mailto:help@example.com ada@example.com',
      'Opt out: https://example.com/opt-out?u=1 or https://example.com/unsubscribe',
      'Unicode stays: café ✓ http://ex.am/ple',
    ].join('\n');
    const { text: out, links } = addTextTracking(text, { linkUrlPrefix: 'L', allowedHosts });
    expect(links).toEqual(['https://example.com/o/4711?a=1&b=2', 'HTTPS://Example.com/Path#frag', 'http://ex.am/ple']);
    expect(out).toBe(
      text.replace('https://example.com/o/4711?a=1&b=2', 'L000').replace('HTTPS://Example.com/Path#frag', 'L001').replace('http://ex.am/ple', 'L002'),
    );
  });

  it('leaves text without links, and text too large to scan, as it is', () => {
    expect(addTextTracking('Your code is 4711', { linkUrlPrefix: 'L', allowedHosts })).toEqual({ text: 'Your code is 4711', links: [] });
    const big = `https://example.com/a ${'x'.repeat(MAX_TEXT_TRACKING_INPUT)}`;
    expect(addTextTracking(big, { linkUrlPrefix: 'L', allowedHosts })).toEqual({ text: big, links: [] });
  });

  it('tracks at most MAX_TRACKED_LINKS links and leaves over-long URLs alone', () => {
    const urls = Array.from({ length: MAX_TRACKED_LINKS + 5 }, (_, i) => `https://example.com/${i}`);
    const { text, links } = addTextTracking(urls.join(' '), { linkUrlPrefix: 'L', allowedHosts });
    expect(links).toEqual(urls.slice(0, MAX_TRACKED_LINKS));
    expect(text).toBe([...urls.slice(0, MAX_TRACKED_LINKS).map((_, i) => `L${String(i).padStart(3, '0')}`), ...urls.slice(MAX_TRACKED_LINKS)].join(' '));
    const long = `https://example.com/${'a'.repeat(5000)}`;
    expect(addTextTracking(`go ${long}`, { linkUrlPrefix: 'L', allowedHosts })).toEqual({ text: `go ${long}`, links: [] });
  });
});

describe('SMS rendering with click tracking', () => {
  let renderer: TemplateRenderer;
  beforeAll(() => {
    renderer = createTemplateRenderer({ timeoutMs: 2000, maxBytes: 256 * 1024, processes: 1 });
  });
  afterAll(() => renderer.close());

  it('renders the body with signed click addresses; the text keeps every other character', async () => {
    const tokens = new TrackingTokens(['k'.repeat(32)]);
    const urls = trackingUrls('https://t.example/h', tokens, 'exec1', 3);
    const body = 'Hi {{ profile.name }}: https://example.com/{{ context.code }}1 and https://example.com/b9, bye';
    const rendered = await renderer.renderEmail(
      { content: { subject: '', html: '', text: body }, profile: { name: 'Ada & co <x>' }, context: { code: '47' } },
      { opens: false, clicks: true, part: 'text', allowedHosts, openUrl: urls.open, clickUrl: urls.click },
    );
    expect(rendered.text).toBe(`Hi Ada & co <x>: ${urls.click(0)} and ${urls.click(1)}, bye`);
    expect(rendered.tracked).toEqual({ opens: false, clicks: true, links: ['https://example.com/471', 'https://example.com/b9'] });
    expect(rendered.html).toBe('');
  });

  it('a template cannot forge the placeholders', async () => {
    const rendered = await renderer.renderEmail(
      { content: { subject: '', html: '', text: 'herald-tracking-00-000 https://example.com' }, profile: {}, context: {} },
      { opens: false, clicks: true, part: 'text', allowedHosts, openUrl: () => 'O', clickUrl: (i) => `C${i}` },
    );
    expect(rendered.text).toBe('herald-tracking-00-000 C0');
  });
});
