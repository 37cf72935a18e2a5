import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveCampaign } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';
import { ensureSchemathesis } from '../support/schemathesis';

const API_KEY = 'fuzz-key';

/**
 * Fuzzes every operation from Herald's own OpenAPI document. Fails on any 5xx, on an error
 * that is not the declared status or not application/problem+json, and on auth or method
 * handling that contradicts the document. `positive_data_acceptance` is left out: the issue
 * mandates 400/422 for business rules that a schema cannot express (a namespace other than
 * the campaign's, a review that fails).
 */
describe('schemathesis fuzzing of the OpenAPI document', () => {
  let herald: Herald;
  let cli: string | undefined;
  beforeAll(async () => {
    cli = ensureSchemathesis();
    herald = await startHerald({ env: { HERALD_API_KEYS: API_KEY, HERALD_RATE_LIMIT: '100000', HERALD_AUTH_FAILURE_LIMIT: '100000' } });
    // A live campaign gives the fuzzer's triggers something real to reach.
    await liveCampaign({ ...herald, request: (m, p, b, h) => herald.request(m, p, b, { authorization: `Bearer ${API_KEY}`, ...h }) });
  }, 300_000);
  afterAll(() => herald?.stop());

  it('finds no server errors and no undeclared responses', async (ctx) => {
    if (!cli) {
      if (process.env.CI) throw new Error('python3 is required in CI to run schemathesis');
      ctx.skip();
    }
    const args = [
      '--config-file',
      fileURLToPath(new URL('./schemathesis.toml', import.meta.url)),
      'run',
      `${herald.baseUrl}/openapi.json`,
      '--url',
      herald.baseUrl,
      '-H',
      `Authorization: Bearer ${API_KEY}`,
      '--checks',
      'all',
      '--exclude-checks',
      'positive_data_acceptance',
      '--max-examples',
      process.env.HERALD_FUZZ_EXAMPLES ?? '40',
      '--seed',
      process.env.HERALD_FUZZ_SEED ?? '20261123',
      '--continue-on-failure',
      '--no-color',
    ];
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(cli!, args, { env: { ...process.env, NO_COLOR: '1' } });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      child.on('close', (exitCode) => resolve({ code: exitCode, output }));
    });
    const generated = /(\d+) generated/.exec(output)?.[1];
    console.log(`[fuzz] schemathesis tried ${generated ?? '?'} test cases`);
    expect(Number(generated)).toBeGreaterThan(100);
    const failures = output.includes('FAILURES') ? output.slice(output.indexOf('FAILURES')) : output.slice(-8000);
    expect(code, failures.slice(0, 30_000)).toBe(0);
  }, 600_000);
});
