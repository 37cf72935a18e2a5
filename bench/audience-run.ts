// An audience execution at scale (POST /v1/executions/audience) through the real API and worker:
// `count` profiles imported in one streamed NDJSON body (bench/profile-import.ts), a rule audience
// matching all of them, a marketing email campaign to the outbox provider, and one unthrottled run,
// timed from the call to the execution's completion. Run by `npm run bench -- audience`.
import { benchProfileImport, peakRssTracker } from './profile-import';

export interface AudienceRunBenchResult {
  profiles: number;
  sent: number;
  /** From the POST to the execution's status leaving running. */
  seconds: number;
  messagesPerSecond: number;
  /** From the POST until the run had frozen its members (targetedProfileCount set). */
  freezeSeconds: number;
  /** Messages per second once frozen: the batches alone. */
  sendingMessagesPerSecond: number;
  importSeconds: number;
  workerPeakRssMiB: number;
  apiPeakRssMiB: number;
}

async function call(port: number, method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 1000)}`);
  return text ? JSON.parse(text) : undefined;
}

export async function benchAudienceRun(options: {
  port: number;
  count: number;
  prefix: string;
  apiPid: number;
  workerPid: number;
  log: (line: string) => void;
}): Promise<AudienceRunBenchResult> {
  const { port, count, prefix } = options;
  const segment = `${prefix}-audience`;
  const imported = await benchProfileImport({
    port,
    count,
    prefix: segment,
    line: (i) =>
      JSON.stringify({
        namespace: 'email',
        userId: `${segment}-${i}@bench.test`,
        attributes: { firstName: `Pat${i}`, segment, score: i % 101 },
        consents: { email: 'in' },
      }),
  });
  options.log(`  imported ${count} profiles in ${imported.seconds.toFixed(1)} s`);
  const audience = await call(port, 'POST', '/v1/audiences', {
    name: segment,
    namespace: 'email',
    definition: { type: 'rule', where: [{ attribute: 'segment', op: 'eq', value: segment }] },
  });
  const campaign = await call(port, 'POST', '/v1/campaigns', {
    name: `Bench sale ${prefix}`,
    type: 'marketing',
    channel: 'email',
    content: {
      subject: 'Hello {{ profile.firstName }}',
      html: '<p>Hi {{ profile.firstName }}, {{ context.offer }} (score {{ profile.score }})</p>',
      text: '{{ context.offer }}',
    },
    audience: { namespace: 'email', createMissingProfiles: false },
  });
  await call(port, 'POST', `/v1/campaigns/${campaign.id}/activate`);

  const worker = peakRssTracker(options.workerPid);
  const api = peakRssTracker(options.apiPid);
  const started = performance.now();
  const { executionId } = await call(port, 'POST', '/v1/executions/audience', {
    requestId: `${segment}-run`,
    campaignId: campaign.id,
    audience: { id: audience.id },
    context: { offer: '20% off' },
  });
  let frozenAt: number | undefined;
  let execution: any;
  for (let polls = 0; ; polls++) {
    execution = await call(port, 'GET', `/v1/executions/${executionId}`);
    if (frozenAt === undefined && execution.audience?.targetedProfileCount !== undefined) frozenAt = performance.now();
    if (execution.status !== 'running') break;
    if (polls % 20 === 0) options.log(`  ${execution.audience?.progress?.processed ?? 0} of ${count} processed`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const seconds = (performance.now() - started) / 1000;
  if (execution.status !== 'completed' || execution.counts.sent !== count)
    throw new Error(`the audience run ended ${execution.status} with ${JSON.stringify(execution.counts)}`);
  const freezeSeconds = ((frozenAt ?? performance.now()) - started) / 1000;
  return {
    profiles: count,
    sent: execution.counts.sent,
    seconds,
    messagesPerSecond: execution.counts.sent / seconds,
    freezeSeconds,
    sendingMessagesPerSecond: execution.counts.sent / Math.max(0.001, seconds - freezeSeconds),
    importSeconds: imported.seconds,
    workerPeakRssMiB: worker.peakMiB(),
    apiPeakRssMiB: api.peakMiB(),
  };
}
