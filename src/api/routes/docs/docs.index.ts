import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';

const require = createRequire(import.meta.url);
// The package does not export its browser bundle, so locate it next to the resolved entry point.
const scalarBundlePath = join(dirname(require.resolve('@scalar/api-reference')), 'browser', 'standalone.js');

const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Herald API reference</title>
    <style>body { margin: 0; font-family: system-ui, sans-serif; }</style>
  </head>
  <body>
    <a href="/reports" style="position: fixed; right: 12px; bottom: 12px; z-index: 1000; padding: 6px 10px; border-radius: 6px; background: #1d2433; color: #fff; text-decoration: none">Campaign reports</a>
    <script id="api-reference" data-url="/openapi.json" data-configuration='{"withDefaultFonts":false,"telemetry":false,"showDeveloperTools":"never","agent":{"disabled":true}}'></script>
    <script src="/docs/assets/scalar.js"></script>
  </body>
</html>`;

/** The API reference page, with Scalar's bundle served from node_modules instead of a CDN. */
export function docsRouter() {
  let bundle: Promise<string> | undefined;
  return new Hono()
    .get('/docs', (c) => c.html(page))
    .get('/docs/assets/scalar.js', async (c) => {
      bundle ??= readFile(scalarBundlePath, 'utf8');
      return c.body(await bundle, 200, { 'content-type': 'application/javascript; charset=utf-8', 'cache-control': 'public, max-age=3600' });
    });
}
