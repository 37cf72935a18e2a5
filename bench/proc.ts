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
