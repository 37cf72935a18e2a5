// CPU seconds by process kind, read from /proc before and after a measurement: throughput on a
// shared 2-core machine moves with background load, CPU spent per trigger far less, so every mode
// reports both.
import { cpuSeconds, treeCpuSeconds } from './proc';
import type { Stack } from './stack';
import { fmt } from './stats';

/**
 * CPU by process kind, summed over replicas: api (trigger APIs), acceptApi (accept-only APIs),
 * worker (Herald workers), temporal (the dev server, or the cluster's server and its own
 * PostgreSQL), bareWorker, and postgres (Herald's PostgreSQL server: postmaster and backends; NaN
 * on SQLite, whose work is inside the API and worker processes).
 */
export type ProcName = 'api' | 'acceptApi' | 'worker' | 'temporal' | 'bareWorker' | 'postgres';
export type CpuSnapshot = Record<ProcName, number>;

function pids(stack: Stack): Record<Exclude<ProcName, 'postgres' | 'temporal'>, number[]> {
  const { apis, acceptApis, workers, bareWorker } = stack.parts;
  return { api: apis.map((p) => p.pid), acceptApi: acceptApis.map((p) => p.pid), worker: workers.map((p) => p.pid), bareWorker: [bareWorker.pid] };
}

const sumCpu = (list: number[]) => (list.length === 0 ? Number.NaN : list.reduce((sum, pid) => sum + cpuSeconds(pid), 0));

export function cpuSnapshot(stack: Stack): CpuSnapshot {
  const all = pids(stack);
  const byKind = Object.fromEntries(Object.entries(all).map(([name, list]) => [name, sumCpu(list)]));
  return { ...byKind, temporal: stack.temporalCpuSeconds(), postgres: stack.postgresPid ? treeCpuSeconds(stack.postgresPid) : Number.NaN } as CpuSnapshot;
}

/** NaN (no such process, e.g. PostgreSQL on SQLite) counts as 0 in totals. */
const z = (n: number) => (Number.isFinite(n) ? n : 0);
/** Herald's CPU for its triggers: APIs, workers, its PostgreSQL (if any) and Temporal. */
export const heraldCpu = (cpu: CpuSnapshot) => cpu.api + cpu.worker + cpu.temporal + z(cpu.postgres);

export const cpuDelta = (before: CpuSnapshot, after: CpuSnapshot) =>
  Object.fromEntries(Object.keys(before).map((k) => [k, after[k as ProcName] - before[k as ProcName]])) as CpuSnapshot;

/** CPU ms per trigger of a run, by kind. */
export const msPer = (seconds: number, count: number) => (1000 * seconds) / count;

/** CPU seconds per 1,000 triggers or calls, as the tables print it. */
export const per1k = (seconds: number, count: number) => fmt((1000 * seconds) / count, 2);
