import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailCampaign, liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';

/**
 * Issue 18 on the real stack (the API and the worker run in this test process, as `npm start`
 * runs them in its own): templates that made V8 abort the whole process (a fatal error inside a
 * builtin such as String.prototype.toUpperCase on a 2^25-character string) fail their own
 * recipient with `render-error`, once and not retried, through a trigger and through preview,
 * while this process, and so the API and the worker, stay up and a normal trigger completes.
 */

const PROCESS_FATAL_FILTERS = ['upper', 'lower', 'capitalize', 'title', 'urlencode', 'wordcount', 'reverse', 'list'] as const;
/** A 2^25-character string built by the template (each `set` doubles it), through a filter. */
const fatal = (filter: string) => `{% set s = "a" %}{% for i in range(25) %}{% set s = s ~ s %}{% endfor %}{{ s|${filter}|length }}`;
/** The attacker's template as reported: ten characters doubled 25 times. */
const REPORTED = '{% set s = "aaaaaaaaaa" %}{% for i in range(25) %}{% set s = s ~ s %}{% endfor %}{{ s|upper|length }}';
const TIMEOUT_MS = 2000;

describe('templates that aborted the process fail only their recipient', () => {
  let herald: Herald;

  beforeAll(async () => {
    herald = await startHerald({ env: { HERALD_RENDER_TIMEOUT_MS: String(TIMEOUT_MS), HERALD_RENDER_PROCESSES: '2' } });
  });
  afterAll(() => herald?.stop());

  async function trigger(campaignId: string, context: Record<string, unknown> = {}) {
    const body = JSON.stringify({ requestId: uniqueRequestId('fatal'), campaignId, recipients: [{ userId: 'ada@example.com', namespace: 'email' }], context });
    const accepted = await herald.request('POST', '/v1/executions/unitary', body, { 'content-type': 'application/json' });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    return accepted.body.executionId as string;
  }

  const elapsed = (execution: { createdAt: string; completedAt?: string }) => Date.parse(execution.completedAt!) - Date.parse(execution.createdAt);

  async function live() {
    const res = await herald.request('GET', '/health/live');
    expect(res.status).toBe(200);
  }

  it('through a trigger: each fails its recipient with render-error at once, and a normal trigger completes meanwhile', async () => {
    const pid = process.pid;
    const templates = [...PROCESS_FATAL_FILTERS.map((filter) => ({ name: filter, html: fatal(filter) })), { name: 'reported', html: REPORTED }];
    const campaigns = await Promise.all(templates.map((t) => liveCampaign(herald, { content: { subject: 'x', html: t.html } })));
    const normal = await liveCampaign(herald);

    const bad = Promise.all(campaigns.map(async (campaign) => herald.waitForExecution(await trigger(campaign.id))));
    const good = herald.waitForExecution(await trigger(normal.id, { code: '4711' }));
    const [executions, ok] = await Promise.all([bad, good]);

    // The normal trigger completed within 5 s of its call, while the bad ones ran.
    expect(ok.recipients[0]).toMatchObject({ status: 'sent' });
    expect(elapsed(ok)).toBeLessThan(5000);
    executions.forEach((execution, i) => {
      expect(execution.recipients[0], templates[i]!.name).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^render-error: /) });
      // Failed once, not retried: the render stopped at the output limit, well inside the time limit.
      expect(execution.recipients[0].reason, templates[i]!.name).not.toMatch(/timed out/);
      expect(elapsed(execution), templates[i]!.name).toBeLessThan(TIMEOUT_MS + 5000);
    });
    // The same process (it runs the API and the worker) is still up and answers.
    expect(process.pid).toBe(pid);
    await live();
    const after = await herald.waitForExecution(await trigger(normal.id, { code: '4712' }));
    expect(after.recipients[0]).toMatchObject({ status: 'sent' });
  });

  it('through POST /v1/campaigns/{id}/preview: each answers with its render error, and the API keeps serving', async () => {
    for (const [name, html] of [...PROCESS_FATAL_FILTERS.map((filter) => [filter, fatal(filter)] as const), ['reported', REPORTED] as const]) {
      const draft = await herald.request('POST', '/v1/campaigns', emailCampaign({ content: { subject: 'x', html } }));
      expect(draft.status, JSON.stringify(draft.body)).toBe(201);
      const res = await herald.request('POST', `/v1/campaigns/${draft.body.id}/preview`, {
        recipient: { userId: 'ada@example.com', namespace: 'email' },
        context: {},
      });
      expect(res.status, `${name}: ${JSON.stringify(res.body)}`).toBe(200);
      expect(res.body.renderError, name).toEqual(expect.any(String));
      expect(res.body.rendered, name).toBeNull();
      await live();
    }
    const normal = await herald.request('POST', '/v1/campaigns', emailCampaign());
    const preview = await herald.request('POST', `/v1/campaigns/${normal.body.id}/preview`, {
      recipient: { userId: 'ada@example.com', namespace: 'email' },
      context: { code: '1' },
    });
    expect(preview.body.rendered).toMatchObject({ subject: expect.stringMatching(/^Hello/) });
  });
});
