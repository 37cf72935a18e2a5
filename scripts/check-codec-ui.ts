// `npm run check:codec-ui`: the Temporal Web UI shows Herald's encrypted payloads decoded, in a
// real Chromium (/usr/bin/chromium, or HERALD_CHROMIUM_PATH). Writes a screenshot, by default to
// /tmp/herald-codec-ui.png (first argument to change it). The same check runs in
// test/ui/codec-ui.test.ts.
import { chromiumAvailable, CHROMIUM_PATH, runCodecUiCheck } from '../test/support/codec-ui';

const screenshotPath = process.argv[2] ?? '/tmp/herald-codec-ui.png';
if (!chromiumAvailable()) {
  console.error(`[check:codec-ui] no Chromium at ${CHROMIUM_PATH}: install it (apt-get install chromium) or set HERALD_CHROMIUM_PATH`);
  process.exit(2);
}
const log = (line: string) => console.log(`[check:codec-ui] ${line}`);
const result = await runCodecUiCheck({ screenshotPath, log });
const decoded =
  result.codecCalls.length > 0 &&
  result.codecCalls.every((call) => call.status === 200) &&
  result.inputText.includes(result.executionId) &&
  !result.inputText.includes('binary/encrypted');
const byStatus = new Map<number, number>();
for (const call of result.codecCalls) byStatus.set(call.status, (byStatus.get(call.status) ?? 0) + 1);
const statuses = [...byStatus].map(([status, count]) => `${count} × ${status}`);
log(`codec calls from the browser: ${result.codecCalls.length} (${statuses.join(', ') || 'none'}) to ${result.codecCalls[0]?.url ?? '-'}`);
log(`input panel: ${result.inputText.replace(/\s+/g, ' ').slice(0, 300)}`);
if (!decoded) {
  console.error(`[check:codec-ui] FAILED: the UI does not show execution ${result.executionId} decoded; see ${screenshotPath}`);
  process.exit(1);
}
log(`OK: the UI shows the decoded input of ${result.workflowId} (execution ${result.executionId}); screenshot ${screenshotPath}`);
process.exit(0);
