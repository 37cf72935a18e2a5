import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { partitionOf } from '../../src/domain/high-throughput';
import { highThroughputDispatcherId } from '../../workflows/workflow-ids';
import { waitFor } from '../support/process-stack';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy';
import {
  expectEachTriggerSentOnce,
  expectNoCrash,
  planOneRecipientTriggers,
  startCallers,
  startHighThroughputStack,
  waitForRunDrained,
  type HighThroughputFaultStack,
} from './support/high-throughput-run';

/**
 * HERALD_HIGH_THROUGHPUT_PARTITIONS lowered from 8 to 2 (ADR 0010, "Partitions"), caught in the
 * middle of the change: the API still queues triggers in 8 partitions while the worker runs on 2.
 * No trigger is stranded or sent twice. A dispatcher past the worker's count drains its partition
 * and ends; a trigger queued there afterwards starts it again with the API's nudge (a
 * signal-with-start), and it ends again once that is sent. When the nudges cannot reach Temporal
 * (the API talks to it through a proxy the test pauses), the orphan sweep starts those dispatchers.
 */
const API_PARTITIONS = 8;
const WORKER_PARTITIONS = 2;
const PER_PHASE = 400;

describe('high-throughput partition count lowered while the API still uses the old one', () => {
  let herald: HighThroughputFaultStack;
  let connection: Connection;
  let client: Client;
  let temporalProxy: TcpProxy;

  beforeAll(async () => {
    temporalProxy = await startTcpProxy(inject('temporalAddress'));
    herald = await startHighThroughputStack(inject('temporalAddress'), {
      apiTemporalAddress: temporalProxy.address,
      apiEnv: { HERALD_HIGH_THROUGHPUT_PARTITIONS: String(API_PARTITIONS) },
      // The sweep every second: it starts the dispatchers whose nudges were lost (below).
      workerEnv: { HERALD_HIGH_THROUGHPUT_PARTITIONS: String(WORKER_PARTITIONS), HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS: '1' },
    });
    connection = await Connection.connect({ address: inject('temporalAddress') });
    client = new Client({ connection, namespace: 'default' });
  });
  afterAll(async () => {
    for (let partition = 0; partition < API_PARTITIONS; partition++) {
      await client?.workflow
        .getHandle(highThroughputDispatcherId(herald.stack.taskQueue, partition))
        .terminate('test over')
        .catch(() => undefined);
    }
    await connection?.close();
    await herald?.close();
    await temporalProxy?.close();
  });

  const dispatcher = (partition: number) => client.workflow.getHandle(highThroughputDispatcherId(herald.stack.taskQueue, partition));

  /** Each partition's dispatcher status and run, once the ones past the worker's count have ended. */
  async function afterDrain() {
    const described = async () => Promise.all(Array.from({ length: API_PARTITIONS }, async (_, partition) => dispatcher(partition).describe()));
    let runs = await described();
    await waitFor(
      () => `the dispatchers past the count to end (${runs.map((r) => r.status.name).join(' ')})`,
      async () => {
        runs = await described();
        return runs.every((run, partition) => (partition < WORKER_PARTITIONS ? run.status.name === 'RUNNING' : run.status.name === 'COMPLETED'));
      },
      60_000,
    );
    return runs;
  }

  it('sends every trigger once, ends the dispatchers past the count, and starts one again for a trigger queued there later, by a nudge or the sweep', async () => {
    const { stack, campaignId, fake } = herald;
    const first = planOneRecipientTriggers(campaignId, 'hpc1', PER_PHASE);
    // The API's count spreads them over all 8 partitions.
    expect(new Set(first.map((t) => partitionOf(t.requestId, API_PARTITIONS))).size).toBe(API_PARTITIONS);
    const firstAccepted = await startCallers(stack.baseUrl, first, 16).done;
    await waitForRunDrained(stack, campaignId, PER_PHASE, 60_000);
    const ended = await afterDrain();

    // Queued under the larger count again: each ended dispatcher is started by a nudge, sends, and ends.
    const second = planOneRecipientTriggers(campaignId, 'hpc2', PER_PHASE);
    const secondAccepted = await startCallers(stack.baseUrl, second, 16).done;
    await waitForRunDrained(stack, campaignId, 2 * PER_PHASE, 60_000);
    const endedAgain = await afterDrain();
    for (let partition = WORKER_PARTITIONS; partition < API_PARTITIONS; partition++) {
      expect(endedAgain[partition]!.runId, `partition ${partition} ran again`).not.toBe(ended[partition]!.runId);
    }
    // The ones within the count never ended.
    for (let partition = 0; partition < WORKER_PARTITIONS; partition++) expect(endedAgain[partition]!.runId).toBe(ended[partition]!.runId);

    // The API cannot reach Temporal: its nudges are lost, and the dispatchers past the count stay
    // ended. The orphan sweep finds their queued triggers and starts them.
    temporalProxy.pause();
    const third = planOneRecipientTriggers(campaignId, 'hpc3', PER_PHASE);
    const thirdAccepted = await startCallers(stack.baseUrl, third, 16).done;
    await waitForRunDrained(stack, campaignId, 3 * PER_PHASE, 60_000);
    const restartedBySweep = await afterDrain();
    for (let partition = WORKER_PARTITIONS; partition < API_PARTITIONS; partition++) {
      expect(restartedBySweep[partition]!.runId, `partition ${partition} ran again`).not.toBe(endedAgain[partition]!.runId);
    }
    temporalProxy.resume();

    const figures = await expectEachTriggerSentOnce({
      database: stack.database,
      campaignId,
      fake,
      planned: [...first, ...second, ...third],
      accepted: [...firstAccepted, ...secondAccepted, ...thirdAccepted],
    });
    expectNoCrash(stack);
    console.info(
      `[ht-partition-count] ${3 * PER_PHASE} triggers over ${API_PARTITIONS} partitions, worker on ${WORKER_PARTITIONS}: all sent once; ${figures.providerRequests} provider requests`,
    );
  }, 240_000);
});
