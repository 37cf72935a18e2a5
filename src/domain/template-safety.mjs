// The static half of template safety: which nunjucks constructs a campaign template may use.
//
// Plain JavaScript on purpose: the API (through campaign-schemas and the activation review) and
// the render threads (src/rendering/render-thread.mjs, which run without tsx or vite) share this
// one file. Types: template-safety.d.mts. It imports nothing but nunjucks' parser.
import nunjucks from 'nunjucks';

const { nodes } = nunjucks;

/**
 * Property names whose only use is to walk from a value to JavaScript itself
 * (`range.constructor("...")()`, `x.__proto__`, ...). Refused as names, lookups and string
 * literals (filters such as `sort(attribute=...)` or `groupby` take attribute names as strings).
 */
export const FORBIDDEN_PROPERTY_NAMES = new Set([
  'constructor',
  '__proto__',
  'prototype',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]);

/**
 * Names of JavaScript's world. A template only sees its own variables, so these would read as
 * empty; refusing them tells the author why instead of rendering nothing.
 */
export const FORBIDDEN_VARIABLE_NAMES = new Set([
  'process',
  'global',
  'globalThis',
  'require',
  'module',
  'exports',
  'import',
  'this',
  'self',
  'window',
  'Function',
  'eval',
  'Reflect',
  'Proxy',
]);

/**
 * nunjucks writes names into the JavaScript it generates without escaping them, so a name must
 * be a plain identifier: `{{ a"&&Function`...`() }}` would otherwise be code.
 */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

const REFUSED_TAGS = [
  [nodes.Include, '{% include %}', 'campaign templates cannot load other templates'],
  [nodes.Import, '{% import %}', 'campaign templates cannot load other templates'],
  [nodes.FromImport, '{% from %}', 'campaign templates cannot load other templates'],
  [nodes.Extends, '{% extends %}', 'campaign templates cannot load other templates'],
  [nodes.AsyncEach, '{% asyncEach %}', 'use {% for %}'],
  [nodes.AsyncAll, '{% asyncAll %}', 'use {% for %}'],
  [nodes.IfAsync, '{% ifAsync %}', 'use {% if %}'],
  [nodes.CallExtension, 'extension tags', 'campaign templates have no extensions'],
  [nodes.FilterAsync, 'asynchronous filters', 'campaign templates have no asynchronous filters'],
];

class Refusal extends Error {}

function where(node) {
  return typeof node?.lineno === 'number' ? ` (line ${node.lineno + 1}, column ${(node.colno ?? 0) + 1})` : '';
}

function refuse(message, node) {
  throw new Refusal(`${message}${where(node)}`);
}

function show(value) {
  const text = String(value);
  return `\`${text.length > 40 ? `${text.slice(0, 40)}…` : text}\``;
}

function checkPropertyName(name, node) {
  if (FORBIDDEN_PROPERTY_NAMES.has(name)) refuse(`${show(name)} is not allowed in templates`, node);
}

/** A string a template uses as a key or attribute name; `a.b.c` attribute paths are checked part by part. */
function checkKeyString(value, node) {
  checkPropertyName(value, node);
  if (value.includes('.')) for (const part of value.split('.')) checkPropertyName(part, node);
}

/** The value an expression always has (`"constr" ~ "uctor"`), or undefined. */
function constantValue(node) {
  if (node instanceof nodes.TemplateData) return undefined;
  if (node instanceof nodes.Literal) return typeof node.value === 'string' || typeof node.value === 'number' ? node.value : undefined;
  if (node instanceof nodes.Group && node.children.length === 1) return constantValue(node.children[0]);
  if (node instanceof nodes.Concat || node instanceof nodes.Add) {
    const left = constantValue(node.left);
    const right = left === undefined ? undefined : constantValue(node.right);
    if (left === undefined || right === undefined) return undefined;
    return node instanceof nodes.Concat ? `${left}${right}` : left + right;
  }
  return undefined;
}

/** A name nunjucks writes into generated code: a variable, macro, argument, block, filter or test. */
function checkName(node, what) {
  const value = node instanceof nodes.Symbol || node instanceof nodes.Literal ? node.value : undefined;
  if (typeof value === 'string' && /^[0-9]/.test(value)) {
    // The lexer reads `1e9` as a name, which would be undefined: say so instead.
    refuse(`${show(value)} is neither a number nor a name: write numbers like 1000 or 2.5`, node);
  }
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    refuse(`${what} must be a plain name (letters, digits and _)${typeof value === 'string' ? `, not ${show(value)}` : ''}`, node);
  }
  checkPropertyName(value, node);
  if (FORBIDDEN_VARIABLE_NAMES.has(value)) refuse(`${show(value)} is not available in templates: they cannot reach JavaScript`, node);
}

function checkSignature(args, what) {
  for (const arg of args?.children ?? []) {
    if (arg instanceof nodes.Dict) {
      for (const pair of arg.children) checkName(pair.key, `a ${what} keyword argument`);
    } else {
      checkName(arg, `a ${what} argument`);
    }
  }
}

function checkNode(node) {
  for (const [type, tag, why] of REFUSED_TAGS) {
    if (node instanceof type) refuse(`${tag} is not allowed: ${why}`, node);
  }
  if (node instanceof nodes.Symbol) {
    checkName(node, 'a variable');
  } else if (node instanceof nodes.Literal && !(node instanceof nodes.TemplateData)) {
    if (typeof node.value === 'string') checkKeyString(node.value, node);
  } else if (node instanceof nodes.LookupVal || node instanceof nodes.Concat || node instanceof nodes.Add) {
    const key = constantValue(node instanceof nodes.LookupVal ? node.val : node);
    if (typeof key === 'string') checkKeyString(key, node);
  } else if (node instanceof nodes.Set) {
    for (const target of node.targets) checkName(target, 'a {% set %} target');
  } else if (node instanceof nodes.For) {
    const names = node.name instanceof nodes.Array ? node.name.children : [node.name];
    for (const name of names) checkName(name, 'a {% for %} variable');
  } else if (node instanceof nodes.Macro) {
    // Caller extends Macro: a `{% call %}` block is named `caller`.
    checkName(node.name, 'a macro name');
    checkSignature(node.args, node instanceof nodes.Caller ? '{% call %}' : 'macro');
  } else if (node instanceof nodes.Filter) {
    checkName(node.name, 'a filter name');
  } else if (node instanceof nodes.Is) {
    checkName(node.right instanceof nodes.FunCall ? node.right.name : node.right, 'a test name');
  } else if (node instanceof nodes.Block) {
    checkName(node.name, 'a block name');
  } else if (node instanceof nodes.Super) {
    checkName(node.blockName, 'a block name');
  }
}

function children(node) {
  const out = [];
  const add = (value) => {
    if (value instanceof nodes.Node) out.push(value);
    else if (Array.isArray(value)) value.forEach(add);
  };
  if (node instanceof nodes.NodeList) add(node.children);
  else for (const field of node.fields) add(node[field]);
  return out;
}

function parse(source) {
  return nunjucks.parser.parse(source, [], {});
}

/**
 * Why a template may not be used, or undefined when it may. A template that does not parse
 * gives undefined: the syntax check reports it (drafts may be saved half-written).
 */
export function templateSafetyProblem(source) {
  let root;
  try {
    root = parse(source);
  } catch {
    return undefined;
  }
  try {
    // Iterative: a deeply nested template must not overflow the stack here.
    const stack = [root];
    while (stack.length > 0) {
      const node = stack.pop();
      checkNode(node);
      for (const child of children(node)) stack.push(child);
    }
    return undefined;
  } catch (error) {
    if (error instanceof Refusal) return error.message;
    throw error;
  }
}
