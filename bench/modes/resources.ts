// Section resources (also printed with e2e): every process's peak and final memory and each
// process kind's CPU over the whole run on the stack, so a leak or a process that burns CPU while
// idle shows even where no single measurement points at it. The figures are taken on every stack
// and kept in the JSON; this section only decides whether the report prints them.
import type { CpuSnapshot, ProcName } from '../cpu';
import { memory } from '../proc';
import type { Stack } from '../stack';
import { fmt } from '../stats';

/** Peak and final RSS by process name (api, worker-2, temporal, ...). */
export type ProcessMemory = Record<string, ReturnType<typeof memory>>;

export function processMemory(stack: Stack): ProcessMemory {
  const processes: Array<[string, number]> = [
    ...stack.allParts().map((part): [string, number] => [part.name, part.pid]),
    ...stack.temporalPids().map((pid, i): [string, number] => [i === 0 ? 'temporal' : `temporal-${i + 1}`, pid]),
  ];
  return Object.fromEntries(processes.map(([name, pid]) => [name, memory(pid)]));
}

/** totalCpu: CPU seconds by kind over the run; replicas: of each kind; pg: Herald's data in PostgreSQL. */
export function resourcesReport(processes: ProcessMemory, totalCpu: CpuSnapshot, replicas: number, pg: boolean): string[] {
  const kindOf = (name: string): ProcName | undefined =>
    name.startsWith('accept-api')
      ? 'acceptApi'
      : name.startsWith('api')
        ? 'api'
        : name.startsWith('worker')
          ? 'worker'
          : name === 'bare-worker'
            ? 'bareWorker'
            : name.startsWith('temporal')
              ? 'temporal'
              : undefined;
  const titles: Record<ProcName, string> = {
    api: 'API (trigger path)',
    acceptApi: 'API (accept-only)',
    worker: 'Herald worker',
    temporal: 'Temporal server',
    bareWorker: 'bare-Temporal worker',
    postgres: "Herald's PostgreSQL",
  };
  const kinds: ProcName[] = ['api', 'acceptApi', 'worker', 'temporal', 'bareWorker', ...(pg ? (['postgres'] as const) : [])];
  return [
    '## Resources over the whole run',
    '',
    '| process | kind | peak RSS (VmHWM) MiB | RSS at the end MiB |',
    '|---|---|---:|---:|',
    ...Object.entries(processes).map(
      ([name, m]) => `| ${name} | ${kindOf(name) ? titles[kindOf(name)!] : ''} | ${fmt(m?.peakRssMiB ?? Number.NaN, 0)} | ${fmt(m?.rssMiB ?? Number.NaN, 0)} |`,
    ),
    '',
    `| process kind | CPU s over the run${replicas > 1 ? ' (all replicas)' : ''} |`,
    '|---|---:|',
    ...kinds.map((kind) => `| ${titles[kind]} | ${fmt(totalCpu[kind])} |`),
    '',
  ];
}
