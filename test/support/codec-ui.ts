/**
 * The Temporal Web UI decoding Herald's encrypted payloads through Herald's codec endpoint, in a
 * real browser: a dev server with its UI and `--ui-codec-endpoint` pointed at a real Herald API
 * (worker, SQLite, HTTP), a triggered campaign, and the workflow's page opened in Chromium.
 * Shared by test/ui/codec-ui.test.ts and `npm run check:codec-ui`.
 *
 * Chromium is the system one (`apt-get install chromium`), driven by playwright-core: never
 * `npx playwright install`.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime, type NativeConnection, type Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { chromium } from 'playwright-core';
import { loadConfig } from '../../src/config/env';
import { openMigratedDatabase } from '../../src/db/database';
import { serveApi } from '../../src/entry/serve-api';
import { connectClient, connectWorkerConnection } from '../../src/temporal-client/connection';
import { createWorker } from '../../src/worker/create-worker';
import { startDevServer } from '../../temporal/dev-server';
import { executionWorkflowId } from '../../workflows/workflow-ids';
import { emailCampaign } from './campaigns';
import { requestJson } from './http-json';
import { freePort } from './process-stack';
import { randomPayloadKeys } from './payload-keys';
import { TEST_START_WAIT_MS } from './test-start-wait';

export const CHROMIUM_PATH = process.env.HERALD_CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export const chromiumAvailable = () => existsSync(CHROMIUM_PATH);

export interface CodecUiResult {
  workflowId: string;
  executionId: string;
  url: string;
  /** Text of the page's input panel as the UI shows it. */
  inputText: string;
  /** The codec calls the browser made, with their HTTP status. */
  codecCalls: Array<{ url: string; status: number }>;
  screenshotPath: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runCodecUiCheck(options: {
  screenshotPath: string;
  workflowBundle?: { code: string };
  log?: (line: string) => void;
}): Promise<CodecUiResult> {
  const log = options.log ?? (() => {});
  try {
    // Worker state changes at INFO would drown the output; a runtime someone installed first stays.
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // keep the existing runtime
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-codec-ui-'));
  const [apiPort, uiPort] = [await freePort(), await freePort()];
  const codecEndpoint = `http://127.0.0.1:${apiPort}/v1/codec`;
  log(`dev server with UI on ${uiPort}, codec endpoint ${codecEndpoint}`);
  const devServer = await startDevServer({ uiPort, uiCodecEndpoint: codecEndpoint });
  const cleanups: Array<() => Promise<unknown> | unknown> = [() => devServer.teardown(), () => rmSync(dataDir, { recursive: true, force: true })];
  try {
    const config = loadConfig({
      HERALD_DATA_DIR: dataDir,
      TEMPORAL_ADDRESS: devServer.address,
      TEMPORAL_UI_PORT: String(uiPort), // the default CORS origins follow it
      TEMPORAL_TASK_QUEUE: 'herald-codec-ui',
      HERALD_PAYLOAD_KEYS: randomPayloadKeys('codec-ui'),
      PORT: String(apiPort),
      HERALD_START_WAIT_MS: TEST_START_WAIT_MS,
    });
    const db = await openMigratedDatabase(config.databasePath);
    cleanups.unshift(() => db.destroy());
    const client: Client = await connectClient(config.temporal, config.payloadKeys);
    cleanups.unshift(() => client.connection.close());
    const connection: NativeConnection = await connectWorkerConnection(config.temporal);
    cleanups.unshift(() => connection.close());
    log('starting a worker (bundling the workflows unless given a bundle) and the API');
    const worker: Worker = await createWorker({ config, connection, client, db, ...(options.workflowBundle && { workflowBundle: options.workflowBundle }) });
    const running = worker.run();
    cleanups.unshift(async () => {
      worker.shutdown();
      await running;
    });
    const server = await serveApi(config, db, client, () => {});
    cleanups.unshift(() => new Promise((resolve) => server.close(resolve)));
    const baseUrl = `http://127.0.0.1:${server.port}`;

    const created = await requestJson(baseUrl, 'POST', '/v1/campaigns', emailCampaign());
    const activated = await requestJson(baseUrl, 'POST', `/v1/campaigns/${created.body.id}/activate`);
    if (activated.status !== 200) throw new Error(`activate: ${activated.status} ${JSON.stringify(activated.body)}`);
    const requestId = `codec-ui-${Date.now()}`;
    const accepted = await requestJson(baseUrl, 'POST', '/v1/executions/unitary', {
      requestId,
      campaignId: created.body.id,
      recipients: [{ userId: 'ada@example.com', namespace: 'email', context: { code: '4711' } }],
    });
    if (accepted.status !== 202) throw new Error(`trigger: ${accepted.status} ${JSON.stringify(accepted.body)}`);
    const executionId: string = accepted.body.executionId;
    const workflowId = executionWorkflowId(created.body.id, requestId);
    const handle = client.workflow.getHandle(workflowId);
    await handle.result();
    const runId = (await handle.describe()).runId;
    log(`execution ${executionId} done; workflow ${workflowId}`);

    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    cleanups.unshift(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1440, height: 1400 } });
    const codecCalls: CodecUiResult['codecCalls'] = [];
    page.on('response', (response) => {
      if (response.url().startsWith(codecEndpoint)) codecCalls.push({ url: response.url(), status: response.status() });
    });
    const url = `http://127.0.0.1:${uiPort}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(workflowId)}/${runId}/history`;
    log(`opening ${url}`);
    await page.goto(url, { waitUntil: 'networkidle', timeout: 60_000 });

    // The Input panel renders the decoded workflow input, which carries the execution id.
    const input = page.getByTestId('workflow-input').or(page.locator('[data-testid*="input" i]')).first();
    let inputText = '';
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      inputText = (await input.count()) > 0 ? await input.innerText().catch(() => '') : '';
      if (inputText.includes(executionId)) break;
      await sleep(500);
    }
    if (!inputText.includes(executionId)) inputText = await page.locator('body').innerText();
    await page.screenshot({ path: options.screenshotPath, fullPage: true });
    log(`screenshot: ${options.screenshotPath}`);
    return { workflowId, executionId, url, inputText, codecCalls, screenshotPath: options.screenshotPath };
  } finally {
    for (const cleanup of cleanups) {
      try {
        await cleanup();
      } catch (error) {
        log(`cleanup: ${(error as Error).message}`);
      }
    }
  }
}
