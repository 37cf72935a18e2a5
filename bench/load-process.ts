// Runs bench/loadgen.ts in a process of its own, so that generating the load never takes CPU from
// the process being measured in the bench's own event loop, and its CPU is counted apart.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Load, LoadResult } from './loadgen';
import { repoRoot, type Stack } from './stack';

export interface RunningLoad {
  /** When the first call went out (ms since the epoch). */
  started: Promise<number>;
  result: Promise<LoadResult>;
}

/** Spawns bench/loadgen.ts as its own process; bare starts use the stack's payload keys, if any. */
export function startLoad(stack: Stack, load: Load): RunningLoad {
  const env = { ...process.env, HERALD_PAYLOAD_KEYS: stack.payloadKeys };
  if (!stack.payloadKeys) delete env.HERALD_PAYLOAD_KEYS;
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'bench/loadgen.ts'), JSON.stringify(load)], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let onStarted!: (at: number) => void;
  let onNoStart!: (error: Error) => void;
  const started = new Promise<number>((resolve, reject) => {
    onStarted = resolve;
    onNoStart = reject;
  });
  const result = new Promise<LoadResult>((resolve, reject) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), load.maxMs + 60_000);
    child.on('message', (message: { type: 'started'; at: number } | LoadResult) => {
      if (message.type === 'started') onStarted(message.at);
      else resolve(message);
    });
    child.on('exit', (code) => {
      clearTimeout(killer);
      const error = new Error(`load generator exited (code ${code}) without a result`);
      onNoStart(error);
      reject(error);
    });
  });
  return { started, result };
}
