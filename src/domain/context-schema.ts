import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { RE2JS } from 're2js';
import type { FieldIssue } from './errors';

/**
 * A campaign's `contextSchema`: a JSON Schema (draft 2020-12) the trigger call's context must
 * match. Schemas come from campaign authors and contexts from API callers, so both are
 * untrusted:
 * - the schema is bounded (size, depth) before ajv sees it;
 * - `$ref` may only point inside the schema (`#…`): nothing is ever loaded (no `loadSchema`),
 *   and `$data` is off;
 * - ajv runs in strict mode, so unknown keywords and formats are refused at save, not ignored;
 * - `pattern` and `patternProperties` run on RE2 (re2js, linear time), not on JavaScript's
 *   backtracking engine, so a pathological pattern cannot stall the API (ReDoS). Patterns RE2
 *   cannot run (lookaround, backreferences) are refused at save;
 * - every violation is collected (`allErrors`), but at most MAX_REPORTED_VIOLATIONS are reported.
 */
export type ContextSchema = Record<string, unknown>;

export const MAX_SCHEMA_BYTES = 64 * 1024;
export const MAX_SCHEMA_DEPTH = 32;
export const MAX_REPORTED_VIOLATIONS = 100;

// ajv-formats is CommonJS: its default export arrives as the module object under some loaders.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as typeof addFormatsModule;

/** ajv's RegExpEngine over RE2: `pattern` keywords match in linear time. */
const re2Engine = Object.assign(
  (pattern: string, _flags: string) => {
    const compiled = RE2JS.compile(pattern);
    // ajv keys its compiled patterns by toString(): each pattern needs its own.
    return { test: (input: string) => compiled.test(input), toString: () => `re2:${pattern}` };
  },
  { code: 'herald-re2js' },
);

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({
    strict: true,
    // `type: ["string", "null"]` is ordinary JSON Schema; strict mode would refuse it.
    allowUnionTypes: true,
    allErrors: true,
    $data: false,
    ownProperties: true,
    validateSchema: true,
    addUsedSchema: false,
    logger: false,
    code: { regExp: re2Engine, optimize: true },
  });
  addFormats(ajv, { mode: 'fast' });
  return ajv;
}

/** Size, depth and `$ref` targets, checked before ajv compiles anything. */
function boundsProblems(schema: unknown): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return [{ field: 'contextSchema', message: 'must be a JSON Schema object' }];
  const bytes = Buffer.byteLength(JSON.stringify(schema));
  if (bytes > MAX_SCHEMA_BYTES) return [{ field: 'contextSchema', message: `is ${bytes} bytes of JSON; at most ${MAX_SCHEMA_BYTES} are allowed` }];
  const stack: { value: unknown; depth: number; path: string }[] = [{ value: schema, depth: 1, path: 'contextSchema' }];
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_SCHEMA_DEPTH) {
      issues.push({ field: path, message: `nests deeper than ${MAX_SCHEMA_DEPTH} levels` });
      break;
    }
    for (const [key, child] of Object.entries(value)) {
      if ((key === '$ref' || key === '$dynamicRef') && (typeof child !== 'string' || !child.startsWith('#'))) {
        issues.push({ field: `${path}.${key}`, message: 'may only point inside the schema (start with #); Herald never loads other schemas' });
      }
      if (key === '$data') issues.push({ field: `${path}.${key}`, message: '$data references are not supported' });
      stack.push({ value: child, depth: depth + 1, path: `${path}.${key}` });
    }
  }
  return issues;
}

const pointerToField = (pointer: string) =>
  pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));

function metaSchemaIssues(errors: readonly ErrorObject[] | null | undefined): FieldIssue[] {
  return (errors ?? []).slice(0, MAX_REPORTED_VIOLATIONS).map((error) => ({
    field: ['contextSchema', ...pointerToField(error.instancePath)].join('.'),
    message: error.message ?? error.keyword,
  }));
}

export type CompiledContextSchema = { ok: true; validate: ValidateFunction } | { ok: false; issues: FieldIssue[] };

/** Compiles a campaign's contextSchema, or says every reason it cannot be used. */
export function compileContextSchema(schema: unknown): CompiledContextSchema {
  const bounds = boundsProblems(schema);
  if (bounds.length > 0) return { ok: false, issues: bounds };
  // One ajv per schema: schemas never share ids or caches, and nothing is kept after compiling.
  const ajv = newAjv();
  try {
    if (!ajv.validateSchema(schema as ContextSchema)) return { ok: false, issues: metaSchemaIssues(ajv.errors) };
    return { ok: true, validate: ajv.compile(schema as ContextSchema) };
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).replace(' ignored in schema', '').slice(0, 500);
    // ajv names where in the schema it stopped (`at "#/properties/code"`): report it as the field.
    const at = /at (?:path )?"#([^"]*)"/.exec(message)?.[1];
    return { ok: false, issues: [{ field: ['contextSchema', ...(at ? pointerToField(at) : [])].join('.'), message }] };
  }
}

/** Why a contextSchema cannot be saved; empty when it can. */
export function contextSchemaProblems(schema: unknown): FieldIssue[] {
  const compiled = compileContextSchema(schema);
  return compiled.ok ? [] : compiled.issues;
}

/** One violation of the schema by a context: its path inside the context (`order.id`) and ajv's message. */
export interface ContextViolation {
  path: string[];
  message: string;
}

/** Every violation of a context (at most MAX_REPORTED_VIOLATIONS), with the path to the offending value. */
export function contextViolations(validate: ValidateFunction, context: Record<string, unknown>): ContextViolation[] {
  if (validate(context)) return [];
  return (validate.errors ?? []).slice(0, MAX_REPORTED_VIOLATIONS).map((error) => {
    const path = pointerToField(error.instancePath);
    const params = error.params as { missingProperty?: string; additionalProperty?: string; propertyName?: string };
    if (error.keyword === 'required' && params.missingProperty !== undefined) return { path: [...path, params.missingProperty], message: 'is required' };
    if (error.keyword === 'additionalProperties' && params.additionalProperty !== undefined)
      return { path: [...path, params.additionalProperty], message: 'is not allowed by the schema' };
    return { path, message: error.message ?? error.keyword };
  });
}

type SchemaNode = Record<string, unknown>;
const isNode = (value: unknown): value is SchemaNode => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Follows a local `$ref` (`#/$defs/x`); undefined for anything else. */
function resolveRef(root: SchemaNode, node: SchemaNode): SchemaNode {
  let current = node;
  for (let hops = 0; hops < 16 && typeof current.$ref === 'string' && current.$ref.startsWith('#/'); hops++) {
    let target: unknown = root;
    for (const part of pointerToField(current.$ref.slice(1))) target = isNode(target) ? target[part] : undefined;
    if (!isNode(target)) break;
    current = { ...target, ...Object.fromEntries(Object.entries(current).filter(([k]) => k !== '$ref')) };
  }
  return current;
}

/** The branches a value may match at this node: the node itself and its allOf/anyOf/oneOf subschemas. */
function branches(root: SchemaNode, node: SchemaNode): SchemaNode[] {
  const resolved = resolveRef(root, node);
  const nested = ['allOf', 'anyOf', 'oneOf'].flatMap((key) => (Array.isArray(resolved[key]) ? (resolved[key] as unknown[]).filter(isNode) : []));
  return [resolved, ...nested.flatMap((child) => branches(root, child))];
}

/**
 * Whether the schema declares a context path (['order', 'id']): each part is a property (or
 * matches patternProperties, or falls under an additionalProperties schema) of where the
 * previous part led. A level that declares no properties at all is open, and counts as declared.
 */
export function declaresContextPath(schema: ContextSchema, path: readonly string[]): boolean {
  let level: SchemaNode[] = [schema];
  for (const part of path) {
    const nodes = level.flatMap((node) => branches(schema, node));
    const describes = nodes.some((node) => isNode(node.properties) || isNode(node.patternProperties) || isNode(node.additionalProperties));
    if (!describes) return true;
    const next: SchemaNode[] = [];
    for (const node of nodes) {
      const property = isNode(node.properties) ? node.properties[part] : undefined;
      if (isNode(property)) next.push(property);
      else if (property === true) return true;
      if (isNode(node.patternProperties)) return true;
      if (isNode(node.additionalProperties) && !isNode(property)) next.push(node.additionalProperties);
    }
    if (next.length === 0) return false;
    level = next;
  }
  return true;
}

/** The subschema a context path leads to, for example values; undefined when unknown. */
function subschemaAt(schema: ContextSchema, path: readonly string[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = schema;
  for (const part of path) {
    if (!node) return undefined;
    const candidates: SchemaNode[] = branches(schema, node);
    node = candidates.map((candidate) => (isNode(candidate.properties) ? candidate.properties[part] : undefined)).find(isNode);
  }
  return node && resolveRef(schema, node);
}

/** A value a caller could send for a context path: the schema's example, const, default or enum, else one of its type. */
export function exampleValue(schema: ContextSchema | undefined, path: readonly string[]): unknown {
  const node = schema ? subschemaAt(schema, path) : undefined;
  const name = path[path.length - 1] ?? 'value';
  if (!node) return `<${name}>`;
  if (Array.isArray(node.examples) && node.examples.length > 0) return node.examples[0];
  if ('const' in node) return node.const;
  if ('default' in node) return node.default;
  if (Array.isArray(node.enum) && node.enum.length > 0) return node.enum[0];
  const type = Array.isArray(node.type) ? node.type[0] : node.type;
  switch (type) {
    case 'integer':
    case 'number':
      return typeof node.minimum === 'number' ? node.minimum : 0;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return exampleObject(schema!, path);
    case 'null':
      return null;
    default:
      return node.format === 'email' ? 'user@example.com' : node.format === 'date-time' ? '2026-01-01T00:00:00Z' : `<${name}>`;
  }
}

/** An object with every property the schema requires at a path, each with an example value. */
export function exampleObject(schema: ContextSchema, path: readonly string[]): Record<string, unknown> {
  const node = path.length === 0 ? resolveRef(schema, schema) : subschemaAt(schema, path);
  const out: Record<string, unknown> = {};
  if (!node) return out;
  for (const branch of branches(schema, node)) {
    if (!Array.isArray(branch.required)) continue;
    for (const key of branch.required) if (typeof key === 'string' && key !== 'system') out[key] = exampleValue(schema, [...path, key]);
  }
  return out;
}
