import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumAvailable } from '../support/codec-ui';
import { startHerald, type Herald } from '../support/herald-harness';

const SCREENSHOT = process.env.HERALD_DOCS_PAGE_SCREENSHOT ?? '/tmp/herald-docs-page.png';
// Where the public would reach this Herald: every sample on the page must name it.
const PUBLIC_URL = 'https://herald.example.test';

/**
 * The docs page as a new user meets it, in Debian's Chromium: it renders from this server alone,
 * opens with the quick start, and its samples for the trigger operation (curl and the typed
 * client) carry the server the document declares, so they run as pasted.
 */
describe('the docs page', () => {
  let herald: Herald;

  beforeAll(async () => {
    herald = await startHerald({ env: { HERALD_PUBLIC_URL: PUBLIC_URL } });
  }, 60_000);
  afterAll(async () => {
    await herald?.stop();
  });

  it('declares the public server, a quick start and the client sample in the document', async () => {
    const { status, body } = await herald.request('GET', '/openapi.json');
    expect(status).toBe(200);
    expect(body.servers).toEqual([{ url: PUBLIC_URL, description: expect.any(String) }]);
    expect(body.info.description).toContain('## Quick start');
    for (const step of ['/v1/campaigns', '/activate', '/v1/executions/unitary', '/v1/executions/<executionId>']) {
      expect(body.info.description).toContain(`${PUBLIC_URL}${step.startsWith('/activate') ? '' : step}`);
    }
    const trigger = body.paths['/v1/executions/unitary'].post;
    expect(trigger['x-codeSamples'].map((s: { label: string }) => s.label)).toEqual(['@herald/client', 'curl']);
    expect(trigger['x-codeSamples'][0].source).toContain(`baseUrl: '${PUBLIC_URL}'`);
    expect(trigger.responses['202'].headers['Idempotency-Replay']).toMatchObject({ schema: { enum: ['true'] } });
  });

  const test = chromiumAvailable() ? it : it.skip;
  test('renders offline in Chromium, with the quick start and runnable samples', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(`${herald.baseUrl}/docs`);
      await page.getByRole('heading', { name: 'Quick start' }).waitFor({ timeout: 30_000 });
      const text = await page.locator('body').innerText();
      expect(text).toContain(`curl -s ${PUBLIC_URL}/v1/executions/unitary`);

      // The trigger operation: the typed client first, curl one choice away, both on the public server.
      await page.locator('[data-sidebar-id$="/tag/executions"] > div > button').first().click();
      await page.locator('[data-sidebar-id$="/tag/executions/POST/v1/executions/unitary"] button').first().click();
      const example = page.locator('.request-card, [class*=request-card]').filter({ hasText: 'POST' }).filter({ hasText: '/v1/executions/unitary' }).first();
      await expect.poll(() => example.innerText(), { timeout: 15_000 }).toContain('createHeraldClient');
      expect(await example.innerText()).toContain(`baseUrl: '${PUBLIC_URL}'`);
      await page.screenshot({ path: SCREENSHOT });
      await example.locator('[data-testid=client-picker]').click();
      const panel = page.locator('[id^=headlessui-popover-panel]');
      await panel.waitFor();
      await panel.getByRole('option', { name: 'curl', exact: true }).click();
      await expect.poll(() => example.innerText(), { timeout: 15_000 }).toContain(`curl -s ${PUBLIC_URL}/v1/executions/unitary`);
      expect(errors).toEqual([]);
      expect(requests.filter((url) => !url.startsWith(`${herald.baseUrl}/`) && !url.startsWith('data:'))).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
