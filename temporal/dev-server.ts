import { TestWorkflowEnvironment } from '@temporalio/testing';
import { heraldSearchAttributes } from '../workflows/search-attributes';
import { resolveTemporalExecutable } from './cli-binary';

export interface DevServerOptions {
  port?: number;
  /** Set to serve the Web UI; unset for headless test servers. */
  uiPort?: number;
  /**
   * The Web UI decodes payloads through this remote codec endpoint (`--ui-codec-endpoint`), e.g.
   * Herald's `http://127.0.0.1:3000/v1/codec`. The browser calls it, so it must be reachable from there.
   */
  uiCodecEndpoint?: string;
  /** Persist to this SQLite file; unset keeps everything in memory. */
  dbFilename?: string;
  /**
   * SQLite pragmas for the persisted store. The default turns on WAL: the CLI's rollback journal
   * serialises every reader behind the writer and halves workflow-start throughput.
   */
  sqlitePragmas?: Record<string, string>;
  namespace?: string;
  cliPath?: string;
  log?: (line: string) => void;
}

/** WAL without giving up durability: every commit is still synced. */
export const durableWalPragmas: Record<string, string> = { journal_mode: 'wal', synchronous: 'full' };

/**
 * One partition per task queue. The server splits each task queue into 4 partitions by default,
 * so that many matching hosts can share a busy queue; the dev server is one host, and with a
 * few pollers a task written to a partition no poller is on waits to be forwarded: in 5 of 20
 * batches of 30 workflows one workflow task sat 2.1-2.2 s before a worker got it (0 of 20 with
 * one partition). A production cluster keeps its own setting.
 */
export const singlePartitionTaskQueues: Record<string, string> = { 'matching.numTaskqueueReadPartitions': '1', 'matching.numTaskqueueWritePartitions': '1' };

function dynamicConfigArgs(values: Record<string, string>): string[] {
  return Object.entries(values).flatMap(([name, value]) => ['--dynamic-config-value', `${name}=${value}`]);
}

function pragmaArgs(pragmas: Record<string, string>): string[] {
  return Object.entries(pragmas).flatMap(([name, value]) => ['--sqlite-pragma', `${name}=${value}`]);
}

/**
 * Starts the Temporal CLI dev server with Herald's search attributes registered. The SDK's
 * ephemeral-server manager owns the child process, so the same code path serves `npm start`,
 * the tests and the SDK-download fallback.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<TestWorkflowEnvironment> {
  const executable = resolveTemporalExecutable(options.cliPath, options.log);
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable,
      ip: '127.0.0.1',
      ...(options.port !== undefined && { port: options.port }),
      ...(options.uiPort !== undefined ? { ui: true, uiPort: options.uiPort } : { ui: false }),
      ...(options.dbFilename !== undefined && { dbFilename: options.dbFilename }),
      namespace: options.namespace ?? 'default',
      searchAttributes: heraldSearchAttributes,
      extraArgs: [
        '--log-level',
        'warn',
        ...dynamicConfigArgs(singlePartitionTaskQueues),
        ...(options.dbFilename !== undefined ? pragmaArgs(options.sqlitePragmas ?? durableWalPragmas) : []),
        ...(options.uiCodecEndpoint !== undefined ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
      ],
    },
  });
}
