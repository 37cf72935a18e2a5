import type { HeraldDb } from '../db/database';
import { durableTransaction } from '../db/dialect';
import { chunks } from '../domain/chunks';
import {
  deliveryRows,
  executionRow,
  queueRow,
  type ExecutionClaim,
  type ExecutionKindColumns,
  type ExecutionRepository,
  type NewExecution,
} from './executions';

/** Rows per INSERT: well under SQLite's limit on bound parameters (32,766) with executions' 15 columns. */
const ROWS_PER_INSERT = 200;
/** Calls per group: one transaction, one sync. */
const MAX_GROUP = 500;

/** The calls of a group that a high-throughput dispatcher drains. */
const queued = (calls: Waiting[]) => calls.filter((call): call is Waiting & { partition: number } => call.partition !== undefined);

interface Waiting {
  execution: NewExecution;
  /** A high-throughput trigger's dispatch partition: its claim also queues it there. */
  partition: number | undefined;
  /** The kind's own columns of the execution (a trigger's cancellation_key); every row of a multi-row insert names the same columns. */
  columns: Pick<ExecutionKindColumns, 'cancellation_key'>;
  resolve(claim: ExecutionClaim): void;
  reject(error: unknown): void;
}

/**
 * Claims synced to disk before the call is answered, committed in groups: the calls that arrive
 * while a commit is under way wait and go together in the next one, a transaction synced to disk
 * (`durableTransaction`), so the sync is paid once per group rather than once per call. Two accept
 * paths answer from such a claim: high-throughput triggers (ADR 0010), whose claim also queues
 * them for their partition's dispatcher, and unitary triggers whose workflow start is answered
 * without waiting for it (ADR 0011). A claim is what `ExecutionRepository.claim` does for one
 * call: the execution and its pending deliveries (and the queue row), or the earlier claim of its
 * requestId (a repeat, or a conflict when the body differs). One instance per process: the
 * grouping is its state.
 */
export class DurableClaims {
  private waiting: Waiting[] = [];
  private committing = false;

  constructor(
    private readonly db: HeraldDb,
    private readonly executions: Pick<ExecutionRepository, 'findClaim'>,
  ) {}

  /** With a partition, the claim also queues the trigger for that high-throughput dispatcher. */
  claim(execution: NewExecution, partition?: number, columns: Pick<ExecutionKindColumns, 'cancellation_key'> = {}): Promise<ExecutionClaim> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ execution, partition, columns, resolve, reject });
      if (!this.committing) {
        this.committing = true;
        // After the current turn of the event loop, so calls read off the network together go together.
        setImmediate(() => void this.commitWaiting());
      }
    });
  }

  private async commitWaiting(): Promise<void> {
    while (this.waiting.length > 0) {
      const group = this.waiting.splice(0, MAX_GROUP);
      try {
        const created = await this.commit(group);
        for (const call of group) {
          if (created.has(call.execution.id)) call.resolve({ kind: 'created', executionId: call.execution.id, workflowId: call.execution.workflowId });
          else this.settleLoser(call);
        }
      } catch (error) {
        for (const call of group) call.reject(error);
      }
    }
    this.committing = false;
  }

  /** Inserts the group's executions (a requestId already claimed, or claimed twice in the group, is skipped), then the winners' deliveries and queue rows. */
  private async commit(group: Waiting[]): Promise<Set<string>> {
    const now = new Date().toISOString();
    return durableTransaction(this.db, async (trx) => {
      const created = new Set<string>();
      for (const part of chunks(group, ROWS_PER_INSERT)) {
        const inserted = await trx
          .insertInto('executions')
          .values(part.map((call) => executionRow(call.execution, now, { cancellation_key: null, ...call.columns })))
          .onConflict((oc) => oc.column('request_id').doNothing())
          .returning('id')
          .execute();
        for (const row of inserted) created.add(row.id);
      }
      const winners = group.filter((call) => created.has(call.execution.id));
      for (const part of chunks(
        winners.flatMap((call) => deliveryRows(call.execution, now)),
        ROWS_PER_INSERT,
      )) {
        await trx.insertInto('deliveries').values(part).execute();
      }
      for (const part of chunks(queued(winners), ROWS_PER_INSERT)) {
        await trx
          .insertInto('ht_triggers')
          .values(part.map((call) => queueRow(call.execution.id, call.partition, now)))
          .execute();
      }
      return created;
    });
  }

  /** A call whose requestId was claimed first (earlier, or by another call of its group): a repeat with the same body, else a conflict. */
  private settleLoser(call: Waiting): void {
    this.executions
      .findClaim(call.execution.requestId)
      .then((winner) => {
        if (!winner) throw new Error(`requestId ${call.execution.requestId} was neither claimed nor found`);
        call.resolve(
          winner.requestHash === call.execution.requestHash ? { kind: 'repeat', claim: winner } : { kind: 'conflict', executionId: winner.executionId },
        );
      })
      .catch(call.reject);
  }
}
