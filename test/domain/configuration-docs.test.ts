// Issue 19: every variable that src/config reads appears in docs/configuration.md. It sits in
// test/domain because that directory is in the unit tier; it reads the configuration's schema and
// the docs, nothing else.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { envSchema } from '../../src/config/env';

const CONFIG_DIRECTORY = fileURLToPath(new URL('../../src/config/', import.meta.url));
/** Each channel's settings live in its folder (src/channels/<channel>/<channel>-settings.ts). */
const CHANNELS_DIRECTORY = fileURLToPath(new URL('../../src/channels/', import.meta.url));
const DOCS = readFileSync(fileURLToPath(new URL('../../docs/configuration.md', import.meta.url)), 'utf8');

/** A variable read straight from the environment rather than through a schema: `env.NAME`, `env['NAME']`. */
const DIRECT_READ = /\benv(?:\.([A-Z][A-Z0-9_]*)\b|\[['"]([A-Z][A-Z0-9_]*)['"]\])/g;

function configFiles(): string[] {
  const concerns = readdirSync(CONFIG_DIRECTORY, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(CONFIG_DIRECTORY, file));
  const channelSettings = readdirSync(CHANNELS_DIRECTORY, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('-settings.ts'))
    .map((file) => join(CHANNELS_DIRECTORY, file));
  return [...concerns, ...channelSettings];
}

/** The keys of the schema loadConfig parses, of every zod object a file in src/config exports, and the names read directly. */
async function variablesConfigReads(): Promise<string[]> {
  const names = new Set(Object.keys(envSchema.shape));
  for (const file of configFiles()) {
    const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    for (const value of Object.values(module)) {
      if (value instanceof z.ZodObject) for (const name of Object.keys(value.shape)) names.add(name);
    }
    for (const match of readFileSync(file, 'utf8').matchAll(DIRECT_READ)) names.add((match[1] ?? match[2])!);
  }
  return [...names].sort();
}

/** The "Every variable" table: the variables a deployment sets (the tests' and the bench's come after it). */
function documentedSection(): string {
  const start = DOCS.indexOf('## Every variable');
  const end = DOCS.indexOf('\n## ', start + 1);
  expect(start, 'docs/configuration.md has a section "## Every variable"').toBeGreaterThanOrEqual(0);
  return DOCS.slice(start, end === -1 ? undefined : end);
}

describe('docs/configuration.md', () => {
  it('names every variable src/config reads', async () => {
    const variables = await variablesConfigReads();
    expect(variables.length).toBeGreaterThan(60);
    const section = documentedSection();
    // In backticks, so that HERALD_RATE_LIMIT is not found inside HERALD_RATE_LIMITS.
    const missing = variables.filter((name) => !section.includes(`\`${name}\``));
    expect(missing, 'add these to the table in docs/configuration.md, with their default and what they do').toEqual([]);
  });
});
