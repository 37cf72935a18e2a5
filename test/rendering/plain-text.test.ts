import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTemplateRenderer, type TemplateRenderer } from '../../src/rendering/template-renderer';

/** The plain-text part the render thread derives from the HTML when a campaign gives no `text`. */
describe('derived plain text', () => {
  let renderer: TemplateRenderer;
  beforeAll(() => {
    renderer = createTemplateRenderer({ timeoutMs: 2000, maxBytes: 1024 * 1024, processes: 1 });
  });
  afterAll(() => renderer.close());

  const render = (html: string, text?: string) =>
    renderer.renderEmail({
      content: { subject: 'Hi', html, ...(text !== undefined && { text }) },
      profile: { name: 'Ada' },
      context: { url: 'https://example.com/r?a=1&b=2' },
    });

  it('comes from the rendered HTML: blocks, links with their URL, escaped values read back', async () => {
    const rendered = await render(
      '<h1>Hello {{ profile.name }}</h1><p>Fish &amp; chips <b>now</b>.</p><ul><li>one</li><li>two</li></ul><p><a href="{{ context.url }}">Reset</a></p>',
    );
    expect(rendered.text).toBe('HELLO ADA\n\nFish & chips now.\n\n * one\n * two\n\nReset [https://example.com/r?a=1&b=2]');
  });

  it('is not derived when the campaign gives its own text, even an empty one', async () => {
    expect((await render('<p>html</p>', 'own {{ profile.name }}')).text).toBe('own Ada');
    expect((await render('<p>html</p>', '')).text).toBe('');
  });

  it('stays bounded on hostile HTML: deep nesting and a huge body render, with text', async () => {
    // Content nested deeper than 100 elements is cut ("..."), never recursed into.
    const deep = await render(`<p>top</p>${'<div>'.repeat(20_000)}deep${'</div>'.repeat(20_000)}`);
    expect(deep.text).toBe('top\n\n...');
    const started = Date.now();
    const huge = await render(`{% for i in range(10000) %}<p>{{ i }} {{ profile.name }}</p><a href="{{ context.url }}">x</a>{% endfor %}`);
    expect(huge.html.length).toBeGreaterThan(500_000);
    expect(huge.text!.length).toBeGreaterThan(0);
    expect(huge.text!.length).toBeLessThan(huge.html.length);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
