// Linux /proc sampling: CPU seconds (utime+stime) and peak RSS (VmHWM) of one process.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

let clockTicks: number | undefined;

/** USER_HZ, the unit of utime/stime in /proc/<pid>/stat (100 on almost every Linux). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: the fields after it start after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds the process has used so far (user + system), or NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  if (!fields) return Number.NaN;
  // After comm: [0]=state [1]=ppid ... [11]=utime [12]=stime (fields 14 and 15 of stat(5)).
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
}

export interface Memory {
  /** Peak resident set size so far, MiB. */
  peakRssMiB: number;
  /** Current resident set size, MiB. */
  rssMiB: number;
}

export function memory(pid: number): Memory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { peakRssMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024 };
  } catch {
    return undefined;
  }
}

/** Direct children of `parentPid` whose command name is `comm`. */
export function childrenNamed(parentPid: number, comm: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const fields = statFields(pid);
    if (!fields || Number(fields[1]) !== parentPid) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm) found.push(pid);
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/**
 * CPU seconds of a process and all its children so far: its own utime+stime, the cutime+cstime of
 * the children it has reaped, and the utime+stime of its live children (one level down, which is
 * all a PostgreSQL postmaster has: every backend and auxiliary process is its direct child).
 * Deltas stay right across children that start or end between two readings. NaN once it is gone.
 */
export function treeCpuSeconds(pid: number): number {
  const fields = statFields(pid);
  if (!fields) return Number.NaN;
  // [13]=cutime [14]=cstime (fields 16 and 17 of stat(5)).
  let ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = statFields(Number(entry));
    if (child && Number(child[1]) === pid) ticks += Number(child[11]) + Number(child[12]);
  }
  return ticks / ticksPerSecond();
}

/** The PostgreSQL postmaster listening on `port`: a `postgres` process whose command line has `-p <port>`. */
export function postmasterOnPort(port: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const at = args.indexOf('-p');
      if (at >= 0 && args[at + 1] === String(port)) return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  return undefined;
}
