import { readFile } from 'node:fs/promises';
import { Hono } from 'hono';

/** The component's source, a plain ES module kept next to this file (no build step). */
const componentPath = new URL('./herald-inbox.js', import.meta.url);

/**
 * `<herald-inbox>`, the drop-in inbox a page loads from Herald (docs/inbox.md): public like /docs,
 * outside /v1 and without a key; the data it shows comes from /v1/inbox with the subscriber token.
 * Any origin may load it (a module script from another origin is fetched with CORS).
 */
export function inboxComponentRouter() {
  let source: Promise<string> | undefined;
  return new Hono().get('/inbox/herald-inbox.js', async (c) => {
    source ??= readFile(componentPath, 'utf8');
    return c.body(await source, 200, {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=3600',
      'access-control-allow-origin': '*',
    });
  });
}
