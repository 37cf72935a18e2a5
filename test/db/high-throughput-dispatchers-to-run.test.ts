/**
 * Which high-throughput dispatchers a worker starting up makes sure of (ADR 0010, "Partitions"),
 * read from an SQLite file in process: none in a deployment with no high-throughput campaign and
 * nothing queued; every partition of HERALD_HIGH_THROUGHPUT_PARTITIONS once there is such a
 * campaign; and the partitions past that count that still hold triggers (queued under a larger
 * count, their dispatcher ended or terminated), so none is stranded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMigratedDatabase, type HeraldDb } from '../../src/db/database';
import { CampaignRepository } from '../../src/repositories/campaigns';
import { DurableClaims } from '../../src/repositories/durable-claims';
import { ExecutionRepository } from '../../src/repositories/executions';
import { HighThroughputQueue } from '../../src/repositories/high-throughput-queue';
import { highThroughputDispatchersToRun } from '../../src/services/high-throughput-dispatchers';

describe('highThroughputDispatchersToRun', () => {
  let db: HeraldDb;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-ht-dispatchers-'));
    db = await openMigratedDatabase({ dialect: 'sqlite', path: join(dir, 'herald.db') });
  });
  afterAll(async () => {
    await db?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs none without a high-throughput campaign or a queued trigger, the count once a campaign is live, and queued partitions past it', async () => {
    expect(await highThroughputDispatchersToRun(db, 2)).toEqual([]);

    const campaigns = new CampaignRepository(db);
    const campaign = await campaigns.create({
      name: 'Receipt',
      type: 'transactional',
      channel: 'email',
      throughput: 'high',
      content: { subject: 'Order {{ context.orderId }}', html: '<p>ok</p>' },
      audience: { namespace: 'email', createMissingProfiles: false },
    });
    // A draft takes no triggers yet.
    expect(await highThroughputDispatchersToRun(db, 2)).toEqual([]);
    await db.updateTable('campaigns').set({ status: 'live' }).where('id', '=', campaign.id).execute();
    expect(await highThroughputDispatchersToRun(db, 2)).toEqual([0, 1]);

    // Triggers queued by an API on a count of 8, in partitions 1, 6 and 5.
    const claims = new DurableClaims(db, new ExecutionRepository(db));
    for (const [i, partition] of [1, 6, 5, 6].entries()) {
      await claims.claim(
        {
          id: `exec-${i}`,
          requestId: `req-${i}`,
          requestHash: 'hash',
          campaignId: campaign.id,
          campaignVersion: campaign.version,
          workflowId: `ht-dispatcher/q/${partition}`,
          channel: 'email',
          recipients: [{ userId: `u${i}@example.com`, namespace: 'email' }],
        },
        partition,
      );
    }
    expect(await highThroughputDispatchersToRun(db, 2)).toEqual([0, 1, 5, 6]);
    expect(await highThroughputDispatchersToRun(db, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // The partitions holding triggers, found by index lookups from a given one up.
    const queue = new HighThroughputQueue(db);
    expect(await queue.partitionsHoldingTriggers()).toEqual([1, 5, 6]);
    expect(await queue.partitionsHoldingTriggers(2)).toEqual([5, 6]);
    expect(await queue.partitionsHoldingTriggers(6)).toEqual([6]);
    expect(await queue.partitionsHoldingTriggers(7)).toEqual([]);

    // The campaign stopped: its accepted triggers are still sent, so their dispatchers still run.
    await db.updateTable('campaigns').set({ status: 'stopped' }).where('id', '=', campaign.id).execute();
    expect(await highThroughputDispatchersToRun(db, 2)).toEqual([0, 1, 5, 6]);
    await db.deleteFrom('ht_triggers').execute();
    expect(await highThroughputDispatchersToRun(db, 2)).toEqual([]);
  });
});
