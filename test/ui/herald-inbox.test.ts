import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { withKey, type Requester } from '../support/api-keys';
import { uniqueRequestId } from '../support/campaigns';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumAvailable } from '../support/codec-ui';
import { startHerald, type Herald } from '../support/herald-harness';
import { listenOnLoopback } from '../support/loopback-server';

const KEY = `inbox-ui-${randomUUID()}`;
/** Kept in the docs (docs/inbox.md, "The component"). */
const SCREENSHOT = process.env.HERALD_INBOX_SCREENSHOT ?? join(dirname(fileURLToPath(import.meta.url)), '../../docs/images/herald-inbox.png');

/**
 * `<herald-inbox>` in Debian's Chromium, on a page of another origin (a loopback server) that
 * loads the component from Herald: a message sent while the page is open arrives through the
 * stream (bell at 1), is marked read (0) and archived, and a preference toggled in the
 * preference centre is stored by the API.
 */
describe('the <herald-inbox> component', () => {
  if (!chromiumAvailable()) {
    it.skip(`shows the inbox live (skipped: no Chromium at ${CHROMIUM_PATH}; apt-get install chromium, or set HERALD_CHROMIUM_PATH)`, () => {});
    return;
  }

  const NS = `inbox-ui-${randomUUID().slice(0, 8)}`;
  const USER = 'ada';
  let herald: Herald;
  let full: Requester;
  let campaignId: string;
  let page: { server: Server; url: string };

  beforeAll(async () => {
    herald = await startHerald({ env: { HERALD_API_KEYS: KEY, HERALD_TRACKING_SECRET: randomBytes(32).toString('base64url') } });
    full = withKey(herald, KEY);
    const created = await full('POST', '/v1/campaigns', {
      name: 'Order shipped',
      type: 'transactional',
      channel: 'inApp',
      content: {
        title: 'Order {{ context.orderId }} shipped',
        body: 'It arrives tomorrow <b>before noon</b>.',
        actionUrl: 'https://example.com/orders',
      },
      audience: { namespace: NS, createMissingProfiles: true },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    campaignId = created.body.id;
    expect((await full('POST', `/v1/campaigns/${campaignId}/activate`)).status).toBe(200);
    const made = await full('POST', '/v1/inbox/tokens', { namespace: NS, userId: USER, ttlSeconds: 600 });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const token = made.body.token as string;
    // The embedding page, on another origin than Herald: the snippet of docs/inbox.md.
    const html = `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>Shop</title></head>
  <body style="margin: 0; padding: 8px 16px 0 404px; height: 300px; font-family: system-ui, sans-serif">
    <script type="module" src="${herald.baseUrl}/inbox/herald-inbox.js"></script>
    <herald-inbox api-url="${herald.baseUrl}" token="${token}" categories="billing"></herald-inbox>
  </body>
</html>`;
    page = await listenOnLoopback(
      async (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(html);
      },
      (err) => String(err),
    );
  }, 60_000);
  afterAll(async () => {
    if (page) await new Promise((resolve) => page.server.close(resolve));
    await herald?.stop();
  });

  it('serves the module to any page, cacheable and without a key', async () => {
    const res = await fetch(`${herald.baseUrl}/inbox/herald-inbox.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(res.headers.get('cache-control')).toMatch(/public, max-age=\d+/);
    expect(await res.text()).toContain("customElements.define('herald-inbox'");
  });

  it('shows a message live, marks it read, archives it, and stores a preference', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    try {
      const tab = await browser.newPage({ viewport: { width: 760, height: 360 } });
      const consoleErrors: string[] = [];
      tab.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
      tab.on('pageerror', (error) => consoleErrors.push(String(error)));
      const streamOpened = tab.waitForResponse((res) => res.url() === `${herald.baseUrl}/v1/inbox/stream` && res.status() === 200, { timeout: 15_000 });
      await tab.goto(page.url);
      await streamOpened;
      await tab.click('herald-inbox .bell');
      await tab.waitForSelector('herald-inbox .empty');
      expect(await tab.locator('herald-inbox .badge').isHidden()).toBe(true);

      // Sent while the page is open: it comes through the stream, not a reload.
      const res = await full('POST', '/v1/executions/unitary', {
        requestId: uniqueRequestId('inbox-ui'),
        campaignId,
        recipients: [{ userId: USER, namespace: NS, context: { orderId: 'A-17' } }],
      });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      await tab.waitForSelector('herald-inbox li.message.unread', { timeout: 15_000 });
      await tab.waitForFunction("document.querySelector('herald-inbox').getAttribute('unread-count') === '1'");
      expect(await tab.locator('herald-inbox .badge').innerText()).toBe('1');
      expect(await tab.locator('herald-inbox li .title').innerText()).toBe('Order A-17 shipped');
      // Text stays text: the body's markup is shown, not parsed.
      expect(await tab.locator('herald-inbox li .body').innerText()).toBe('It arrives tomorrow <b>before noon</b>.');
      expect(await tab.locator('herald-inbox li a.action').getAttribute('href')).toBe('https://example.com/orders');
      await tab.screenshot({ path: screenshotPath(), clip: { x: 0, y: 0, width: 460, height: 210 } });

      await tab.click('herald-inbox li .mark-read');
      await tab.waitForFunction("document.querySelector('herald-inbox').getAttribute('unread-count') === '0'");
      expect(await tab.locator('herald-inbox .badge').isHidden()).toBe(true);
      await tab.waitForSelector('herald-inbox li.message.read');

      await tab.click('herald-inbox li .archive');
      await tab.waitForSelector('herald-inbox .empty');

      await tab.click('herald-inbox .tab-preferences');
      await tab.waitForSelector('herald-inbox fieldset[data-category="billing"]');
      const stored = tab.waitForResponse((r) => r.url() === `${herald.baseUrl}/v1/inbox/preferences` && r.request().method() === 'PUT');
      await tab.click('herald-inbox fieldset:not([data-category]) input[name="sms"]');
      expect((await stored).status()).toBe(200);
      const prefs = await full('GET', `/v1/profiles/${NS}/${USER}/preferences`);
      expect(prefs.status, JSON.stringify(prefs.body)).toBe(200);
      expect(prefs.body).toEqual({ channels: { sms: false }, categories: {} });
      expect(await tab.locator('herald-inbox fieldset:not([data-category]) input[name="sms"]').isChecked()).toBe(false);

      expect(consoleErrors).toEqual([]);
    } finally {
      await browser.close();
    }
    // What the API says of the same person: nothing unread, the message archived.
    const token = (await full('POST', '/v1/inbox/tokens', { namespace: NS, userId: USER })).body.token as string;
    const archived = await withKey(herald, token)('GET', '/v1/inbox/messages?status=archived');
    expect(archived.body.unreadCount).toBe(0);
    expect(archived.body.items.map((item: { title: string; readAt: string | null }) => [item.title, item.readAt !== null])).toEqual([
      ['Order A-17 shipped', true],
    ]);
  }, 90_000);
});

function screenshotPath() {
  mkdirSync(dirname(SCREENSHOT), { recursive: true });
  return SCREENSHOT;
}
