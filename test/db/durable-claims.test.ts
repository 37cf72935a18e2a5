/**
 * The group commit of claims answered before any workflow runs them (src/repositories/durable-claims.ts:
 * high-throughput triggers, ADR 0010, and unitary triggers answered before their start, ADR 0011)
 * on an SQLite file in process: calls that arrive together share one synced
 * transaction; a requestId claimed twice, in the same group or across groups, gives one
 * execution (a repeat with the same body, a conflict with another).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMigratedDatabase, type HeraldDb } from '../../src/db/database';
import { durableTransaction } from '../../src/db/dialect';
import { CampaignRepository } from '../../src/repositories/campaigns';
import { ExecutionRepository, type NewExecution } from '../../src/repositories/executions';
import { DurableClaims } from '../../src/repositories/durable-claims';

let counter = 0;
/** The campaign the executions belong to (executions reference it). */
let campaignId = '';
const execution = (requestId: string, requestHash = 'hash-a'): NewExecution => ({
  id: `exec-${++counter}`,
  requestId,
  requestHash,
  campaignId,
  campaignVersion: 1,
  workflowId: 'ht-dispatcher/q/0',
  channel: 'email',
  recipients: [{ userId: `${requestId}@example.com`, namespace: 'email' }],
  context: { orderId: requestId },
});

describe('DurableClaims', () => {
  let db: HeraldDb;
  let dir: string;
  let claims: DurableClaims;
  let transactions = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-ht-claims-'));
    db = await openMigratedDatabase({ dialect: 'sqlite', path: join(dir, 'herald.db') });
    const campaign = await new CampaignRepository(db).create({
      name: 'Receipt',
      type: 'transactional',
      channel: 'email',
      throughput: 'high',
      content: { subject: 'Order {{ context.orderId }}', html: '<p>ok</p>' },
      audience: { namespace: 'email', createMissingProfiles: false },
    });
    campaignId = campaign.id;
    // Each durable transaction reserves SQLite's connection once: counted here.
    const connection = db.connection.bind(db);
    db.connection = () => {
      transactions++;
      return connection();
    };
    claims = new DurableClaims(db, new ExecutionRepository(db));
  });
  afterAll(async () => {
    await db?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits calls that arrive together in one transaction, each with its deliveries and queue row', async () => {
    transactions = 0;
    const calls = Array.from({ length: 50 }, (_, i) => execution(`together-${i}`));
    const results = await Promise.all(calls.map((call, i) => claims.claim(call, i % 4)));
    expect(results.every((r) => r.kind === 'created')).toBe(true);
    expect(transactions).toBe(1);
    const ids = calls.map((c) => c.id);
    expect(await db.selectFrom('deliveries').select('execution_id').where('execution_id', 'in', ids).execute()).toHaveLength(50);
    const queued = await db.selectFrom('ht_triggers').select(['execution_id', 'dispatch_partition']).where('execution_id', 'in', ids).execute();
    expect(queued).toHaveLength(50);
    expect(new Set(queued.map((q) => q.dispatch_partition))).toEqual(new Set([0, 1, 2, 3]));
  });

  it('queues only the claims given a partition (a unitary trigger answered before its start has no dispatcher), and keeps a cancellation key', async () => {
    const unitary = execution('no-partition');
    const withKey = execution('no-partition-with-key');
    const queuedCall = execution('with-partition');
    // In one group, so in one multi-row insert: with and without a cancellation key.
    const results = await Promise.all([claims.claim(unitary), claims.claim(withKey, undefined, { cancellation_key: 'order-7' }), claims.claim(queuedCall, 2)]);
    expect(results.map((r) => r.kind)).toEqual(['created', 'created', 'created']);
    const keys = await db.selectFrom('executions').select(['id', 'cancellation_key']).where('id', 'in', [unitary.id, withKey.id]).orderBy('id').execute();
    expect(keys).toEqual(
      [
        { id: unitary.id, cancellation_key: null },
        { id: withKey.id, cancellation_key: 'order-7' },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
    expect(await db.selectFrom('deliveries').select('execution_id').where('execution_id', 'in', [unitary.id, queuedCall.id]).execute()).toHaveLength(2);
    expect(await db.selectFrom('ht_triggers').select('execution_id').where('execution_id', 'in', [unitary.id, queuedCall.id]).execute()).toEqual([
      { execution_id: queuedCall.id },
    ]);
  });

  it('gives one execution to a requestId claimed twice in one group: the same body repeats it, another conflicts', async () => {
    const first = execution('twice');
    const again = execution('twice');
    const other = execution('twice', 'hash-b');
    const [a, b, c] = await Promise.all([claims.claim(first, 0), claims.claim(again, 0), claims.claim(other, 0)]);
    expect(a).toEqual({ kind: 'created', executionId: first.id, workflowId: first.workflowId });
    expect(b).toMatchObject({ kind: 'repeat', claim: { executionId: first.id } });
    expect(c).toEqual({ kind: 'conflict', executionId: first.id });
    expect(await db.selectFrom('ht_triggers').select('execution_id').where('execution_id', 'in', [again.id, other.id]).execute()).toEqual([]);
    expect(await db.selectFrom('deliveries').select('execution_id').where('execution_id', 'in', [again.id, other.id]).execute()).toEqual([]);
    // And in a later group.
    expect(await claims.claim(execution('twice'), 0)).toMatchObject({ kind: 'repeat', claim: { executionId: first.id } });
  });

  it('syncs that transaction to disk (synchronous = FULL) and leaves the connection as it was', async () => {
    const during = await durableTransaction(db, async (trx) => (await sql<{ synchronous: number }>`pragma synchronous`.execute(trx)).rows[0]?.synchronous);
    const after = (await sql<{ synchronous: number }>`pragma synchronous`.execute(db)).rows[0]?.synchronous;
    expect(during).toBe(2);
    expect(after).toBe(1);
  });
});
