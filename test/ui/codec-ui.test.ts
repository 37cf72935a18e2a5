import { describe, expect, inject, it } from 'vitest';
import { CHROMIUM_PATH, chromiumAvailable, runCodecUiCheck } from '../support/codec-ui';

const SCREENSHOT = process.env.HERALD_CODEC_UI_SCREENSHOT ?? '/tmp/herald-codec-ui.png';

describe("Temporal Web UI with Herald's codec endpoint", () => {
  if (!chromiumAvailable()) {
    it.skip(`shows decoded payloads (skipped: no Chromium at ${CHROMIUM_PATH}; apt-get install chromium, or set HERALD_CHROMIUM_PATH)`, () => {});
    return;
  }

  it("shows a trigger's input decoded, not binary/encrypted", async () => {
    const result = await runCodecUiCheck({ screenshotPath: SCREENSHOT, workflowBundle: { code: inject('workflowBundleCode') } });
    // The browser really went through the codec endpoint, and every call succeeded (CORS included).
    expect(result.codecCalls.length).toBeGreaterThan(0);
    expect(result.codecCalls.filter((call) => call.status !== 200)).toEqual([]);
    expect(result.codecCalls.every((call) => call.url.endsWith('/v1/codec/decode'))).toBe(true);
    expect(result.inputText).toContain(result.executionId);
    expect(result.inputText).not.toContain('binary/encrypted');
  }, 120_000);
});
