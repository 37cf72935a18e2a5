import nunjucks from 'nunjucks';

/** The parts of nunjucks' parser and node classes this module uses (@types/nunjucks declares neither). */
interface AstNode {
  fields: string[];
  children?: unknown[];
  [field: string]: unknown;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- instanceof checks on untyped classes
type NodeClass = new (...args: never[]) => any;
const internals = nunjucks as unknown as {
  parser: { parse(source: string, extensions: unknown[], options: object): AstNode };
  nodes: Record<'Node' | 'NodeList' | 'LookupVal' | 'Symbol' | 'Literal' | 'TemplateData', NodeClass>;
};
const { nodes } = internals;

/** The variables a template reads from the profile and the trigger call, as dotted names (`profile.firstName`, `context.order.id`). */
export interface TemplateVariables {
  profile: string[];
  context: string[];
}

const ROOTS = ['profile', 'context'] as const;

/**
 * The path a lookup chain reads (`context.order.id` → ['context', 'order', 'id']), up to its
 * first part that is not a constant string (`context.items[0]`, `context[key]` stop there).
 */
function lookupPath(node: AstNode): string[] | undefined {
  const parts: string[] = [];
  let current: AstNode = node;
  while (current instanceof nodes.LookupVal) {
    const key = current.val as AstNode;
    if (key instanceof nodes.Literal && !(key instanceof nodes.TemplateData) && typeof (key as AstNode).value === 'string')
      parts.unshift((key as AstNode).value as string);
    else parts.length = 0; // a dynamic or numeric key: only the part before it is known
    current = current.target as AstNode;
  }
  if (!(current instanceof nodes.Symbol)) return undefined;
  return [current.value as string, ...parts];
}

function children(node: AstNode): AstNode[] {
  const out: AstNode[] = [];
  const add = (value: unknown) => {
    if (value instanceof nodes.Node) out.push(value);
    else if (Array.isArray(value)) value.forEach(add);
  };
  if (node instanceof nodes.NodeList) add(node.children);
  else for (const field of node.fields) add(node[field]);
  return out;
}

/**
 * Every `profile.*` and `context.*` path a nunjucks template reads, found by walking its syntax
 * tree (never by rendering it). A path that is the start of a longer one is left out
 * (`context.user` when `context.user.name` is read too), so the list describes the data's shape.
 * A template that does not parse has no variables; the syntax check reports it. Pure.
 */
export function templateVariables(source: string): TemplateVariables {
  let root: AstNode;
  try {
    root = internals.parser.parse(source, [], {});
  } catch {
    return { profile: [], context: [] };
  }
  const found = new Set<string>();
  // Iterative, like the safety check: a deeply nested template must not overflow the stack.
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node instanceof nodes.LookupVal) {
      const path = lookupPath(node);
      if (path && path.length > 1 && (ROOTS as readonly string[]).includes(path[0]!)) found.add(path.join('.'));
    }
    for (const child of children(node)) stack.push(child);
  }
  return mergeVariables([[...found]]);
}

/** Sorted, de-duplicated, and without a path that is the start of another. */
function mergeVariables(lists: string[][]): TemplateVariables {
  const all = [...new Set(lists.flat())].sort();
  const leaves = all.filter((name) => !all.some((other) => other.startsWith(`${name}.`)));
  return {
    profile: leaves.filter((name) => name.startsWith('profile.')),
    context: leaves.filter((name) => name.startsWith('context.')),
  };
}

/**
 * Every template string in a campaign's content, whatever its shape (`{subject, html, text}`,
 * `{default, translations}`, `{body}`, …), with the field it sits at (`content.html`,
 * `content.translations.fr.subject`).
 */
export function contentTemplates(content: unknown, field = 'content'): { field: string; source: string }[] {
  if (typeof content === 'string') return [{ field, source: content }];
  if (content === null || typeof content !== 'object') return [];
  return Object.entries(content as Record<string, unknown>).flatMap(([key, value]) => contentTemplates(value, `${field}.${key}`));
}

/** The variables every template of a campaign's content reads together. */
export function contentVariables(content: unknown): TemplateVariables {
  const each = contentTemplates(content).map(({ source }) => templateVariables(source));
  return mergeVariables(each.map((v) => [...v.profile, ...v.context]));
}
