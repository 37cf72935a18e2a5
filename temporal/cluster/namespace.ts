import { randomUUID } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { Client, type Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { heraldSearchAttributes } from '../../workflows/search-attributes';
import { registerSearchAttributes } from '../search-attributes';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Keeps trying `attempt` until it returns true or the deadline passes; the last error goes into the message. */
async function retryUntil(what: string, deadline: number, abort: AbortSignal | undefined, attempt: () => Promise<boolean>): Promise<void> {
  let lastError: unknown;
  for (;;) {
    abort?.throwIfAborted();
    try {
      if (await attempt()) return;
    } catch (error) {
      // A request the server refuses as such will not succeed by waiting.
      if ((error as { code?: number }).code === GrpcStatus.INVALID_ARGUMENT) throw error;
      lastError = error;
    }
    if (Date.now() > deadline)
      throw new Error(`Temporal cluster: timed out waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    await sleep(500);
  }
}

/**
 * What the dev server gets from its command line and a real cluster needs once: the namespace and
 * Herald's search attributes. A fresh namespace, and attributes added to it, may reach a service's
 * namespace cache only on its next refresh (every 10 s by default), so this ends with a probe: a workflow
 * started with every Herald attribute, as the API starts one, then terminated. Once the probe is
 * accepted, Herald's first trigger is too.
 */
export async function prepareNamespace(connection: Connection, namespace: string, timeoutMs: number, abort?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await retryUntil(`namespace ${namespace} to be registered`, deadline, abort, async () => {
    try {
      // Three days outlive any test run; production sets its own retention (deploy/temporal/create-namespace.sh).
      await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('3 days') });
    } catch (error) {
      if ((error as { code?: number }).code !== GrpcStatus.ALREADY_EXISTS) throw error;
    }
    return true;
  });

  const names = heraldSearchAttributes.map((key) => key.name);
  await retryUntil(`search attributes ${names.join(', ')} in ${namespace}`, deadline, abort, async () => {
    // Quiet: while the namespace is still unknown to the frontend's cache, the first attempts fail.
    await registerSearchAttributes(connection, namespace, () => {});
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    return names.every((name) => customAttributes?.[name] !== undefined);
  });

  const client = new Client({ connection, namespace });
  await retryUntil(`a workflow start with Herald's search attributes in ${namespace}`, deadline, abort, async () => {
    const handle = await client.workflow.start('herald-cluster-probe', {
      taskQueue: 'herald-cluster-probe',
      workflowId: `herald-cluster-probe/${randomUUID()}`,
      typedSearchAttributes: heraldSearchAttributes.map((key) => ({ key, value: 'herald-cluster-probe' })),
    });
    await handle.terminate('readiness probe of the Herald test cluster');
    return true;
  });
}
