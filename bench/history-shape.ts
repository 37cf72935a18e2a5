// The shape of one workflow's history (events, bytes, tasks, markers, payload encodings): what a
// trigger costs Temporal, which throughput alone hides, and a check that the codec encrypts it all.
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

export interface HistoryShape {
  events: number;
  bytes: number;
  workflowTasks: number;
  markers: number;
  activityTasks: number;
  /** Payloads in the history (inputs, results, markers, summaries, search attributes ...) by encoding. */
  encryptedPayloads: number;
  plainPayloads: number;
}

/** Counts the Payload messages (objects with metadata.encoding) anywhere in a decoded history. */
function countPayloads(node: unknown, counts = { encrypted: 0, plain: 0 }, seen = new Set<object>()): { encrypted: number; plain: number } {
  if (node === null || typeof node !== 'object' || ArrayBuffer.isView(node) || seen.has(node)) return counts;
  seen.add(node);
  const encoding = (node as { metadata?: Record<string, Uint8Array> }).metadata?.encoding;
  if (encoding && ArrayBuffer.isView(encoding)) {
    if (Buffer.from(encoding).toString() === 'binary/encrypted') counts.encrypted += 1;
    else counts.plain += 1;
    return counts;
  }
  for (const value of Object.values(node)) countPayloads(value, counts, seen);
  return counts;
}

export async function historyShape(client: Client, workflowId: string, log: (line: string) => void): Promise<HistoryShape | undefined> {
  try {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const types = proto.temporal.api.enums.v1.EventType;
    const events = history.events ?? [];
    const count = (type: number) => events.filter((e) => e.eventType === type).length;
    const payloads = countPayloads(events);
    return {
      events: events.length,
      bytes: proto.temporal.api.history.v1.History.encode(history).finish().length,
      workflowTasks: count(types.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
      markers: count(types.EVENT_TYPE_MARKER_RECORDED),
      activityTasks: count(types.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
      encryptedPayloads: payloads.encrypted,
      plainPayloads: payloads.plain,
    };
  } catch (error) {
    log(`could not fetch the history of ${workflowId}: ${(error as Error).message}`);
    return undefined;
  }
}
