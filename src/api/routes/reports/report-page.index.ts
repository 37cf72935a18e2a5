import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { REPORT_PAGE_SCRIPT } from './report-page.script';

const require = createRequire(import.meta.url);
// Chart.js's UMD bundle, served from node_modules: the page works offline and loads nothing from a CDN.
// The package does not export it: it sits next to the resolved CommonJS entry point (dist/chart.cjs).
const chartBundlePath = join(dirname(require.resolve('chart.js')), 'chart.umd.min.js');

const STYLE = `
  [hidden] { display: none !important; }
  body { margin: 0; font-family: system-ui, sans-serif; color: #1d2433; background: #f6f7fb; }
  header { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; padding: 12px 20px; background: #1d2433; color: #fff; }
  header h1 { font-size: 18px; margin: 0 16px 0 0; }
  header a { color: #9cc3ff; }
  header input, header button, header select { font: inherit; padding: 4px 8px; }
  main { padding: 16px 20px; display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); }
  section { background: #fff; border-radius: 8px; padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(120px, 1fr)); gap: 8px; }
  .card { background: #f0f3fa; border-radius: 6px; padding: 8px; }
  .card b { display: block; font-size: 20px; }
  .card span { font-size: 12px; color: #58607a; }
  #status { padding: 8px 20px; }
  #status.error { color: #b00020; }
  canvas { max-height: 320px; }
`;

const layout = (title: string, body: string) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="no-referrer" />
    <link rel="icon" href="data:," />
    <title>${title}</title>
    <style>${STYLE}</style>
  </head>
  <body>
${body}
  </body>
</html>`;

const reportPage = layout(
  'Herald campaign report',
  `    <header>
      <h1>Campaign report <code id="campaign"></code></h1>
      <form id="key-form">
        <label>API key <input id="api-key" type="password" autocomplete="off" size="28" /></label>
        <label>Range <select id="range"><option value="global">since creation</option><option value="live">last 24 hours</option></select></label>
        <button type="submit">Show</button>
      </form>
      <a href="/docs">API reference</a>
    </header>
    <div id="status">Enter a full-access API key to see the report. It is kept in this tab only (sessionStorage).</div>
    <main id="report" hidden>
      <section class="wide"><h2>Totals</h2><div class="cards" id="totals"></div></section>
      <section class="wide"><h2>Over time</h2><canvas id="chart-series"></canvas></section>
      <section><h2>Engagement over time</h2><canvas id="chart-engagement"></canvas></section>
      <section><h2>Outcomes</h2><canvas id="chart-outcomes"></canvas></section>
      <section><h2>Clicks per link</h2><canvas id="chart-links"></canvas></section>
      <section><h2>Top recipient domains</h2><canvas id="chart-domains"></canvas></section>
      <section><h2>Sends by provider</h2><p id="failovers"></p><canvas id="chart-providers"></canvas></section>
    </main>
    <script src="/reports/assets/chart.js"></script>
    <script src="/reports/assets/report.js"></script>`,
);

const indexPage = layout(
  'Herald campaign reports',
  `    <header><h1>Campaign reports</h1><a href="/docs">API reference</a></header>
    <div id="status">
      <form onsubmit="location.href = '/reports/campaigns/' + encodeURIComponent(document.getElementById('campaign-id').value.trim()); return false;">
        <label>Campaign id <input id="campaign-id" required size="40" /></label> <button type="submit">Open report</button>
      </form>
    </div>`,
);

/**
 * The report page a person reads: static HTML and scripts, outside /v1 like /docs. It holds no
 * data; in the browser it asks for an API key and reads `/v1/campaigns/{id}/report` with it.
 */
export function reportPageRouter() {
  let bundle: Promise<string> | undefined;
  const noFraming = {
    'x-frame-options': 'DENY',
    'content-security-policy':
      "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
  };
  return new Hono()
    .get('/reports', (c) => c.html(indexPage, 200, noFraming))
    .get('/reports/campaigns/:id', (c) => c.html(reportPage, 200, noFraming))
    .get('/reports/assets/report.js', (c) =>
      c.body(REPORT_PAGE_SCRIPT, 200, { 'content-type': 'application/javascript; charset=utf-8', 'cache-control': 'no-cache' }),
    )
    .get('/reports/assets/chart.js', async (c) => {
      bundle ??= readFile(chartBundlePath, 'utf8');
      return c.body(await bundle, 200, { 'content-type': 'application/javascript; charset=utf-8', 'cache-control': 'public, max-age=3600' });
    });
}
