// A chat message's blocks (Slack's Block Kit, a Teams card's body, Discord's embeds): JSON whose
// string values are templates. Pure: the rules, the content schema and the dispatch read it.

import { templateSafetyProblem } from '../../domain/template-safety.mjs';

/** The most JSON a message's blocks hold as written; Slack takes 50 blocks, Discord 10 embeds. */
export const MAX_BLOCKS_JSON = 16_384;
export const MAX_BLOCKS = 50;
/** How deep blocks may nest (a Block Kit section's accessory's text is 3 levels down). */
const MAX_DEPTH = 12;
/** Keys are the provider's field names, never templates: plain names only. */
const KEY = /^[$A-Za-z_][A-Za-z0-9_$.@-]{0,63}$/;

/** Every string value of the blocks, depth first: the templates, in the order they render. */
export function blockStrings(blocks: unknown): string[] {
  const strings: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') strings.push(value);
    else if (Array.isArray(value)) for (const item of value) walk(item);
    else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) walk(item);
  };
  walk(blocks);
  return strings;
}

/**
 * One text template for all the strings of the blocks: a JSON array of each string rendered and
 * written as a JSON string (`dump`), so a rendered value can never break out of its string. Each
 * string parses on its own (blocksProblem), so each filter block closes where it should.
 */
export function blocksTemplate(blocks: unknown): string {
  return `[${blockStrings(blocks)
    .map((template) => `{% filter dump %}${template}{% endfilter %}`)
    .join(',')}]`;
}

/** The blocks with their strings replaced, in blockStrings' order, by the rendered array blocksTemplate made. */
export function renderedBlocks(blocks: unknown[], rendered: string): unknown[] {
  const strings = JSON.parse(rendered) as unknown;
  if (!Array.isArray(strings) || strings.some((item) => typeof item !== 'string')) throw new Error('the rendered chat blocks are not a list of strings');
  let next = 0;
  const fill = (value: unknown): unknown => {
    if (typeof value === 'string') return strings[next++];
    if (Array.isArray(value)) return value.map(fill);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fill(item)]));
    return value;
  };
  return fill(blocks) as unknown[];
}

/**
 * What is wrong with a variant's blocks, if anything, under the path it concerns (relative to
 * `blocks`). `syntaxError`: activation's check that each string parses on its own (a draft may be
 * saved half-written), which blocksTemplate relies on.
 */
export function blocksProblem(
  blocks: unknown,
  syntaxError?: (source: string) => string | undefined,
): { path: (string | number)[]; message: string } | undefined {
  if (!Array.isArray(blocks)) return { path: [], message: 'blocks are a JSON list' };
  if (blocks.length > MAX_BLOCKS) return { path: [], message: `at most ${MAX_BLOCKS} blocks` };
  if (JSON.stringify(blocks).length > MAX_BLOCKS_JSON) return { path: [], message: `blocks are at most ${MAX_BLOCKS_JSON / 1024} KiB of JSON` };
  const check = (value: unknown, path: (string | number)[]): { path: (string | number)[]; message: string } | undefined => {
    if (path.length > MAX_DEPTH) return { path, message: `blocks nest at most ${MAX_DEPTH} levels deep` };
    if (typeof value === 'string') {
      const error = syntaxError?.(value);
      if (error) return { path, message: `template does not parse: ${error}` };
      const problem = templateSafetyProblem(value);
      return problem ? { path, message: problem } : undefined;
    }
    const entries: [string | number, unknown][] = Array.isArray(value)
      ? value.map((item, index) => [index, item])
      : value !== null && typeof value === 'object'
        ? Object.entries(value)
        : [];
    for (const [key, item] of entries) {
      if (typeof key === 'string' && !KEY.test(key)) return { path: [...path, key], message: 'a block key is a plain field name (letters, digits, _ $ . @ -)' };
      const problem = check(item, [...path, key]);
      if (problem) return problem;
    }
    return undefined;
  };
  return check(blocks, []);
}
