// `npm run bench:compare`: the end-to-end section of `npm run bench` (1, 5 and 20 recipients per
// trigger, each against bare Temporal on the same server) for two builds side by side, in one run.
//
// Variants, each run by its own build's bench/run.ts against its own src/, workflows/, activities/:
//   baseline        BENCH_BASELINE_REF (default 9da7a0f), exported with `git archive` into a temporary directory
//   new             the current working tree (a frozen copy, see below), payload codec on (as npm start)
//   new-codec-off   the same copy with BENCH_CODEC=off: no HERALD_PAYLOAD_KEYS, Temporal's default converter
// Rounds are interleaved, every other round in reverse (A B C, C B A, A B C ...), so machine drift,
// linear drift included, weighs on every variant alike. Every run gets a fresh stack, its own data
// dir (TMPDIR) and its own ports (BENCH_PORT_BASE + 300 × run index).
//
// Knobs (environment):
//   BENCH_BASELINE_REF      git ref of the baseline build (default 9da7a0f)
//   BENCH_COMPARE_NEW_REF   compare against this ref instead of the working tree (e.g. the baseline
//                           again, for an A/A run that shows the noise floor)
//   BENCH_COMPARE_VARIANTS  comma list, default baseline,new,new-codec-off
//   BENCH_COMPARE_ROUNDS    rounds (default 2, at least 1; 2+ to see a spread)
//   BENCH_SCALE             passed to each bench run (default 0.6 here: 2 × 180, 2 × 48 and 2 × 18
//                           triggers per side at 1, 5 and 20 recipients). A run costs ~1 min of stack
//                           start and warm-up plus the triggers: 3 variants × 2 rounds take ~7 min on a
//                           quiet 2-vCPU machine and ~15–20 min while tests run beside it. BENCH_SCALE=1
//                           (the bench's own default) took 24.6 min at load 6–13, ~10 min quiet.
//   BENCH_PORT_BASE         first run's port base (default 20000)
//   BENCH_COMPARE_OUT       output directory (default $TMPDIR/herald-bench-compare-<time>)
//   BENCH_COMPARE_RUN_TIMEOUT_S  a run that takes longer is stopped and counted as failed (default 1200)
//
// Node modules: both builds use /work/main's node_modules through a symlink (the baseline needs no
// package the working tree dropped). Both builds are removed at the end, also on failure or Ctrl-C.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  createWriteStream,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const BASELINE_REF = process.env.BENCH_BASELINE_REF || '9da7a0f';
const NEW_REF = process.env.BENCH_COMPARE_NEW_REF || undefined;
const ROUNDS = Math.max(1, Math.floor(Number(process.env.BENCH_COMPARE_ROUNDS ?? '2') || 2));
const SCALE = process.env.BENCH_SCALE || '0.6';
const PORT_BASE = Number(process.env.BENCH_PORT_BASE ?? '20000') || 20000;
const RUN_TIMEOUT_MS = 1000 * (Number(process.env.BENCH_COMPARE_RUN_TIMEOUT_S ?? '1200') || 1200);
const OUT = process.env.BENCH_COMPARE_OUT || join(tmpdir(), `herald-bench-compare-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}`);
/** The bench section that runs the end-to-end pairs at 1, 5 and 20 recipients. */
const SECTION = 'growth-recipients';

const VARIANTS = {
  baseline: { build: 'baseline', codec: undefined, title: 'baseline' },
  new: { build: 'new', codec: 'on', title: 'new' },
  'new-codec-off': { build: 'new', codec: 'off', title: 'new, codec off' },
} as const;
type VariantName = keyof typeof VARIANTS;
const variantNames = (process.env.BENCH_COMPARE_VARIANTS || 'baseline,new,new-codec-off').split(',').map((v) => v.trim()) as VariantName[];
const badVariant = variantNames.find((v) => !(v in VARIANTS));
if (badVariant || variantNames.length === 0) {
  console.error(`BENCH_COMPARE_VARIANTS: unknown variant "${badVariant}"; use a comma list of ${Object.keys(VARIANTS).join(', ')}`);
  process.exit(2);
}

const log = (line: string) => console.error(`[compare ${new Date().toISOString().slice(11, 19)}] ${line}`);
const gitRaw = (...args: string[]) => execFileSync('git', ['-C', MAIN, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const git = (...args: string[]) => gitRaw(...args).trim();

// ---------------------------------------------------------------------------------------------
// Builds

interface Build {
  name: 'baseline' | 'new';
  dir: string;
  /** What it is, for the report. */
  description: string;
  cleanup: () => void;
}

function linkNodeModules(dir: string): void {
  symlinkSync(join(MAIN, 'node_modules'), join(dir, 'node_modules'), 'dir');
}

/** Never follow the symlink into /work/main/node_modules when deleting a build. */
function unlinkNodeModules(dir: string): void {
  const link = join(dir, 'node_modules');
  try {
    if (lstatSync(link).isSymbolicLink()) unlinkSync(link);
  } catch {
    // Not there.
  }
}

/** Cleanups run from the normal path and from a signal handler: only the first call acts. */
function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

/**
 * A build of a commit: its tree exported with `git archive` into a temporary directory. Reading the
 * repository only (no worktree entry, nothing to prune), so a compare never changes the
 * repository others work in, and a run killed midway leaves a directory in $TMPDIR, nothing more.
 */
function commitBuild(name: Build['name'], ref: string): Build {
  const commit = git('rev-parse', '--verify', `${ref}^{commit}`);
  const subject = git('log', '-1', '--format=%s', commit);
  const dir = mkdtempSync(join(tmpdir(), `herald-bench-${name}-`));
  const cleanup = once(() => {
    unlinkNodeModules(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    const tar = join(dir, '.build.tar');
    git('archive', '--format=tar', '-o', tar, commit);
    execFileSync('tar', ['-xf', tar, '-C', dir]);
    rmSync(tar);
    linkNodeModules(dir);
  } catch (error) {
    cleanup();
    throw error;
  }
  return { name, dir, description: `\`${commit.slice(0, 7)}\` (${subject.length > 90 ? `${subject.slice(0, 87)}...` : subject})`, cleanup };
}

/**
 * A frozen copy of the working tree: tracked files as they are on disk and untracked files that
 * are not ignored. Other people keep editing /work/main during a compare run; every round of
 * "new" must measure the same code.
 */
function workingTreeBuild(): Build {
  const head = git('rev-parse', '--short', 'HEAD');
  const changed = git('status', '--porcelain').split('\n').filter(Boolean).length;
  const files = execFileSync('git', ['-C', MAIN, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-new-'));
  const hash = createHash('sha256');
  try {
    for (const file of [...new Set(files)].sort()) {
      const from = join(MAIN, file);
      let stat: ReturnType<typeof lstatSync>;
      try {
        stat = lstatSync(from);
      } catch {
        continue; // deleted in the working tree
      }
      if (!stat.isFile()) continue;
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      copyFileSync(from, join(dir, file));
      hash.update(file).update('\0').update(readFileSync(from)).update('\0');
    }
    linkNodeModules(dir);
  } catch (error) {
    unlinkNodeModules(dir);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    name: 'new',
    dir,
    description: `working tree on \`${head}\` with ${changed} changed or new files, copied at ${new Date().toISOString().slice(0, 19)}Z (content sha256 ${hash.digest('hex').slice(0, 12)})`,
    cleanup: once(() => {
      unlinkNodeModules(dir);
      rmSync(dir, { recursive: true, force: true });
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// One bench run

/** The subset of bench/run.ts's JSON this tool reads (unchanged since the bench's first commit). */
interface CpuSnapshot {
  api: number;
  worker: number;
  temporal: number;
  bareWorker: number;
}
interface E2eJson {
  triggers: number;
  seconds: number;
  perSecond: number;
  delivered: number;
  failedRecipients: number;
  latencies: { p50: number; p99: number };
  cpu: CpuSnapshot;
  timedOut: boolean;
}
interface HistoryJson {
  events: number;
  bytes: number;
  workflowTasks: number;
  markers: number;
  activityTasks: number;
  encryptedPayloads?: number;
  plainPayloads?: number;
}
interface PairJson {
  recipients: number;
  herald: E2eJson;
  bare: E2eJson;
  heraldHistory?: HistoryJson;
  bareHistory?: HistoryJson;
}
interface ResultsJson {
  codec?: string;
  bareShape?: string;
  pairs: PairJson[];
}

/** What the compare table uses, per run and recipients count. */
interface Figures {
  triggersPerSecond: number;
  barePerSecond: number;
  throughputRatio: number;
  apiCpuMs: number;
  workerCpuMs: number;
  temporalCpuMs: number;
  heraldCpuMs: number;
  bareCpuMs: number;
  cpuRatio: number;
  acceptP99Ms: number;
  historyEvents: number;
  historyBytes: number;
  historyMarkers: number;
  historyWorkflowTasks: number;
  historyActivityTasks: number;
  historyEncrypted: number;
  historyPlain: number;
  bareHistoryEvents: number;
  bareHistoryBytes: number;
}

function figures(p: PairJson): Figures {
  const ms = (seconds: number, count: number) => (1000 * seconds) / count;
  const h = p.herald;
  const b = p.bare;
  const heraldCpuMs = ms(h.cpu.api + h.cpu.worker + h.cpu.temporal, h.triggers);
  const bareCpuMs = ms(b.cpu.bareWorker + b.cpu.temporal, b.triggers);
  return {
    triggersPerSecond: h.perSecond,
    barePerSecond: b.perSecond,
    throughputRatio: h.perSecond / b.perSecond,
    apiCpuMs: ms(h.cpu.api, h.triggers),
    workerCpuMs: ms(h.cpu.worker, h.triggers),
    temporalCpuMs: ms(h.cpu.temporal, h.triggers),
    heraldCpuMs,
    bareCpuMs,
    cpuRatio: bareCpuMs / heraldCpuMs,
    acceptP99Ms: h.latencies?.p99 ?? Number.NaN,
    historyEvents: p.heraldHistory?.events ?? Number.NaN,
    historyBytes: p.heraldHistory?.bytes ?? Number.NaN,
    historyMarkers: p.heraldHistory?.markers ?? Number.NaN,
    historyWorkflowTasks: p.heraldHistory?.workflowTasks ?? Number.NaN,
    historyActivityTasks: p.heraldHistory?.activityTasks ?? Number.NaN,
    historyEncrypted: p.heraldHistory?.encryptedPayloads ?? Number.NaN,
    historyPlain: p.heraldHistory?.plainPayloads ?? Number.NaN,
    bareHistoryEvents: p.bareHistory?.events ?? Number.NaN,
    bareHistoryBytes: p.bareHistory?.bytes ?? Number.NaN,
  };
}

interface RunRecord {
  variant: VariantName;
  round: number;
  index: number;
  portBase: number;
  ok: boolean;
  seconds: number;
  /** Per recipients count. */
  figures: Record<number, Figures>;
  problems: string[];
  error?: string;
  logFile: string;
  markdownFile: string;
  jsonFile?: string;
  /** The codec the run reports (new builds only); undefined for a build whose bench predates it. */
  codec?: string;
  /** Which shape of the trigger workflow the bare workflow mirrored, when the bench says. */
  bareShape?: string;
}

let current: ChildProcess | undefined;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Stops a run: SIGTERM to the bench process, whose own handler stops its stack; its whole process
 * group gets SIGKILL if it is not gone within 60 s (runBench kills what is left once it exits).
 */
function stopRun(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const hard = setTimeout(() => killGroup(child, 'SIGKILL'), 60_000);
    child.once('exit', () => {
      clearTimeout(hard);
      resolve();
    });
    try {
      process.kill(child.pid!, 'SIGTERM');
    } catch {
      // Already gone.
    }
  });
}

function findJson(runTmp: string, wanted: string, stderrText: string): string | undefined {
  if (existsSync(wanted)) return wanted;
  // Builds whose bench predates BENCH_JSON write $TMPDIR/herald-bench-<id>.json and log its path.
  const logged = /raw results in (\S+\.json)/.exec(stderrText)?.[1];
  if (logged && existsSync(logged)) return logged;
  const found = existsSync(runTmp) ? readdirSync(runTmp).filter((f) => /^herald-bench-.*\.json$/.test(f)) : [];
  return found.length === 1 ? join(runTmp, found[0]!) : undefined;
}

async function runBench(build: Build, variant: VariantName, round: number, index: number): Promise<RunRecord> {
  const portBase = PORT_BASE + 300 * index;
  const name = `r${round}-${variant}`;
  const runTmp = join(OUT, 'tmp', name);
  mkdirSync(runTmp, { recursive: true });
  const logFile = join(OUT, `${name}.log`);
  const markdownFile = join(OUT, `${name}.md`);
  const wantedJson = join(OUT, `${name}.json`);
  const codec = VARIANTS[variant].codec;
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('BENCH_')) env[key] = value;
  // BENCH_CEILING=off: builds whose bench runs the ceiling (one-local-activity) would otherwise
  // interleave extra runs into their 1-recipient pair that older builds do not.
  Object.assign(env, {
    BENCH_SCALE: SCALE,
    BENCH_PORT_BASE: String(portBase),
    BENCH_JSON: wantedJson,
    TMPDIR: runTmp,
    BENCH_CEILING: 'off',
    ...(codec && { BENCH_CODEC: codec }),
  });
  log(`round ${round}/${ROUNDS}, ${VARIANTS[variant].title}: ${build.dir}/bench/run.ts ${SECTION}, ports ${portBase}/${portBase + 1}/${portBase + 233} ...`);
  const started = Date.now();
  const record: RunRecord = { variant, round, index, portBase, ok: false, seconds: 0, figures: {}, problems: [], logFile, markdownFile };
  const out = createWriteStream(markdownFile);
  const err = createWriteStream(logFile);
  let stderrText = '';
  const child = spawn(process.execPath, ['--import', 'tsx', join(build.dir, 'bench/run.ts'), SECTION], {
    cwd: build.dir,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  current = child;
  child.stdout!.pipe(out);
  child.stderr!.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    stderrText = (stderrText + text).slice(-200_000);
    err.write(chunk);
    for (const line of text.split('\n')) if (line.startsWith('[bench ')) console.error(`    ${line}`);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    log(`${name} still running after ${RUN_TIMEOUT_MS / 1000} s: stopping it`);
    void stopRun(child);
  }, RUN_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  current = undefined;
  // The bench stops its own stack; this only catches a process left behind by a crash.
  killGroup(child, 'SIGKILL');
  await Promise.all([new Promise((r) => out.end(r)), new Promise((r) => err.end(r))]);
  record.seconds = (Date.now() - started) / 1000;

  const jsonFile = findJson(runTmp, wantedJson, stderrText);
  if (jsonFile && jsonFile !== wantedJson) renameSync(jsonFile, wantedJson);
  rmSync(runTmp, { recursive: true, force: true });
  if (code !== 0 || timedOut || !existsSync(wantedJson)) {
    const tail = stderrText.trim().split('\n').slice(-8).join('\n');
    record.error = `${timedOut ? 'timed out' : `exit code ${code}`}${existsSync(wantedJson) ? '' : ', no results JSON'}; last lines of ${logFile}:\n${tail}`;
    log(`${name} FAILED after ${record.seconds.toFixed(0)} s: ${record.error}`);
    return record;
  }
  record.jsonFile = wantedJson;
  const parsed = JSON.parse(readFileSync(wantedJson, 'utf8')) as ResultsJson[] | ResultsJson;
  const results = Array.isArray(parsed) ? parsed[0]! : parsed;
  record.codec = results.codec;
  record.bareShape = results.bareShape;
  for (const pair of results.pairs ?? []) {
    record.figures[pair.recipients] = figures(pair);
    const h = pair.herald;
    if (h.timedOut || pair.bare.timedOut) record.problems.push(`${pair.recipients} rcpt: a side timed out`);
    if (h.failedRecipients > 0) record.problems.push(`${pair.recipients} rcpt: ${h.failedRecipients} recipients not sent`);
    if (h.delivered !== h.triggers * pair.recipients)
      record.problems.push(`${pair.recipients} rcpt: ${h.delivered} of ${h.triggers * pair.recipients} in the outbox`);
  }
  // A build whose bench predates BENCH_CODEC reports no codec (and has none to turn on).
  if (codec && record.codec !== undefined && record.codec !== codec) record.problems.push(`asked for codec ${codec}, the run reports ${record.codec}`);
  record.ok = record.problems.length === 0 && Object.keys(record.figures).length > 0;
  const summary = Object.entries(record.figures)
    .map(([n, f]) => `${n} rcpt ${f.triggersPerSecond.toFixed(1)}/s (${(100 * f.throughputRatio).toFixed(0)}% of bare, ${f.heraldCpuMs.toFixed(1)} CPU ms)`)
    .join('; ');
  log(`${name} done in ${record.seconds.toFixed(0)} s: ${summary}${record.problems.length ? ` — PROBLEMS: ${record.problems.join('; ')}` : ''}`);
  return record;
}

// ---------------------------------------------------------------------------------------------
// Report

const median = (values: number[]) => {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
};
/** Triggers per half-run at a bench count, as bench/run.ts computes them (scaled, then halved). */
const half = (count: number) => Math.ceil(Math.max(10, Math.round(count * (Number(SCALE) || 1))) / 2);
const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

interface Metric {
  key: keyof Figures;
  title: string;
  digits: number;
  percent?: boolean;
}

const METRICS: Metric[] = [
  { key: 'triggersPerSecond', title: 'Herald triggers/s end to end ↑', digits: 1 },
  { key: 'barePerSecond', title: 'bare Temporal workflows/s, same stack ↑', digits: 1 },
  { key: 'throughputRatio', title: 'Herald / bare, throughput ↑', digits: 0, percent: true },
  { key: 'apiCpuMs', title: 'CPU ms / trigger: API ↓', digits: 2 },
  { key: 'workerCpuMs', title: 'CPU ms / trigger: worker ↓', digits: 2 },
  { key: 'temporalCpuMs', title: 'CPU ms / trigger: Temporal server ↓', digits: 2 },
  { key: 'heraldCpuMs', title: 'CPU ms / trigger: Herald total ↓', digits: 2 },
  { key: 'bareCpuMs', title: 'CPU ms / workflow: bare (worker + server) ↓', digits: 2 },
  { key: 'cpuRatio', title: 'bare / Herald, CPU per trigger ↑', digits: 0, percent: true },
  { key: 'acceptP99Ms', title: 'accept p99 ms under load ↓', digits: 0 },
  { key: 'historyEvents', title: 'history events / trigger', digits: 0 },
  { key: 'historyBytes', title: 'history bytes / trigger', digits: 0 },
];

function cell(values: number[], metric: Metric): string {
  const v = values.filter(Number.isFinite);
  if (v.length === 0) return 'n/a';
  const k = metric.percent ? 100 : 1;
  const m = fmt(k * median(v), metric.digits);
  const suffix = metric.percent ? '%' : '';
  if (v.length === 1) return `${m}${suffix}`;
  const lo = fmt(k * Math.min(...v), metric.digits);
  const hi = fmt(k * Math.max(...v), metric.digits);
  return lo === hi ? `${m}${suffix}` : `${m}${suffix} (${lo}–${hi})`;
}

/** Ratio of medians, with the range of the per-round ratios (rounds are paired: same position in time). */
function ratioCell(runs: RunRecord[], top: VariantName, bottom: VariantName, recipients: number, key: keyof Figures): string {
  const of = (variant: VariantName) => runs.filter((r) => r.variant === variant && r.figures[recipients]);
  const a = of(top);
  const b = of(bottom);
  if (a.length === 0 || b.length === 0) return '–';
  const ratio = median(a.map((r) => r.figures[recipients]![key])) / median(b.map((r) => r.figures[recipients]![key]));
  if (!Number.isFinite(ratio)) return 'n/a';
  const paired = a
    .flatMap((ra) => {
      const rb = b.find((x) => x.round === ra.round);
      return rb ? [ra.figures[recipients]![key] / rb.figures[recipients]![key]] : [];
    })
    .filter(Number.isFinite);
  const range = paired.length > 1 ? ` (${fmt(Math.min(...paired), 2)}–${fmt(Math.max(...paired), 2)})` : '';
  return `${fmt(ratio, 2)}×${range}`;
}

function report(
  runs: RunRecord[],
  builds: Partial<Record<Build['name'], Build>>,
  meta: { startedAt: Date; seconds: number; loadStart: number[]; loadEnd: number[]; benchDiff: string },
): string {
  const used = variantNames;
  const okRuns = runs.filter((r) => Object.keys(r.figures).length > 0);
  const recipients = [...new Set(okRuns.flatMap((r) => Object.keys(r.figures).map(Number)))].sort((a, b) => a - b);
  const values = (variant: VariantName, n: number, key: keyof Figures) =>
    okRuns.filter((r) => r.variant === variant && r.figures[n]).map((r) => r.figures[n]![key]);
  const has = (v: VariantName) => used.includes(v);
  const ratioColumns: Array<[string, VariantName, VariantName]> = [];
  if (has('new') && has('baseline')) ratioColumns.push(['new / baseline', 'new', 'baseline']);
  if (has('new-codec-off') && has('baseline') && !has('new')) ratioColumns.push(['new codec off / baseline', 'new-codec-off', 'baseline']);
  if (has('new') && has('new-codec-off')) ratioColumns.push(['codec on / off', 'new', 'new-codec-off']);
  const order = Array.from({ length: ROUNDS }, (_, i) => (i % 2 === 0 ? used : [...used].reverse()).map((v) => VARIANTS[v].title).join(', ')).join(' | ');
  const out: string[] = [];
  out.push(
    `# Herald build comparison, ${meta.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    ...(builds.baseline ? [`- **baseline**: ${builds.baseline.description}`] : []),
    ...(builds.new
      ? [
          `- **new**: ${builds.new.description}; ${NEW_REF ? 'BENCH_CODEC=on for "new" and off for "new, codec off" (a build whose bench predates BENCH_CODEC ignores it)' : '"new" runs with payload encryption on (a fresh random key, as `npm start`), "new, codec off" without HERALD_PAYLOAD_KEYS'}`,
        ]
      : []),
    `- Each run: that build's own \`bench/run.ts ${SECTION}\` on a fresh stack (Temporal dev server on a WAL file, worker, API, bare worker), BENCH_SCALE=${SCALE}: 2 × ${half(600)}, 2 × ${half(160)} and 2 × ${half(60)} Herald triggers at 1, 5 and 20 recipients, each interleaved with as many bare workflows (H, B, B, H), after 100 + 100 warm-up.`,
    `- Bare workflow, per variant: ${used.map((v) => `${VARIANTS[v].title}: ${[...new Set(runs.filter((r) => r.variant === v).map((r) => r.bareShape ?? "as that build's bench/bare-workflow.ts"))].join(' / ') || 'n/a'}`).join('; ')}.`,
    `- ${ROUNDS} round(s), in this order: ${order}. Whole compare run ${fmt(meta.seconds / 60, 1)} min; runs took ${runs.map((r) => `${fmt(r.seconds, 0)} s`).join(', ')}.`,
    `- Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}; load average ${meta.loadStart.map((l) => l.toFixed(2)).join(' ')} at the start, ${meta.loadEnd.map((l) => l.toFixed(2)).join(' ')} at the end.`,
    '',
    'Cells: median over rounds (min–max). Ratio columns: ratio of the medians (range of the per-round ratios, each round\'s runs being neighbours in time). ↑ higher is better, ↓ lower is better. CPU is utime+stime from /proc per process over the run, per completed trigger; "Herald total" is API + worker + Temporal server (load generator excluded, as in `npm run bench`). History: the first execution of each run, fetched from the server as stored (encrypted payloads when the codec is on).',
    '',
    `| recipients | metric | ${used.map((v) => VARIANTS[v].title).join(' | ')} | ${ratioColumns.map(([t]) => t).join(' | ')} |`,
    `|---:|---|${used.map(() => '---:|').join('')}${ratioColumns.map(() => '---:|').join('')}`,
  );
  for (const n of recipients) {
    for (const metric of METRICS) {
      out.push(
        `| ${n} | ${metric.title} | ${used.map((v) => cell(values(v, n, metric.key), metric)).join(' | ')} | ${ratioColumns.map(([, a, b]) => ratioCell(okRuns, a, b, n, metric.key)).join(' | ')} |`,
      );
    }
  }
  const at20 = recipients.includes(20) ? 20 : recipients[recipients.length - 1];
  if (at20 !== undefined) {
    const historyRows: Array<[string, keyof Figures]> = [
      ['events', 'historyEvents'],
      ['bytes', 'historyBytes'],
      ['workflow tasks completed', 'historyWorkflowTasks'],
      ['markers (local activities, patches)', 'historyMarkers'],
      ['activity tasks scheduled', 'historyActivityTasks'],
      ['payloads encrypted', 'historyEncrypted'],
      ['payloads plain (search attributes, SDK marker metadata)', 'historyPlain'],
      ['bare workflow: events', 'bareHistoryEvents'],
      ['bare workflow: bytes', 'bareHistoryBytes'],
    ];
    const integer: Metric = { key: 'historyEvents', title: '', digits: 0 };
    out.push(
      '',
      `## History of one ${at20}-recipient trigger, before and after`,
      '',
      'Median over rounds (min–max). The number of workflow tasks, and with it of events, depends on how activity completions happen to batch; bytes also vary a little with ids. "n/a" where the build\'s bench does not report it (payload counts are new in this bench).',
      '',
      `| history of a ${at20}-recipient trigger | ${used.map((v) => VARIANTS[v].title).join(' | ')} | ${ratioColumns.map(([t]) => t).join(' | ')} |`,
      `|---|${used.map(() => '---:|').join('')}${ratioColumns.map(() => '---:|').join('')}`,
      ...historyRows.map(
        ([title, key]) =>
          `| ${title} | ${used.map((v) => cell(values(v, at20, key), integer)).join(' | ')} | ${ratioColumns.map(([, a, b]) => ratioCell(okRuns, a, b, at20, key).replace(/ \(.*\)$/, '')).join(' | ')} |`,
      ),
    );
  }
  const problems = runs.filter((r) => r.error || r.problems.length > 0);
  if (problems.length > 0) {
    out.push('', '## Runs with problems', '');
    for (const r of problems)
      out.push(`- round ${r.round}, ${VARIANTS[r.variant].title}: ${r.error ? r.error.split('\n')[0] : r.problems.join('; ')} (log: ${r.logFile})`);
  }
  out.push(
    '',
    `Per-run markdown, logs and JSON: ${OUT}`,
    '',
    `Harness differences between the builds (\`git diff --stat ${BASELINE_REF} ${NEW_REF ?? '(working tree)'} -- bench/\`):`,
    '',
    '```',
    meta.benchDiff || '(none)',
    '```',
    '',
  );
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const startedAt = new Date();
  const loadStart = loadavg();
  mkdirSync(OUT, { recursive: true });
  const builds: Partial<Record<Build['name'], Build>> = {};
  let interrupted = false;
  const cleanupAll = () => {
    for (const build of Object.values(builds)) {
      try {
        build.cleanup();
      } catch (error) {
        log(`warning: could not remove ${build.dir}: ${(error as Error).message}`);
      }
    }
  };
  // First signal: stop the current run (it stops its stack), report what finished, remove the
  // builds. A second signal, or no progress within 2 minutes, removes the builds and exits at once.
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      log(`${signal} again: removing the builds and exiting`);
      if (current) killGroup(current, 'SIGKILL');
      cleanupAll();
      process.exit(130);
    }
    interrupted = true;
    log(`${signal}: stopping the current run, then reporting what finished and removing the builds ...`);
    if (current) void stopRun(current);
    setTimeout(() => {
      if (current) killGroup(current, 'SIGKILL');
      cleanupAll();
      process.exit(130);
    }, 120_000).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const runs: RunRecord[] = [];
  try {
    const needs = new Set(variantNames.map((v) => VARIANTS[v].build));
    if (needs.has('baseline')) {
      log(`baseline: git archive of ${BASELINE_REF} ...`);
      builds.baseline = commitBuild('baseline', BASELINE_REF);
      log(`baseline is ${builds.baseline.description} in ${builds.baseline.dir}`);
    }
    if (needs.has('new')) {
      builds.new = NEW_REF ? commitBuild('new', NEW_REF) : workingTreeBuild();
      log(`new is ${builds.new.description} in ${builds.new.dir}`);
    }
    let index = 0;
    for (let round = 1; round <= ROUNDS && !interrupted; round++) {
      const order = round % 2 === 1 ? variantNames : [...variantNames].reverse();
      for (const variant of order) {
        if (interrupted) break;
        runs.push(await runBench(builds[VARIANTS[variant].build]!, variant, round, index++));
        writeFileSync(join(OUT, 'compare.json'), JSON.stringify(runs, null, 2));
      }
    }
    let benchDiff: string;
    try {
      if (NEW_REF) benchDiff = gitRaw('diff', '--stat', BASELINE_REF, NEW_REF, '--', 'bench/').trimEnd();
      else {
        const untracked = git('ls-files', '--others', '--exclude-standard', '--', 'bench/');
        benchDiff = [
          gitRaw('diff', '--stat', BASELINE_REF, '--', 'bench/').trimEnd(),
          ...untracked
            .split('\n')
            .filter(Boolean)
            .map((f) => ` ${f} (new, untracked)`),
        ]
          .filter(Boolean)
          .join('\n');
      }
    } catch {
      benchDiff = '(git diff failed)';
    }
    const markdown = report(runs, builds, { startedAt, seconds: (Date.now() - startedAt.getTime()) / 1000, loadStart, loadEnd: loadavg(), benchDiff });
    writeFileSync(join(OUT, 'compare.md'), markdown);
    console.log(markdown);
    log(`table in ${join(OUT, 'compare.md')}, raw runs in ${join(OUT, 'compare.json')}`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    rmSync(join(OUT, 'tmp'), { recursive: true, force: true });
    cleanupAll();
    log('builds removed');
  }
  if (interrupted) return 130;
  return runs.every((r) => r.ok) && runs.length === ROUNDS * variantNames.length ? 0 : 1;
}

process.exitCode = await main();
