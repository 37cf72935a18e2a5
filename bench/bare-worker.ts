// The baseline's own worker process: bench/bare-workflow.ts on its own task queue, default worker
// options (as Herald's worker uses). Reports finished executions (count, and when each finished) to the parent over IPC.
// Env: TEMPORAL_ADDRESS, BENCH_BARE_TASK_QUEUE, HERALD_PAYLOAD_KEYS (when set, Herald's data
// converter encrypts every payload, exactly as in Herald's worker).
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig } from '../src/config/env';
import { heraldDataConverter } from '../src/temporal-client/data-converter';
import { createBareActivities } from './bare-activities';

const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
const taskQueue = process.env.BENCH_BARE_TASK_QUEUE ?? 'bench-bare';

let finished = 0;
let lastFinishAt = 0;
let reported = 0;
/** When each execution finished since the last report (ms since the epoch). */
let times: number[] = [];
const report = setInterval(() => {
  if (finished === reported) return;
  reported = finished;
  process.send?.({ type: 'finished', count: finished, at: lastFinishAt, times });
  times = [];
}, 50);

const payloadKeys = process.env.HERALD_PAYLOAD_KEYS ? loadConfig({ HERALD_PAYLOAD_KEYS: process.env.HERALD_PAYLOAD_KEYS }).payloadKeys : undefined;
const connection = await NativeConnection.connect({ address });
const worker = await Worker.create({
  connection,
  namespace: 'default',
  taskQueue,
  dataConverter: heraldDataConverter(payloadKeys),
  workflowsPath: fileURLToPath(new URL('./bare-workflow.ts', import.meta.url)),
  activities: createBareActivities(() => {
    finished += 1;
    lastFinishAt = Date.now();
    times.push(lastFinishAt);
  }),
});
process.once('SIGINT', () => worker.shutdown());
process.once('SIGTERM', () => worker.shutdown());
// The parent closing the IPC channel means it is gone: stop too.
process.once('disconnect', () => worker.shutdown());
process.send?.({ type: 'ready' });
await worker.run();
clearInterval(report);
await connection.close();
// The IPC channel would keep the process alive.
process.exit(0);
