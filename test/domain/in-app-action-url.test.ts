import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelRulesOf } from '../../src/channels/registry';
import { actionUrlTemplateProblem } from '../../src/channels/in-app/in-app-rules';
import type { InAppContent } from '../../src/domain/channel-content';
import { createTemplateRenderer, type TemplateRenderer } from '../../src/rendering/template-renderer';

const rules = channelRulesOf('inApp');
const review = (content: InAppContent) => rules.reviewContent([{ locale: 'default', path: 'content', content }]);

/** The in-app action URL as a template: reviewed as written, rendered with title and body in one call, stored as the dispatch reads it. */
describe('the in-app action URL', () => {
  let renderer: TemplateRenderer;
  beforeAll(() => {
    renderer = createTemplateRenderer({ timeoutMs: 2000, maxBytes: 1024 * 1024, processes: 1 });
  });
  afterAll(async () => {
    await renderer.close();
  });

  /** What preparation stores for a variant: the channel's templates rendered once, then stored its way. */
  async function prepared(content: InAppContent, context: Record<string, unknown>, profile: Record<string, unknown> = {}) {
    const rendering = rules.rendering!;
    return rendering.stored(content, await renderer.renderEmail({ content: rendering.templates(content), profile, context }));
  }

  it('passes review as a literal http(s) URL or path, or as a template that begins as one does', () => {
    for (const actionUrl of [
      '/orders',
      'https://example.com/orders?id=1&x=2',
      '/orders/{{ context.orderId }}',
      'https://example.com/{{ context.path }}',
      '{{ context.url }}',
      '{% if context.orderId %}/orders/{{ context.orderId }}{% else %}/orders{% endif %}',
    ])
      expect(review({ title: 'T', body: 'B', actionUrl }), actionUrl).toEqual([]);
  });

  it('is refused at review when its literal value, or the text before its first tag, is no http(s) URL or path', () => {
    for (const actionUrl of [
      'javascript:alert(1)',
      '//evil.example/x',
      'data:text/html,hi',
      'javascript:{{ context.code }}',
      '//{{ context.host }}',
      'ftp://{{ x }}',
    ])
      expect(review({ title: 'T', body: 'B', actionUrl }), actionUrl).toEqual([
        { field: 'content.actionUrl', message: expect.stringMatching(/^an action URL is/) },
      ]);
    expect(review({ title: 'T', body: 'B', actionUrl: '/orders/{{ context.orderId' })).toEqual([
      { field: 'content.actionUrl', message: expect.stringMatching(/^template does not parse: /) },
    ]);
    expect(actionUrlTemplateProblem('/x/{{ range.constructor }}')).toMatch(/not allowed/);
    // Saving checks safety and the literal part, not the syntax (a draft may be half-written).
    expect(actionUrlTemplateProblem('/orders/{{ context.orderId')).toBeUndefined();
  });

  it('renders with the title and body, from the same variables, and keeps the title exact', async () => {
    const content: InAppContent = {
      title: 'Order {{ context.orderId }} for {{ profile.firstName }}',
      body: 'Hi {{ profile.firstName }} & co',
      actionUrl: '/orders/{{ context.orderId }}?from={{ profile.firstName | urlencode }}&t=1',
      data: { kind: 'order' },
    };
    expect(await prepared(content, { orderId: '42' }, { firstName: 'Ada L' })).toEqual({
      subject: 'Order 42 for Ada L',
      html: JSON.stringify({ actionUrl: '/orders/42?from=Ada%20L&t=1', data: { kind: 'order' } }),
      text: 'Hi Ada L & co',
    });
    // A title that prints control characters, quotes or the like leaves the action URL whole.
    expect(await prepared({ title: '{{ context.t }}', body: 'b', actionUrl: 'https://x.example/{{ context.t }}' }, { t: 'a\u0000"b' })).toEqual({
      subject: 'a\u0000"b',
      html: JSON.stringify({ actionUrl: 'https://x.example/a\u0000"b' }),
      text: 'b',
    });
    // Without an action URL: title, body and data as before.
    expect(await prepared({ title: 'T {{ context.n }}', body: 'B', data: { n: 1 } }, { n: 7 })).toEqual({
      subject: 'T 7',
      html: JSON.stringify({ data: { n: 1 } }),
      text: 'B',
    });
  });

  it('reports a render error in the title at its own line and column', async () => {
    await expect(prepared({ title: '{{ context.x | nope }}', body: 'b', actionUrl: '/a' }, {})).rejects.toThrow(/subject: .*nope/);
  });
});
