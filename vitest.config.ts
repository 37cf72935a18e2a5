/**
 * Three tiers (issue 19), as three vitest projects of one run:
 *
 * - `unit` (`npm run test:unit`): tests that run entirely in the test process: no Temporal server
 *   (so no Temporal CLI binary), no worker, no database server, no Herald API or worker process.
 *   Template renders in their own child processes and fake providers on loopback are fine. The
 *   project has no global setup, so `inject()` returns nothing there.
 * - `workflow` (`npm run test:workflow`): the files under WORKFLOW_DIRECTORIES, which run Herald's
 *   workflows in Temporal's time-skipping test environment (`TestWorkflowEnvironment.createTimeSkipping`,
 *   the Java test server of temporal/test-server-binary.ts, started by each file itself) with a
 *   worker of their own, so timers take workflow time, not wall-clock time. No global setup: no dev
 *   server, no shared bundle, no `inject()`.
 * - `stack` (`npm run test:stack`): everything else, with the global setup (one Temporal server,
 *   the workflow bundle and, for HERALD_TEST_DATABASE=postgres, one PostgreSQL server).
 *
 * `npm test` runs all three. The rule for where a file goes:
 * - every `*.test.ts` under WORKFLOW_DIRECTORIES is workflow (and nothing else);
 * - every `*.test.ts` under UNIT_DIRECTORIES is unit, unless it is listed in NOT_UNIT or its text
 *   shows it needs the stack (STACK_MARKERS: the harness, a process stack, a PostgreSQL server,
 *   a Temporal server, worker or test environment, or `inject()` of the global setup's values);
 *   such a file goes to stack by itself, and belongs in NOT_UNIT all the same;
 * - outside those directories only the files in UNIT_FILES are unit (add one there when it
 *   meets the rule above);
 * - all other test files are stack. A file is in exactly one project.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';
import type { Plugin } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

const UNIT_DIRECTORIES = ['test/domain', 'test/rendering', 'test/channels', 'test/temporal-client'];

/** Workflows in the time-skipping test environment; a file here needs no dev server and gets none. */
const WORKFLOW_DIRECTORIES = ['test/workflows'];
const workflow = WORKFLOW_DIRECTORIES.map((dir) => `${dir}/**/*.test.ts`);

/** Test files under UNIT_DIRECTORIES that need the stack (none today). */
const NOT_UNIT: readonly string[] = [];

/** Unit test files outside UNIT_DIRECTORIES, each read for the rule above. */
const UNIT_FILES = [
  // The chat channel's rules, providers and senders against its fakes on loopback; chat-delivery.test.ts drives a whole Herald.
  'test/chat/chat-providers.test.ts',
  'test/chat/chat-senders.test.ts',
  'test/db/dialect.test.ts',
  // The WhatsApp channel's rules and providers against its fakes; whatsapp-delivery.test.ts drives a whole Herald.
  'test/whatsapp/whatsapp-providers.test.ts',
  'test/whatsapp/whatsapp-rules.test.ts',
  // The group commit of durable claims on an SQLite file in process.
  'test/db/durable-claims.test.ts',
  // The API's nudges to the dispatchers, on fake timers against a recording client.
  'test/services/high-throughput-nudges.test.ts',
  // How long an answer waits for its workflow's start, on fake timers.
  'test/services/start-wait.test.ts',
  'test/db/retention-steps.test.ts',
  'test/entry/child-environments.test.ts',
  'test/entry/payload-key-file.test.ts',
  'test/entry/push-config.test.ts',
  'test/entry/tracking-config.test.ts',
  // Builds the OpenAPI document in process, on an in-memory SQLite, with an unconnected Temporal client.
  'test/sdk/generated-types.test.ts',
  // The renderer itself, in process; test/security's other files drive a whole Herald.
  'test/security/template-renderer.test.ts',
];

/** What a file that needs the stack shows in its own text (a safety net for new files, not the rule). */
const STACK_MARKERS = /herald-harness|process-stack|replica-stack|postgres-server|global-setup|startDevServer|startTemporalCluster|TestWorkflowEnvironment|@temporalio\/(worker|testing)|(?<![.\w])inject\(/;

function unitFiles(): string[] {
  const inDirectories = UNIT_DIRECTORIES.flatMap((dir) =>
    readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
      .filter((name) => name.endsWith('.test.ts'))
      .map((name) => `${dir}/${name.split('\\').join('/')}`),
  ).filter((file) => !NOT_UNIT.includes(file) && !STACK_MARKERS.test(readFileSync(join(root, file), 'utf8')));
  return [...inDirectories, ...UNIT_FILES].sort();
}

const unit = unitFiles();

// A file is in exactly one project: a workflow file is never also unit (UNIT_FILES, or a directory overlap).
const unitAndWorkflow = unit.filter((file) => WORKFLOW_DIRECTORIES.some((dir) => file.startsWith(`${dir}/`)));
if (unitAndWorkflow.length > 0) throw new Error(`vitest.config.ts: ${unitAndWorkflow.join(', ')} would be both unit and workflow`);

/**
 * Vitest 4 applies a command line `--exclude` to the root config only, not to projects
 * (vitest-dev/vitest#7368), so `npm run test:cluster` would run the file it leaves out: this hands
 * the root's parsed `cliExclude` on to each project before it looks for test files.
 */
const cliExcludeInProjects: Plugin = {
  name: 'herald:cli-exclude-in-projects',
  configureVitest({ project, vitest }) {
    const cliExclude = vitest.config.cliExclude ?? [];
    for (const glob of cliExclude) if (!project.config.exclude.includes(glob)) project.config.exclude.push(glob);
  },
};

export default defineConfig({
  plugins: [cliExcludeInProjects],
  test: {
    // Every project inherits these (extends: true).
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: unit },
      },
      {
        extends: true,
        // Each file starts its own time-skipping test server and worker; deliberately no globalSetup.
        test: { name: 'workflow', include: workflow },
      },
      {
        extends: true,
        test: {
          name: 'stack',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...unit, ...workflow],
          // Files share one Temporal dev server; each runs its own worker on its own task queue.
          // Vitest calls it only when a stack file is queued, so `npx vitest run test/domain` starts no server.
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
