import { setTimeout as sleep } from 'node:timers/promises';
import { isTransientDatabaseError } from '../db/dialect';

/** A line that is not a valid item: counted and listed, the rest goes on. */
export type RejectedImportLine = { line: number; kind: 'rejected'; reason: string };
/** Reading stopped at this line (the body was too large): it and the rest were not read. Ends the import. */
export type UnreadImportLine = { line: number; kind: 'unread'; reason: string };

/** What every import answers besides its own counts. */
export interface ImportTally {
  /** Lines read, blank ones left out. */
  received: number;
  rejected: number;
  /** The first MAX_IMPORT_ERRORS problems, by 1-based line number. */
  errors: Array<{ line: number; reason: string }>;
  /** Present when more problems occurred than `errors` lists. */
  errorsTruncated?: true;
}

/** Rows per transaction: big enough that a statement per row does not dominate, small enough that the API holds little. */
export const IMPORT_BATCH_ROWS = 500;
export const MAX_IMPORT_ERRORS = 1000;
/** A batch meets a busy database (SQLite's writer lock, a PostgreSQL deadlock) at most this many times before the import fails. */
const BATCH_ATTEMPTS = 5;

export interface BatchedImportSteps<Item, Row> {
  batchRows?: number;
  /** The row an item adds, or why it is rejected. */
  rowOf(item: Item): { row: Row } | { rejected: string };
  /**
   * Writes one batch in one transaction and adds what it wrote to the caller's counts once that
   * transaction committed; `last` is the final batch (the audit entry goes with it) and
   * `complete` whether the whole body was read. A busy database rolls it back and it goes again.
   */
  writeBatch(rows: Row[], last: boolean, complete: boolean): Promise<void>;
}

/**
 * Reads an NDJSON import's lines as they arrive and writes them `batchRows` per transaction, so an
 * import of any size holds one batch in memory: rejected lines are counted into `tally` and listed,
 * an unread line ends the import. Returns whether every line was read.
 */
export async function importInBatches<Item extends { line: number; kind: string }, Row>(
  entries: AsyncIterable<Item | RejectedImportLine | UnreadImportLine>,
  tally: ImportTally,
  steps: BatchedImportSteps<Item, Row>,
): Promise<boolean> {
  const batchRows = steps.batchRows ?? IMPORT_BATCH_ROWS;
  const report = (line: number, reason: string) => {
    if (tally.errors.length < MAX_IMPORT_ERRORS) tally.errors.push({ line, reason });
    else tally.errorsTruncated = true;
  };
  let batch: Row[] = [];
  let complete = true;
  const flush = async (last: boolean) => {
    const rows = batch;
    batch = [];
    for (let attempt = 1; ; attempt++) {
      try {
        return await steps.writeBatch(rows, last, complete);
      } catch (error) {
        // The transaction rolled back: the same rows can go again.
        if (attempt >= BATCH_ATTEMPTS || !isTransientDatabaseError(error)) throw error;
        await sleep(50 * 2 ** attempt);
      }
    }
  };

  for await (const entry of entries) {
    if (isLine(entry, 'unread')) {
      report(entry.line, entry.reason);
      complete = false;
      break;
    }
    tally.received += 1;
    const read = isLine(entry, 'rejected') ? { rejected: entry.reason } : steps.rowOf(entry as Item);
    if ('rejected' in read) {
      tally.rejected += 1;
      report(entry.line, read.rejected);
      continue;
    }
    batch.push(read.row);
    if (batch.length >= batchRows) await flush(false);
  }
  await flush(true);
  return complete;
}

function isLine<K extends 'rejected' | 'unread'>(entry: { kind: string }, kind: K): entry is { line: number; kind: K; reason: string } {
  return entry.kind === kind;
}
