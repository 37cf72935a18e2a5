// Summarizes V8 .cpuprofile files (node --cpu-prof): self time by package/area and the top
// functions. `npx tsx bench/profile-summary.ts <dir>` or used by bench/run.ts --profile.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where a frame's code lives: an npm package, a repo folder, Node itself or a V8 pseudo-frame. */
export function area(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  const repo = /\/(src\/[^/]+|activities|workflows|bench|temporal)\//.exec(url);
  if (repo) return repo[1]!;
  return url.length > 60 ? `…${url.slice(-60)}` : url;
}

function summarizeOne(profile: CpuProfile, top: number): { busy: number; text: string } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self.entries()].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, v]) => a + v, 0);
  const busy = total - idle;
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  /** The nearest frame (itself or a caller) in a package or in the repo: who asked for the work. */
  const owner = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      const where = area(frame.url, frame.functionName);
      if (where !== 'node internals' && where !== '(native)' && where !== '(root)') return where;
    }
    return 'node internals';
  };
  const areas = new Map<string, number>();
  const owners = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') continue;
    const where = area(frame.url, frame.functionName);
    areas.set(where, (areas.get(where) ?? 0) + us);
    const who = owner(id);
    owners.set(who, (owners.get(who) ?? 0) + us);
    const fn = `${frame.functionName || '(anonymous)'} ${where}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1)}%`;
  const list = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => `  ${pct(us).padStart(6)}  ${(us / 1e6).toFixed(2).padStart(6)} s  ${name}`)
      .join('\n');
  const text = [
    `busy ${(busy / 1e6).toFixed(2)} s of ${(total / 1e6).toFixed(2)} s sampled`,
    'self time by area:',
    list(areas),
    'self time by owner (Node internals and native code charged to the nearest package or repo frame that called them):',
    list(owners),
    'top functions (self time):',
    list(functions),
  ].join('\n');
  return { busy, text };
}

/** One section per .cpuprofile in `dir` (a process writes one per thread), busiest first. */
export function summarizeProfiles(dir: string, top = 15): string {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return `(no profiles in ${dir})`;
  }
  if (files.length === 0) return `(no profiles in ${dir}; did the process exit cleanly?)`;
  const profiles = files.map((file) => ({ file, profile: JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile }));
  const summaries = profiles.map(({ file, profile }) => ({ file, ...summarizeOne(profile, top) }));
  summaries.sort((a, b) => b.busy - a.busy);
  return summaries.map(({ file, text }) => `### ${file}\n${text}`).join('\n\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(summarizeProfiles(process.argv[2] ?? '.', Number(process.argv[3] ?? '25')));
}
