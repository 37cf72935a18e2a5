// The load generator, always its own process (spawned by bench/run.ts with an IPC channel):
// - mode "http": POST /v1/executions/unitary with unique requestIds at a fixed concurrency, call i
//   to API port ports[i % ports.length] (round-robin over the replicas, as a load balancer would);
// - mode "temporal": start bare workflows directly with @temporalio/client at a fixed concurrency.
// Every loop is bounded by a call count and a deadline. Only 127.0.0.1.
// Sends {type:'started', at} when the first call goes out and {type:'result', ...} at the end.
// Bare starts use Herald's data converter: encrypted when HERALD_PAYLOAD_KEYS is in the environment.
import { Agent, request } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../src/config/env';
import { executionStartMetadata } from '../src/services/execution-intake';
import { heraldDataConverter } from '../src/temporal-client/data-converter';
import type { bareExecution, BareShape } from './bare-workflow';

export type UserSelection = { kind: 'unique'; prefix: string } | { kind: 'pool'; prefix: string; size: number };

export interface HttpLoad {
  mode: 'http';
  /** One or more APIs (replicas); calls go round-robin over them. */
  ports: number[];
  campaignId: string;
  recipients: number;
  concurrency: number;
  maxCalls: number;
  maxMs: number;
  requestPrefix: string;
  users: UserSelection;
}

export interface TemporalLoad {
  mode: 'temporal';
  address: string;
  taskQueue: string;
  recipients: number;
  /** Which of the trigger workflow's shapes the bare workflow mirrors (bench/bare-workflow.ts). */
  bareShape?: BareShape;
  /**
   * Start with what Herald attaches to each execution: its 4 search attributes, a static summary
   * and details, and an input of the same shape. Separates the cost of that metadata from the
   * rest of Herald's accept path.
   */
  withHeraldMetadata?: boolean;
  concurrency: number;
  maxCalls: number;
  maxMs: number;
  requestPrefix: string;
}

export type Load = HttpLoad | TemporalLoad;

export interface LoadResult {
  type: 'result';
  startedAt: number;
  finishedAt: number;
  /** Calls answered as expected (202 for HTTP, started for Temporal). */
  ok: number;
  failed: number;
  statuses: Record<string, number>;
  firstError?: string;
  /** Latencies of the successful calls, ms. */
  latencies: number[];
  /** CPU the load generator used while calling (its start-up excluded). */
  cpuSeconds: number;
}

const deadline = (load: Load) => Date.now() + load.maxMs;

/** Runs `call(i)` for i = 0.. at `concurrency`, stopping at maxCalls or the deadline. */
async function runLoop(load: Load, call: (i: number) => Promise<string>): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let next = 0;
  let ok = 0;
  let failed = 0;
  let firstError: string | undefined;
  const until = deadline(load);
  const cpuAtStart = process.cpuUsage();
  const startedAt = Date.now();
  process.send?.({ type: 'started', at: startedAt });
  const lane = async () => {
    while (next < load.maxCalls && Date.now() < until) {
      const i = next++;
      const t0 = process.hrtime.bigint();
      let status: string;
      try {
        status = await call(i);
      } catch (error) {
        status = 'error';
        firstError ??= (error as Error).message;
      }
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === '202' || status === 'started') {
        ok += 1;
        latencies.push(ms);
      } else {
        failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: load.concurrency }, lane));
  const cpu = process.cpuUsage(cpuAtStart);
  return {
    type: 'result',
    startedAt,
    finishedAt: Date.now(),
    ok,
    failed,
    statuses,
    ...(firstError && { firstError }),
    latencies,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

/** The call's recipients: fresh users, or distinct users drawn at random from a seeded pool. */
function recipientIds(users: UserSelection, call: number, count: number): string[] {
  if (users.kind === 'unique') return Array.from({ length: count }, (_, j) => `${users.prefix}-${call}-${j}@bench.test`);
  const picked = new Set<number>();
  while (picked.size < Math.min(count, users.size)) picked.add(Math.floor(Math.random() * users.size));
  return [...picked].map((k) => `${users.prefix}-${k}@bench.test`);
}

async function runHttp(load: HttpLoad): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: load.concurrency });
  const post = (port: number, body: string) =>
    new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/v1/executions/unitary',
          agent,
          timeout: 15_000,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            if (res.statusCode !== 202) reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
            else resolve('202');
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout after 15 s')));
      req.on('error', reject);
      req.end(body);
    });
  const result = await runLoop(load, (i) => {
    const recipients = recipientIds(load.users, i, load.recipients).map((userId) => ({
      userId,
      namespace: 'email',
      context: { code: String(1000 + (i % 9000)) },
    }));
    return post(load.ports[i % load.ports.length]!, JSON.stringify({ requestId: `${load.requestPrefix}-${i}`, campaignId: load.campaignId, recipients }));
  });
  agent.destroy();
  return result;
}

const benchCampaign = { id: '01BENCHCAMPAIGN0000000000000', name: 'bench accept', version: 1, channel: 'email', type: 'transactional' } as const;

/** The call Herald would start for this request: its input shape and its metadata (execution-intake.ts). */
function heraldShapedStart(requestId: string, recipients: number) {
  const executionId = `01BENCHEXEC${requestId.slice(-16).padStart(16, '0')}`;
  const recipientList = recipientIds({ kind: 'unique', prefix: requestId }, 0, recipients).map((userId, j) => ({
    userId,
    namespace: 'email',
    context: { code: String(1000 + j) },
  }));
  return {
    // Carried along, unused by the bare workflow, so the start moves as many bytes as Herald's.
    input: { executionId, requestId, campaignId: benchCampaign.id, recipientList },
    metadata: executionStartMetadata(benchCampaign, { requestId, recipients: recipientList }, executionId),
  };
}

async function runTemporal(load: TemporalLoad): Promise<LoadResult> {
  const connection = await Connection.connect({ address: load.address });
  const keys = process.env.HERALD_PAYLOAD_KEYS;
  const client = new Client({
    connection,
    namespace: 'default',
    dataConverter: heraldDataConverter(keys ? loadConfig({ HERALD_PAYLOAD_KEYS: keys }).payloadKeys : undefined),
  });
  const result = await runLoop(load, async (i) => {
    const requestId = `${load.requestPrefix}-${i}`;
    const herald = load.withHeraldMetadata ? heraldShapedStart(requestId, load.recipients) : undefined;
    await client.workflow.start<typeof bareExecution>('bareExecution', {
      taskQueue: load.taskQueue,
      workflowId: `bare/${requestId}`,
      args: [{ recipients: load.recipients, ...(load.bareShape && { shape: load.bareShape }), ...herald?.input }],
      ...herald?.metadata,
    });
    return 'started';
  });
  await connection.close();
  return result;
}

const load = JSON.parse(process.argv[2] ?? '{}') as Load;
const result = load.mode === 'http' ? await runHttp(load) : await runTemporal(load);
process.send?.(result, () => process.exit(0));
if (!process.send) {
  console.log(JSON.stringify({ ...result, latencies: result.latencies.length }));
  process.exit(0);
}
