import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskQueuePollers, workerIdentity } from '../../src/entry/readiness';
import { startFakeResend, type FakeResend } from '../support/fake-resend';
import { freePort, waitFor } from '../support/process-stack';
import { requestJson } from '../support/http-json';
import {
  attemptSummary,
  claimedExecutions,
  createLiveCampaign,
  expectEveryMessageDeliveredOnce,
  planTriggers,
  triggerWithRetry,
  type AcceptedTrigger,
} from '../faults/support/triggers';

/**
 * `npm start` for real: `src/entry/start.ts` with its own data directory, free ports and a fake
 * Resend on loopback, in a process group of its own so a test that dies takes all of it along.
 * Its children are found the way an operator would: the processes whose parent it is.
 */

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

interface Child {
  pid: number;
  args: string;
}

/** The live processes whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): Child[] {
  const children: Child[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) !== pid || state === 'Z') continue;
      children.push({ pid: Number(entry), args: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ') });
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8')
      .slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2)
      .startsWith('Z');
  } catch {
    return false;
  }
}

describe('npm start supervises the Temporal dev server, the worker and the API', () => {
  let dataDir: string;
  let fake: FakeResend;
  let supervisor: ChildProcess;
  let supervisorExit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let apiPort: number;
  let temporalPort: number;
  let baseUrl: string;
  let campaignId: string;
  const lines: { at: number; line: string }[] = [];
  const output = (last = 60) =>
    lines
      .slice(-last)
      .map((l) => l.line)
      .join('\n');
  const request = (method: string, path: string, body?: unknown) => requestJson(baseUrl, method, path, body, {}, 15_000);
  const killGroup = () => {
    try {
      process.kill(-supervisor.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const part = (name: 'temporal' | 'worker' | 'api') => {
    const match = { temporal: 'server start-dev', worker: 'src/entry/worker.ts', api: 'src/entry/api.ts' }[name];
    return childrenOf(supervisor.pid!).filter((child) => child.args.includes(match));
  };
  const lineIndex = (text: string, from = 0) => lines.findIndex((l, i) => i >= from && l.line.includes(text));

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'herald-start-'));
    fake = await startFakeResend();
    [apiPort, temporalPort] = [await freePort(), await freePort()];
    const uiPort = await freePort();
    baseUrl = `http://127.0.0.1:${apiPort}`;
    supervisor = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/entry/start.ts')], {
      cwd: repoRoot,
      // Its own process group, as a terminal gives `npm start`: Ctrl-C is a SIGINT to the group.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...(process.env.TMPDIR && { TMPDIR: process.env.TMPDIR }),
        ...(process.env.XDG_CACHE_HOME && { XDG_CACHE_HOME: process.env.XDG_CACHE_HOME }),
        ...(process.env.TEMPORAL_CLI_PATH && { TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH }),
        HERALD_DATA_DIR: dataDir,
        HOST: '127.0.0.1',
        PORT: String(apiPort),
        TEMPORAL_PORT: String(temporalPort),
        TEMPORAL_UI_PORT: String(uiPort),
        RESEND_API_KEY: fake.apiKey,
        RESEND_BASE_URL: fake.url,
        HERALD_LOG_LEVEL: 'warn',
      },
    });
    process.once('exit', killGroup);
    supervisorExit = new Promise((resolve) => supervisor.once('exit', (code, signal) => resolve({ code, signal })));
    for (const stream of [supervisor.stdout!, supervisor.stderr!]) {
      let partial = '';
      stream.on('data', (chunk: Buffer) => {
        const text = partial + chunk.toString('utf8');
        const complete = text.split('\n');
        partial = complete.pop() ?? '';
        for (const line of complete) if (line.trim()) lines.push({ at: Date.now(), line });
        if (process.env.HERALD_FAULTS_VERBOSE === '1') process.stdout.write(complete.join('\n') + '\n');
      });
    }
  }, 60_000);

  afterAll(async () => {
    if (supervisor?.exitCode === null && supervisor.signalCode === null) {
      process.kill(-supervisor.pid!, 'SIGTERM');
      await Promise.race([supervisorExit, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    }
    killGroup();
    process.removeListener('exit', killGroup);
    await fake?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('prints "ready" only once the server lists the worker as a poller, and a trigger right after runs at once', async () => {
    const ready = await waitFor(
      () => `"[herald] ready:" in the output:\n${output()}`,
      () => lines.find((l) => l.line.startsWith('[herald] ready:')),
      180_000,
      20,
    );
    // Asked the moment the line appears: the worker the supervisor started polls the task queue.
    const connection = await Connection.connect({ address: `127.0.0.1:${temporalPort}` });
    try {
      const pollers = await taskQueuePollers(connection, 'default', 'herald');
      const [worker] = part('worker');
      expect(worker, output()).toBeDefined();
      expect(pollers).toContain(workerIdentity(worker!.pid));
    } finally {
      await connection.close();
    }
    expect(ready.line).toBe(`[herald] ready: API ${baseUrl}, worker polling task queue herald (1 poller)`);
    expect(lineIndex('[worker] polling task queue')).toBeLessThan(lines.indexOf(ready));

    campaignId = await createLiveCampaign(request);
    const [trigger] = planTriggers(campaignId, 'after-ready', 1, 1);
    const { executionId } = await triggerWithRetry(baseUrl, trigger!);
    const execution = await waitFor(
      'the first execution to finish',
      async () => {
        const { body } = await request('GET', `/v1/executions/${executionId}`);
        return body.status !== 'running' && body;
      },
      30_000,
    );
    expect(execution.status).toBe('completed');
    // The worker was polling already: no wait for a worker to show up.
    expect(Date.parse(execution.completedAt) - Date.parse(execution.createdAt)).toBeLessThan(3_000);
  }, 240_000);

  it('restarts a SIGKILLed dev server on the same port and temporal.db; worker and API ride it out and every trigger completes once', async () => {
    const [server] = part('temporal');
    const [worker] = part('worker');
    const [api] = part('api');
    expect([server, worker, api].every(Boolean), output()).toBe(true);
    fake.reset(); // the first test's message is not this one's
    const before = planTriggers(campaignId, 'before', 5, 2);
    const during = planTriggers(campaignId, 'during', 10, 2, 5);
    const accepted: AcceptedTrigger[] = await Promise.all(before.map((t) => triggerWithRetry(baseUrl, t)));
    const restartsBefore = lines.length;

    process.kill(server!.pid, 'SIGKILL');
    // Sent while the server is gone and while it comes back: the client retries 503s with the same requestId.
    const duringCalls = during.map((t) => triggerWithRetry(baseUrl, t, { deadlineMs: 120_000, attemptTimeoutMs: 5_000 }));
    await waitFor(
      () => `the supervisor to report the server back:\n${output()}`,
      () => lineIndex('the Temporal dev server is back', restartsBefore) >= 0,
      60_000,
    );
    expect(lines.slice(restartsBefore).some((l) => l.line.includes('the Temporal dev server exited (SIGKILL); restarting it'))).toBe(true);
    const [restarted] = part('temporal');
    expect(restarted!.pid).not.toBe(server!.pid);
    expect(restarted!.args).toContain(`--port ${temporalPort}`);
    expect(restarted!.args).toContain(`--db-filename ${join(dataDir, 'temporal.db')}`);
    expect(restarted!.args).toBe(server!.args);

    const duringAccepted = await Promise.all(duringCalls);
    console.info(
      `[start-supervision] server back ${lines[lineIndex('the Temporal dev server is back', restartsBefore)]!.at - lines[lineIndex('restarting it', restartsBefore)]!.at} ms after the restart was scheduled; attempts of the calls made meanwhile: ${attemptSummary(duringAccepted)}`,
    );
    accepted.push(...duringAccepted);
    const executions = new Map<string, any>();
    for (const { executionId } of accepted) {
      executions.set(
        executionId,
        await waitFor(
          `execution ${executionId} to finish`,
          async () => {
            const { status, body } = await request('GET', `/v1/executions/${executionId}`);
            return status === 200 && body.status !== 'running' && body;
          },
          120_000,
          200,
        ),
      );
    }
    // One execution per requestId, the one the client was given, and one message per recipient.
    const claimed = await claimedExecutions({ dialect: 'sqlite', path: join(dataDir, 'herald.db') });
    for (const call of accepted) expect(claimed.get(call.trigger.requestId), call.trigger.requestId).toBe(call.executionId);
    expectEveryMessageDeliveredOnce(fake, accepted, executions);
    expect(Object.values(fake.deliveriesByRecipient()).every((count) => count === 1)).toBe(true);

    // Only the server was restarted: the worker and the API are the same processes.
    expect(part('worker').map((c) => c.pid)).toEqual([worker!.pid]);
    expect(part('api').map((c) => c.pid)).toEqual([api!.pid]);
    expect(lines.slice(restartsBefore).filter((l) => /^\[herald\] (worker|api) exited/.test(l.line))).toEqual([]);
    await waitFor(
      () => `"ready again" after the restart:\n${output()}`,
      () => lineIndex('[herald] ready again:', restartsBefore) >= 0,
      30_000,
    );
  }, 300_000);

  it('/health/ready answers 503 while Temporal does not answer and 200 once it does again; a trigger meanwhile is accepted and runs', async () => {
    const [server] = part('temporal');
    const [trigger] = planTriggers(campaignId, 'frozen', 1, 1);
    // Frozen, not dead: the supervisor has nothing to restart, and the server is unreachable until SIGCONT.
    let acceptedId: string | undefined;
    process.kill(server!.pid, 'SIGSTOP');
    try {
      await waitFor('/health/ready to answer 503', async () => (await request('GET', '/health/ready')).status === 503, 30_000);
      const { body } = await request('GET', '/health/ready');
      expect(body).toEqual({ type: 'not-ready', title: 'Not ready', status: 503 });
      // A trigger meanwhile is accepted from its claim, synced to disk, once HERALD_START_WAIT_MS
      // is over (ADR 0011): the API tries its start again until Temporal answers.
      const accepted = await fetch(`${baseUrl}/v1/executions/unitary`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(trigger),
      });
      expect(accepted.status).toBe(202);
      acceptedId = ((await accepted.json()) as { executionId: string }).executionId;
    } finally {
      process.kill(server!.pid, 'SIGCONT');
    }
    await waitFor('/health/ready to answer 200', async () => (await request('GET', '/health/ready')).status === 200, 30_000);
    expect(part('temporal').map((c) => c.pid)).toEqual([server!.pid]);
    // Sent again, it is the same execution, which its retried start runs.
    const { executionId } = await triggerWithRetry(baseUrl, trigger!);
    expect(executionId).toBe(acceptedId);
    const execution = await waitFor(
      'the trigger accepted meanwhile to finish',
      async () => {
        const { body } = await request('GET', `/v1/executions/${executionId}`);
        return body.status !== 'running' && body;
      },
      60_000,
    );
    expect(execution.status).toBe('completed');
  }, 120_000);

  it('Ctrl-C while the dev server is being restarted stops everything', async () => {
    const pids = [...part('temporal'), ...part('worker'), ...part('api')].map((c) => c.pid);
    expect(pids).toHaveLength(3);
    const from = lines.length;
    process.kill(pids[0]!, 'SIGKILL');
    await waitFor(
      () => `the restart to be scheduled:\n${output()}`,
      () => lineIndex('the Temporal dev server exited (SIGKILL); restarting it', from) >= 0,
      30_000,
      10,
    );
    // What a terminal does on Ctrl-C: SIGINT to the whole foreground group.
    process.kill(-supervisor.pid!, 'SIGINT');
    const exit = await Promise.race([supervisorExit, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 60_000))]);
    expect(exit, output()).toEqual({ code: 0, signal: null });
    expect(lines.map((l) => l.line)).toContain('[herald] stopped');
    await waitFor('every process of the group to be gone', () => pids.every((pid) => !alive(pid)), 10_000);
    // No dev server was started after the Ctrl-C.
    expect(lines.slice(from).filter((l) => l.line.includes('the Temporal dev server is back'))).toEqual([]);
    let group: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === supervisor.pid) group.push(Number(entry));
      } catch {
        // gone meanwhile
      }
    }
    group = group.filter(alive);
    expect(group, 'processes left in the group').toEqual([]);
  }, 120_000);
});
