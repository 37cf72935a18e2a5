import nunjucks from 'nunjucks';
import { templateSafetyProblem } from './template-safety.mjs';

/** The parts of nunjucks this module uses that @types/nunjucks does not declare. */
const internals = nunjucks as unknown as {
  parser: { parse(source: string, extensions: unknown[], options: object): unknown };
  compiler: { compile(source: string, asyncFilters: string[], extensions: unknown[], name: string | undefined, options: object): string };
};

/**
 * Campaign templates are nunjucks, and hostile input. Nothing here renders: templates render
 * only in the sandboxed pool of render processes (src/rendering/template-renderer.ts). This module
 * holds what the API and the activation review need: the error type a render fails with, and
 * the checks that run before a template is ever accepted.
 */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

function cleanMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message
    .replace(/^\(unknown path\)\s*/, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Returns the syntax error of a template, or undefined when it parses and compiles. A template
 * the safety check refuses is only parsed: its generated code is never built. A compiled one is
 * only checked as JavaScript (`new Function` parses the code and never runs it).
 */
export function templateSyntaxError(source: string): string | undefined {
  try {
    internals.parser.parse(source, [], {});
    if (templateSafetyProblem(source) !== undefined) return undefined;
    new Function(internals.compiler.compile(source, [], [], undefined, {}));
    return undefined;
  } catch (error) {
    return cleanMessage(error);
  }
}
