import nunjucks from 'nunjucks';

/**
 * Campaign templates are nunjucks with HTML autoescaping on. The environment has no loader,
 * so `{% include %}`/`{% import %}` cannot reach the file system. Call data reaches templates
 * only as variables, never as template source, so context is data and is never evaluated.
 */
const htmlEnvironment = new nunjucks.Environment(null, { autoescape: true });
const textEnvironment = new nunjucks.Environment(null, { autoescape: false });

export type TemplateKind = 'html' | 'text';

export interface RenderVariables {
  profile: Record<string, unknown>;
  context: Record<string, unknown>;
}

const compiled = new Map<string, nunjucks.Template>();
const MAX_COMPILED = 500;

function compile(source: string, kind: TemplateKind): nunjucks.Template {
  const key = `${kind}\u0000${source}`;
  let template = compiled.get(key);
  if (!template) {
    // `eagerCompile` makes syntax errors surface here rather than at first render.
    template = new nunjucks.Template(source, kind === 'html' ? htmlEnvironment : textEnvironment, undefined, true);
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value as string);
    compiled.set(key, template);
  }
  return template;
}

export class TemplateError extends Error {
  override name = 'TemplateError';
}

function cleanMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^\(unknown path\)\s*/, '').replace(/\s+/g, ' ').trim();
}

/** Returns the syntax error of a template, or undefined when it parses. */
export function templateSyntaxError(source: string): string | undefined {
  try {
    compile(source, 'html');
    return undefined;
  } catch (error) {
    return cleanMessage(error);
  }
}

export function renderTemplate(source: string, kind: TemplateKind, variables: RenderVariables): string {
  try {
    return compile(source, kind).render(variables);
  } catch (error) {
    throw new TemplateError(cleanMessage(error));
  }
}
