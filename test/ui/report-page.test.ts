import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { withKey, type Requester } from '../support/api-keys';
import { emailCampaign, uniqueRequestId } from '../support/campaigns';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumAvailable } from '../support/codec-ui';
import { startHerald, type Herald } from '../support/herald-harness';

const SCREENSHOT = process.env.HERALD_REPORT_PAGE_SCREENSHOT ?? '/tmp/report-page.png';
const KEY = `report-ui-${randomUUID()}`;

/**
 * The report page in Debian's Chromium: a real Herald with a campaign sent to six addresses
 * (through the API and the outbox), opens and clicks recorded; the page asks for the key, reads
 * the report with it and draws its charts with the Chart.js bundle Herald serves itself.
 */
describe('the campaign report page', () => {
  if (!chromiumAvailable()) {
    it.skip(`draws the report (skipped: no Chromium at ${CHROMIUM_PATH}; apt-get install chromium, or set HERALD_CHROMIUM_PATH)`, () => {});
    return;
  }

  let herald: Herald;
  let as: Requester;
  let campaignId: string;

  beforeAll(async () => {
    herald = await startHerald({ env: { HERALD_API_KEYS: KEY } });
    as = withKey(herald, KEY);
    const created = await as('POST', '/v1/campaigns', emailCampaign({ name: 'Report page' }));
    campaignId = created.body.id;
    await as('POST', `/v1/campaigns/${campaignId}/activate`);
    const domains = ['gmail.com', 'gmail.com', 'yahoo.com', 'example.org', 'example.org', 'example.org'];
    const recipients = domains.map((domain, i) => ({ userId: `u${i}`, namespace: 'email', channelData: { emailAddress: `u${i}@${domain}` } }));
    const res = await as('POST', '/v1/executions/unitary', { requestId: uniqueRequestId('page'), campaignId, recipients, context: { code: '1' } });
    const executionId = res.body.executionId as string;
    for (let deadline = Date.now() + 30_000; ; ) {
      const { body } = await as('GET', `/v1/executions/${executionId}`);
      if (body.status !== 'running') break;
      if (Date.now() > deadline) throw new Error('execution still running');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const now = new Date().toISOString();
    await herald.db
      .updateTable('deliveries')
      .set({ feedback: 'delivered', feedback_at: now })
      .where('execution_id', '=', executionId)
      .where('position', '<', 5)
      .execute();
    await herald.db
      .insertInto('tracked_links')
      .values([0, 1].map((p) => ({ execution_id: executionId, position: p, link_index: 0, url: 'https://example.com/offer' })))
      .execute();
    await herald.db
      .insertInto('delivery_events')
      .values([
        { execution_id: executionId, position: 0, type: 'opened', link_index: null, occurred_at: now, user_agent: null },
        { execution_id: executionId, position: 1, type: 'opened', link_index: null, occurred_at: now, user_agent: null },
        { execution_id: executionId, position: 0, type: 'clicked', link_index: 0, occurred_at: now, user_agent: null },
      ])
      .execute();
  }, 60_000);
  afterAll(async () => {
    await herald?.stop();
  });

  it('asks for the key, fetches the report with it and draws the charts, all from loopback, without console errors', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
      const consoleErrors: string[] = [];
      const requests: string[] = [];
      page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
      page.on('pageerror', (error) => consoleErrors.push(String(error)));
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(`${herald.baseUrl}/reports/campaigns/${campaignId}`);
      // Without a key the page shows no figures.
      expect(await page.locator('#report').isHidden()).toBe(true);
      await page.fill('#api-key', KEY);
      await page.click('button[type=submit]');
      await page.waitForSelector('#report:not([hidden])', { timeout: 15_000 });
      await page.waitForFunction("document.querySelectorAll('.card').length > 0");

      const totals = await page.locator('#totals').innerText();
      expect(totals).toMatch(/6\s+targeted/);
      expect(totals).toMatch(/5\s+delivered/);
      // Every chart is a Chart.js instance with data, and its canvas has pixels drawn.
      // Evaluated in the page (as text: the test's TypeScript has no DOM types). An element is drawn
      // when its geometry shows its value: a bar longer than its base, an arc with an angle, a point
      // above the zero line; and the canvas has pixels painted.
      const charts: { id: string; painted: number; drawn: number }[] = await page.evaluate(`
        ['chart-series', 'chart-engagement', 'chart-outcomes', 'chart-links', 'chart-domains'].map((id) => {
          const canvas = document.getElementById(id);
          const chart = Chart.getChart(canvas);
          const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          let painted = 0;
          for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
          let drawn = 0;
          chart.data.datasets.forEach((dataset, d) => chart.getDatasetMeta(d).data.forEach((el, i) => {
            if (!(dataset.data[i] > 0)) return;
            const type = chart.config.type;
            if (type === 'doughnut' && el.circumference > 0) drawn++;
            if (type === 'bar' && Math.abs(chart.options.indexAxis === 'y' ? el.x - el.base : el.y - el.base) > 1) drawn++;
            if (type === 'line' && el.y < chart.chartArea.bottom - 1 && el.y >= chart.chartArea.top - 1) drawn++;
          }));
          return { id, painted, drawn };
        })`);
      for (const chart of charts) {
        expect(chart.drawn, chart.id).toBeGreaterThan(0);
        expect(chart.painted, chart.id).toBeGreaterThan(100);
      }
      const domains = await page.evaluate("Chart.getChart(document.getElementById('chart-domains')).data.labels");
      expect(domains).toEqual(['example.org', 'gmail.com', 'yahoo.com']);
      // The key stays in this tab's sessionStorage.
      expect(await page.evaluate("sessionStorage.getItem('herald-report-api-key')")).toBe(KEY);

      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(consoleErrors).toEqual([]);
      expect(requests.filter((url) => !url.startsWith(`${herald.baseUrl}/`))).toEqual([]);
      expect(requests).toContain(`${herald.baseUrl}/reports/assets/chart.js`);
      expect(requests).toContain(`${herald.baseUrl}/v1/campaigns/${campaignId}/report`);
    } finally {
      await browser.close();
    }
  }, 90_000);
});
