import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailCampaign, liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';
import { leaksIn } from './leaks';
import { SSTI_PAYLOADS, type SstiPayload } from './ssti-payloads';

/**
 * Campaign templates are hostile input. Through the real API and a real worker: the static
 * check refuses what has no legitimate use (400 on save, 422 on activation for older drafts),
 * everything else renders in the sandbox without reaching JavaScript, and a runaway template
 * fails only its own recipient.
 */

// The canary is in the environment of this process, which runs the API and the worker.
const canary = `canary-${randomUUID()}`;
process.env.HERALD_CANARY = canary;

const TIMEOUT_MS = 1000;
const MAX_BYTES = 65_536;

interface OutboxMessage {
  subject: string;
  html: string;
  text: string | null;
  executionId: string;
}

describe('campaign templates are untrusted input', () => {
  let herald: Herald;

  beforeAll(async () => {
    herald = await startHerald({
      env: { HERALD_RENDER_TIMEOUT_MS: String(TIMEOUT_MS), HERALD_RENDER_MAX_BYTES: String(MAX_BYTES), HERALD_RENDER_PROCESSES: '3' },
    });
  });
  afterAll(() => herald?.stop());

  const contentWith = (payload: SstiPayload) => ({ subject: 'Subject', html: '<p>body</p>', [payload.field ?? 'html']: payload.template });

  async function trigger(campaignId: string, context: Record<string, unknown> = {}, userId = 'ada@example.com') {
    const body = JSON.stringify({ requestId: uniqueRequestId('ssti'), campaignId, recipients: [{ userId, namespace: 'email' }], context });
    const accepted = await herald.request('POST', '/v1/executions/unitary', body, { 'content-type': 'application/json' });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    return accepted.body.executionId as string;
  }

  async function messagesOf(campaignId: string, executionId: string): Promise<OutboxMessage[]> {
    const { body } = await herald.request('GET', `/v1/outbox?campaignId=${campaignId}`);
    return (body.items as OutboxMessage[]).filter((m) => m.executionId === executionId);
  }

  /** Stores content the way a campaign saved before the static check existed would hold it. */
  async function overwriteContent(campaignId: string, content: object) {
    await herald.db
      .updateTable('campaigns')
      .set({ content: JSON.stringify(content) })
      .where('id', '=', campaignId)
      .execute();
  }

  const refused = SSTI_PAYLOADS.filter((p) => p.expect === 'refused');
  const inert = SSTI_PAYLOADS.filter((p) => p.expect === 'inert');

  it(`POST /v1/campaigns answers 400 with the reason for each of ${refused.length} refused payloads`, async () => {
    const answers = await Promise.all(refused.map((payload) => herald.request('POST', '/v1/campaigns', emailCampaign({ content: contentWith(payload) }))));
    answers.forEach((res, i) => {
      const payload = refused[i]!;
      expect(res.status, `${payload.name}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.type).toBe('validation-failed');
      expect(res.body.errors, payload.name).toEqual([{ field: `content.${payload.field ?? 'html'}`, message: expect.stringMatching(payload.reason ?? /./) }]);
      expect(leaksIn(JSON.stringify(res.body), canary)).toEqual([]);
    });
  });

  it('PATCH /v1/campaigns/{id} refuses them too, and a refused edit changes nothing', async () => {
    const draft = await herald.request('POST', '/v1/campaigns', emailCampaign());
    expect(draft.status).toBe(201);
    for (const payload of refused.slice(0, 8)) {
      const res = await herald.request('PATCH', `/v1/campaigns/${draft.body.id}`, { content: contentWith(payload) });
      expect(res.status, payload.name).toBe(400);
      expect(res.body).toMatchObject({
        type: 'validation-failed',
        errors: [{ field: `content.${payload.field ?? 'html'}`, message: expect.stringMatching(payload.reason ?? /./) }],
      });
    }
    const after = await herald.request('GET', `/v1/campaigns/${draft.body.id}`);
    expect(after.body).toMatchObject({ version: draft.body.version, content: draft.body.content });
  });

  it(`${inert.length} payloads that pass the check render without any trace of JavaScript`, async () => {
    const runs = await Promise.all(
      inert.map(async (payload) => {
        const campaign = await liveCampaign(herald, { content: contentWith(payload) });
        const executionId = await trigger(campaign.id, payload.context);
        return { payload, campaign, execution: await herald.waitForExecution(executionId) };
      }),
    );
    for (const { payload, campaign, execution } of runs) {
      const [recipient] = execution.recipients;
      expect(['sent', 'failed'], payload.name).toContain(recipient.status);
      if (recipient.status === 'failed') expect(recipient.reason, payload.name).toMatch(/^render-error: /);
      const messages = await messagesOf(campaign.id, execution.executionId);
      expect(messages, payload.name).toHaveLength(recipient.status === 'sent' ? 1 : 0);
      const seen = `${recipient.reason ?? ''}\n${messages.map((m) => `${m.subject}\n${m.html}\n${m.text ?? ''}`).join('\n')}`;
      expect(leaksIn(seen, canary), `${payload.name}: ${seen}`).toEqual([]);
    }
    // The corpus is not vacuous: most inert payloads render an email.
    expect(runs.filter((r) => r.execution.recipients[0].status === 'sent').length).toBeGreaterThan(inert.length / 2);
  });

  it('a draft saved before the check is refused at activation: 422 campaign-review-failed', async () => {
    const draft = await herald.request('POST', '/v1/campaigns', emailCampaign());
    await overwriteContent(draft.body.id, {
      subject: 'Hi',
      html: '{{ range.constructor("return process.env.HERALD_CANARY")() }}',
      text: '{% include "/etc/passwd" %}',
    });
    const res = await herald.request('POST', `/v1/campaigns/${draft.body.id}/activate`);
    expect(res.status).toBe(422);
    expect(res.body.type).toBe('campaign-review-failed');
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { field: 'content.html', message: '`constructor` is not allowed in templates (line 1, column 9)' },
        { field: 'content.text', message: '{% include %} is not allowed: campaign templates cannot load other templates (line 1, column 4)' },
      ]),
    );
  });

  it('a live campaign saved before the check fails its recipients: the render processes check too', async () => {
    const campaign = await liveCampaign(herald);
    await overwriteContent(campaign.id, { subject: 'Hi', html: '<p>{{ range.constructor("return process.env.HERALD_CANARY")() }}</p>' });
    const execution = await herald.waitForExecution(await trigger(campaign.id));
    expect(execution.recipients[0]).toMatchObject({
      status: 'failed',
      reason: 'render-error: html: `constructor` is not allowed in templates (line 1, column 12)',
    });
    expect(await messagesOf(campaign.id, execution.executionId)).toEqual([]);
  });

  it('templates keep working: profile, context, loops, filters and macros', async () => {
    await herald.request('PUT', '/v1/profiles/email/grace@example.com', { attributes: { firstName: 'Grace', plan: 'pro' } });
    const campaign = await liveCampaign(herald, {
      content: {
        subject: 'Order {{ context.order }} for {{ profile.firstName }}',
        html: '{% macro line(item) %}<li>{{ item.name | upper }}: {{ item.qty }}</li>{% endmacro %}<ul>{% for item in context.items %}{{ loop.index }}{{ line(item) }}{% endfor %}</ul>{{ context.items | join(", ", "name") }} {{ profile.nickname | default("friend") }}{% if profile.plan == "pro" %} (pro){% endif %}',
        text: '{% for i in range(3) %}{{ i }}{% endfor %} {{ context.items | length }} items',
      },
    });
    const execution = await herald.waitForExecution(
      await trigger(
        campaign.id,
        {
          order: 'A-1',
          items: [
            { name: 'tea', qty: 2 },
            { name: '<cake>', qty: 1 },
          ],
        },
        'grace@example.com',
      ),
    );
    expect(execution.recipients[0]).toMatchObject({ status: 'sent' });
    const [message] = await messagesOf(campaign.id, execution.executionId);
    expect(message).toMatchObject({
      subject: 'Order A-1 for Grace',
      html: '<ul>1<li>TEA: 2</li>2<li>&lt;CAKE&gt;: 1</li></ul>tea, &lt;cake&gt; friend (pro)',
      text: '012 2 items',
    });
  });

  describe('limits', () => {
    it('a runaway template fails only its recipient, in bounded time, while another execution started with it completes', async () => {
      const runaway = await liveCampaign(herald, {
        content: { subject: 'x', html: '{% for i in range(0, 10000) %}{% for j in range(0, 10000) %}{% endfor %}{% endfor %}' },
      });
      const redos = await liveCampaign(herald, { content: { subject: 'x', html: '{{ context.s | replace(r/^(a+)+$/, "x") }}' } });
      const normal = await liveCampaign(herald);
      const started = Date.now();
      const finished: string[] = [];
      const run = async (name: string, campaignId: string, context: Record<string, unknown>) => {
        const execution = await herald.waitForExecution(await trigger(campaignId, context));
        finished.push(name);
        return { execution, ms: Date.now() - started };
      };
      const [slow, stuck, ok] = await Promise.all([
        run('runaway', runaway.id, {}),
        run('redos', redos.id, { s: `${'a'.repeat(40)}!` }),
        run('normal', normal.id, { code: '1' }),
      ]);

      expect(slow.execution.recipients[0]).toMatchObject({ status: 'failed', reason: `render-error: render timed out after ${TIMEOUT_MS} ms` });
      expect(stuck.execution.recipients[0]).toMatchObject({ status: 'failed', reason: `render-error: render timed out after ${TIMEOUT_MS} ms` });
      expect(ok.execution.recipients[0]).toMatchObject({ status: 'sent' });
      expect(finished[0]).toBe('normal');
      expect(slow.ms).toBeLessThan(15_000);
      expect(stuck.ms).toBeLessThan(15_000);

      // The same runaway content with the same data now fails at once instead of taking a process again.
      const again = Date.now();
      const repeat = await herald.waitForExecution(await trigger(runaway.id));
      expect(repeat.recipients[0].reason).toMatch(
        /^render-error: render timed out after \d+ ms \(on an earlier render of the same content and data; not rendered again for 60 s\)$/,
      );
      expect(Date.now() - again).toBeLessThan(TIMEOUT_MS + 5000);
    });

    it('output over HERALD_RENDER_MAX_BYTES fails the recipient', async () => {
      const campaign = await liveCampaign(herald, { content: { subject: 'x', html: '{% for i in range(0, 10000) %}{{ context.chunk }}{% endfor %}' } });
      const execution = await herald.waitForExecution(await trigger(campaign.id, { chunk: 'x'.repeat(100) }));
      expect(execution.recipients[0]).toMatchObject({ status: 'failed', reason: `render-error: output over ${MAX_BYTES} bytes` });
    });

    it('range() is bounded: a billion numbers fail fast', async () => {
      const campaign = await liveCampaign(herald, { content: { subject: 'x', html: '{% for i in range(0, 1000000000) %}x{% endfor %}' } });
      const started = Date.now();
      const execution = await herald.waitForExecution(await trigger(campaign.id));
      expect(execution.recipients[0]).toMatchObject({
        status: 'failed',
        reason: expect.stringMatching(/^render-error: html: .*range\(\) would make 1000000000 numbers; at most 10000 are allowed$/),
      });
      expect(Date.now() - started).toBeLessThan(10_000);
    });
  });
});
