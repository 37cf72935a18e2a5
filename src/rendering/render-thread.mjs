// One render of the pool in template-renderer.ts. tinypool runs this file in a CHILD PROCESS
// (not a thread): an empty environment, no loader, its own V8 heap (--max-old-space-size) and a
// smaller stack. V8 aborts the whole process on some fatal errors inside builtins (heap exhausted
// in String.prototype.toUpperCase, Array.prototype.join, ...), which a worker thread's heap cap
// does not catch; in a child process such an abort costs this render only, and the pool starts a
// new process.
//
// Plain JavaScript so it loads the same way under tsx, vitest and plain node; it imports only
// nunjucks, html-to-text, htmlparser2 and linkify-it (tracking-rewrite.mjs) and the shared static check. Types:
// render-thread.d.mts.
//
// Campaign templates are hostile input. Besides the static check, this process hardens the
// nunjucks runtime that compiled templates call into (`runtime.memberLookup`, `callWrap`, ...),
// which is a module shared by every template in this process:
// - a lookup returns only own data properties of plain data (objects, arrays, strings), never a
//   property inherited from Object.prototype or Function.prototype, and never a function that is
//   not on the allowlist (macros, the bounded range/cycler/joiner, cycler methods); macro
//   parameters without an argument are undefined (nunjucks read them from a plain `{}`);
// - only allowlisted functions can be called, and they print as nothing;
// - every string a template builds is metered before it is built: output, `~` and `+`
//   (compiled to runtime.heraldConcat / heraldAdd), lists turned into text, and every filter's
//   input times the most that filter can grow it, so no single native call is handed more than
//   the output limit allows; loops, calls and lookups check the deadline. Most runaway templates
//   stop here with a clear message; the pool kills the process for the rest (a single native
//   call that never returns, or a fatal error this metering missed).
import { performance } from 'node:perf_hooks';
import { convert as htmlToText } from 'html-to-text';
import nunjucks from 'nunjucks';
import { templateSafetyProblem } from '../domain/template-safety.mjs';
import { addTextTracking, addTracking } from './tracking-rewrite.mjs';

/** `range()` makes at most this many numbers; filters that make a list of a string's characters, at most this many items. */
export const MAX_RANGE_ITEMS = 10_000;
const MAX_CACHED_TEMPLATES = 200;
/** Check the clock every this many loop steps, calls, lookups and outputs. */
const CLOCK_EVERY = 256;

const { runtime, nodes, lib } = nunjucks;
const hasOwn = Object.hasOwn;
const SafeString = runtime.SafeString;

// ---------------------------------------------------------------------------------------------
// Limits of the task being rendered (one task at a time per process).

/** Raised when a limit is hit; the message is what the recipient's failure says. */
class LimitExceeded extends Error {}

const limits = { deadline: Infinity, timeoutMs: 0, maxChars: Infinity, maxBytes: 0, produced: 0, steps: 0, exceeded: undefined };

function exceed(message) {
  limits.exceeded ??= message;
  throw new LimitExceeded(limits.exceeded);
}

function step() {
  if (limits.exceeded) throw new LimitExceeded(limits.exceeded);
  if (++limits.steps % CLOCK_EVERY === 0 && performance.now() > limits.deadline) exceed(`render timed out after ${limits.timeoutMs} ms`);
}

function outputOver() {
  return exceed(`output over ${limits.maxBytes} bytes`);
}

function produce(text) {
  limits.produced += text.length;
  if (limits.produced > limits.maxChars) outputOver();
  step();
  return text;
}

/** Refuses before building a string of `length` characters that no output could hold. */
function fits(length) {
  if (length > limits.maxChars) outputOver();
}

// ---------------------------------------------------------------------------------------------
// Values a template may hold.

/** Functions a template may call: macros, the globals below, and what they return. */
const callable = new WeakSet();

function allow(fn) {
  // A template can concatenate or print a function; it gets nothing, never JavaScript source.
  Object.defineProperty(fn, 'toString', { value: () => '', enumerable: false });
  callable.add(fn);
  return fn;
}

function isPlainObject(value) {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** What a template may hold: functions only from the allowlist. */
function admit(value) {
  return typeof value === 'function' && !callable.has(value) ? undefined : value;
}

function propertyKey(key) {
  if (typeof key === 'string' || typeof key === 'number') return String(key);
  if (key instanceof SafeString) return key.val;
  return undefined;
}

/** `obj.key` and `obj[key]` in a template: own data properties of data, `length` of strings and arrays. */
function safeGet(obj, key) {
  if (obj === undefined || obj === null) return undefined;
  const name = propertyKey(key);
  if (name === undefined) return undefined;
  if (typeof obj === 'string' || obj instanceof SafeString) {
    const text = typeof obj === 'string' ? obj : obj.val;
    if (name === 'length') return text.length;
    return /^(0|[1-9]\d*)$/.test(name) ? text[Number(name)] : undefined;
  }
  if (typeof obj !== 'object') return undefined;
  if (!Array.isArray(obj) && !isPlainObject(obj)) return undefined;
  const descriptor = Object.getOwnPropertyDescriptor(obj, name);
  if (!descriptor || !('value' in descriptor)) return undefined;
  return admit(descriptor.value);
}

/**
 * How a value prints: never through a template-reachable toString or valueOf. A list is written
 * out within `budget` (characters left under the output limit): ten references to one list cost a
 * template nothing to hold, so nested lists can stand for far more text than any heap holds.
 */
function toText(value, depth = 0, budget = { left: limits.maxChars }) {
  if (value === undefined || value === null) return '';
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'function':
      return '';
    case 'object': {
      if (value instanceof SafeString) return value.val;
      if (value instanceof RegExp) return String(value);
      if (!Array.isArray(value)) return '[object Object]';
      if (depth > 20) return '';
      const parts = [];
      for (const item of value) {
        const part = toText(item, depth + 1, budget);
        // Leaves and separators count once, however deep they sit.
        budget.left -= (Array.isArray(item) ? 0 : part.length) + 1;
        if (budget.left < -1) outputOver();
        if (parts.push(part) % CLOCK_EVERY === 0) step();
      }
      return parts.join(',');
    }
    default:
      return '';
  }
}

/** JavaScript's string conversion for `~` and `+` (`none` is "null"), with lists written out within the limit. */
function textOf(value) {
  if (typeof value === 'string') return value;
  if (value instanceof SafeString) return value.val;
  if (typeof value === 'function') return '';
  if (value !== null && typeof value === 'object') return toText(value);
  return String(value);
}

/** `a ~ b`: both sides as text, refused before the result would pass the output limit. */
function concat(left, right) {
  step();
  const a = textOf(left);
  const b = textOf(right);
  fits(a.length + b.length);
  return a + b;
}

/** `a + b`: numbers add as before; once a string or list is involved it is a metered concatenation. */
function add(left, right) {
  const textual = (value) => typeof value === 'string' || typeof value === 'function' || (value !== null && typeof value === 'object');
  return textual(left) || textual(right) ? concat(left, right) : left + right;
}

// ---------------------------------------------------------------------------------------------
// The globals: bounded, and built from closures so nothing depends on `this`.

function range(start, stop, step) {
  if (stop === undefined) {
    stop = start;
    start = 0;
    step = 1;
  } else if (!step) {
    step = 1;
  }
  [start, stop, step] = [Number(start), Number(stop), Number(step)];
  if (![start, stop, step].every(Number.isFinite)) throw new Error('range() needs finite numbers');
  const count = Math.max(0, Math.ceil((stop - start) / step));
  if (count > MAX_RANGE_ITEMS) throw new Error(`range() would make ${count} numbers; at most ${MAX_RANGE_ITEMS} are allowed`);
  const numbers = [];
  if (step > 0) for (let i = start; i < stop; i += step) numbers.push(i);
  else for (let i = start; i > stop; i += step) numbers.push(i);
  return numbers;
}

function cycler(...items) {
  let index = -1;
  const state = { current: null };
  state.next = allow(() => {
    index = index + 1 >= items.length ? 0 : index + 1;
    state.current = items[index];
    return state.current;
  });
  state.reset = allow(() => {
    index = -1;
    state.current = null;
  });
  return state;
}

function joiner(separator) {
  const sep = separator === undefined || separator === null || separator === '' ? ',' : separator;
  let first = true;
  return allow(() => {
    const out = first ? '' : sep;
    first = false;
    return out;
  });
}

const globals = Object.assign(Object.create(null), { range: allow(range), cycler: allow(cycler), joiner: allow(joiner) });

// ---------------------------------------------------------------------------------------------
// The runtime compiled templates call (the shared `nunjucks.runtime` module object).

const originalFromIterator = runtime.fromIterator;
const originalFrameSet = runtime.Frame.prototype.set;

Object.assign(runtime, {
  memberLookup(obj, key) {
    step();
    return safeGet(obj, key);
  },
  contextOrFrameLookup(context, frame, name) {
    step();
    for (let f = frame; f; f = f.parent) {
      if (hasOwn(f.variables, name) && f.variables[name] !== undefined) return admit(f.variables[name]);
    }
    if (hasOwn(context.ctx, name)) return admit(context.ctx[name]);
    return hasOwn(globals, name) ? globals[name] : undefined;
  },
  callWrap(obj, name, context, args) {
    step();
    if (!obj) throw new Error(`Unable to call \`${name}\`, which is undefined or falsey`);
    if (typeof obj !== 'function') throw new Error(`Unable to call \`${name}\`, which is not a function`);
    if (!callable.has(obj)) throw new Error(`Unable to call \`${name}\`: templates can only call macros, range, cycler and joiner`);
    return admit(Reflect.apply(obj, context, args));
  },
  makeMacro(argNames, kwargNames, func) {
    return allow(makeMacro(argNames, kwargNames, func));
  },
  suppressValue(value, autoescape) {
    if (value instanceof SafeString) return produce(value.val);
    const text = toText(value);
    if (!autoescape) return produce(text);
    // Escaping can only grow the text: refuse before escaping what could never be written.
    fits(limits.produced + text.length);
    return produce(lib.escape(text));
  },
  heraldConcat: concat,
  heraldAdd: add,
  /** Literal text between tags (see compileOutput below). */
  countText: produce,
  inOperator(key, value) {
    if (Array.isArray(value)) return value.includes(key);
    if (typeof value === 'string' || value instanceof SafeString) return toText(value).includes(toText(key));
    if (value !== null && typeof value === 'object' && isPlainObject(value)) return hasOwn(value, toText(key));
    throw new Error('the "in" operator needs a list, a string or an object on its right');
  },
  fromIterator(value) {
    return typeof value === 'function' ? [] : originalFromIterator(value);
  },
});

runtime.Frame.prototype.set = function set(name, value, resolveUp) {
  // Every loop iteration sets its variables here, so loops without output still see the clock.
  step();
  if (typeof value === 'string') fits(value.length);
  return originalFrameSet.call(this, name, value, resolveUp);
};

/**
 * nunjucks' makeMacro, except for where parameters come from. nunjucks read a parameter without
 * an argument as `kwargs[name]` on a plain `{}`, so `{% macro m(toString) %}` got
 * Object.prototype.toString; here the keyword arguments are copied into a null-prototype object
 * and a missing parameter is undefined.
 */
function makeMacro(argNames, kwargNames, func) {
  return function macro(...macroArgs) {
    const last = macroArgs[macroArgs.length - 1];
    const hasKeywords = last !== null && typeof last === 'object' && hasOwn(last, '__keywords');
    const positional = hasKeywords ? macroArgs.slice(0, -1) : macroArgs;
    const kwargs = Object.create(null);
    if (hasKeywords) for (const key of Object.keys(last)) kwargs[key] = last[key];
    const args = positional.slice(0, argNames.length);
    // Positional arguments beyond the parameters fill the keyword parameters in order.
    positional.slice(argNames.length).forEach((value, i) => {
      if (i < kwargNames.length) kwargs[kwargNames[i]] = value;
    });
    // Parameters without a positional argument may be given by name; otherwise they are undefined.
    for (let i = args.length; i < argNames.length; i++) {
      const name = argNames[i];
      args.push(hasOwn(kwargs, name) ? kwargs[name] : undefined);
      delete kwargs[name];
    }
    args.push(kwargs);
    return func.apply(this, args);
  };
}

// Literal text between tags is normally appended without a runtime call; route it through
// `runtime.countText` so a loop that repeats text counts against the output cap as it grows.
/** `a ~ b` and `a + b` call the metered runtime functions above instead of JavaScript's `+`. */
function compileMetered(runtimeFunction) {
  return function compileBinary(node, frame) {
    this._emit(`runtime.${runtimeFunction}(`);
    this.compile(node.left, frame);
    this._emit(', ');
    this.compile(node.right, frame);
    this._emit(')');
  };
}
nunjucks.compiler.Compiler.prototype.compileConcat = compileMetered('heraldConcat');
nunjucks.compiler.Compiler.prototype.compileAdd = compileMetered('heraldAdd');

nunjucks.compiler.Compiler.prototype.compileOutput = function compileOutput(node, frame) {
  for (const child of node.children) {
    if (child instanceof nodes.TemplateData) {
      if (child.value) {
        this._emit(`${this.buffer} += runtime.countText(`);
        this.compileLiteral(child, frame);
        this._emitLine(');');
      }
    } else {
      this._emit(`${this.buffer} += runtime.suppressValue(`);
      if (this.throwOnUndefined) this._emit('runtime.ensureDefined(');
      this.compile(child, frame);
      if (this.throwOnUndefined) this._emit(`,${node.lineno},${node.colno})`);
      this._emit(', env.opts.autoescape);\n');
    }
  }
};

// ---------------------------------------------------------------------------------------------
// Environments: no loaders, no extensions, own-property filter and test tables.

/** Filters that read attributes by name read them through safeGet. */
const attributeFilters = {
  join(arr, del, attr) {
    const items = Array.from(arr ?? [], (item) => (attr ? safeGet(item, attr) : item));
    const separator = del ? toText(del) : '';
    // One budget for all items: each may fit the limit while their join does not.
    const budget = { left: limits.maxChars };
    const parts = items.map((item) => {
      const part = toText(item, 0, budget);
      budget.left -= (Array.isArray(item) ? 0 : part.length) + separator.length;
      if (budget.left < -separator.length) outputOver();
      return part;
    });
    return parts.join(separator);
  },
  sum(arr, attr, start = 0) {
    return Array.from(arr ?? [], (item) => (attr ? safeGet(item, attr) : item)).reduce((a, b) => add(a, b), start);
  },
  selectattr(arr, attr) {
    return Array.from(arr ?? []).filter((item) => !!safeGet(item, attr));
  },
  rejectattr(arr, attr) {
    return Array.from(arr ?? []).filter((item) => !safeGet(item, attr));
  },
  groupby(arr, attr) {
    const groups = Object.create(null);
    for (const item of Array.from(arr ?? [])) {
      let value = item;
      for (const part of toText(attr).split('.')) value = safeGet(value, part);
      const key = toText(value);
      if (!hasOwn(groups, key)) groups[key] = [];
      groups[key].push(item);
    }
    return groups;
  },
  string(value) {
    return value instanceof SafeString ? value : toText(value);
  },
};

/** `list` and `reverse` make a list of a string's characters: bounded by the item limit. `wordcount` counts without a list. */
const stringListFilters = {
  list(value) {
    if (typeof value === 'string' && value.length > MAX_RANGE_ITEMS)
      throw new Error(`the list filter would make ${value.length} items; at most ${MAX_RANGE_ITEMS} are allowed`);
    return builtinFilters.list(value);
  },
  reverse(value) {
    const text = typeof value === 'string' ? value : value instanceof SafeString ? value.val : undefined;
    if (text !== undefined && text.length > MAX_RANGE_ITEMS)
      throw new Error(`the reverse filter would make ${text.length} items; at most ${MAX_RANGE_ITEMS} are allowed`);
    return builtinFilters.reverse(value);
  },
  /** The number of words, counted without making the list of them nunjucks made. */
  wordcount(value) {
    const text = value === undefined || value === null ? '' : typeof value === 'string' ? value : value instanceof SafeString ? value.val : undefined;
    if (text === undefined) return builtinFilters.wordcount(value);
    const word = /\w+/g;
    let count = 0;
    while (word.exec(text) !== null) if (++count % CLOCK_EVERY === 0) step();
    return count || null;
  },
};

const builtinFilters = new nunjucks.Environment([]).filters;

/**
 * Filters that build their whole result in one native call, replaced by versions that stop at the
 * output limit while they build. Checking the result afterwards is not enough: on Node 24 the
 * thread's heap limit no longer stops JSON.stringify (it built a 490 MB string in a thread capped
 * at 64 MB), so `dump` must never build more than the output limit allows.
 */
const boundedFilters = {
  dump(obj, spaces) {
    const indent = typeof spaces === 'number' ? Math.min(10, Math.max(0, Math.floor(spaces))) : typeof spaces === 'string' ? Math.min(10, spaces.length) : 0;
    const depths = new WeakMap();
    let size = 0;
    // Called for every value before it is written (`this` is its parent): the size counts a lower
    // bound of what the value adds (its key, its indentation, a primitive's characters).
    return JSON.stringify(
      obj,
      function countOutput(key, value) {
        step();
        const depth = (depths.get(this) ?? 0) + 1;
        if (value !== null && typeof value === 'object') depths.set(value, depth);
        size += key.length + 2 + indent * depth + (typeof value === 'object' || typeof value === 'function' || value === undefined ? 0 : String(value).length);
        if (size > limits.maxChars) exceed(`output over ${limits.maxBytes} bytes`);
        return value;
      },
      spaces,
    );
  },
};

/** Filters whose numeric argument sizes what they build: refused before they build it. */
const sizeArguments = { center: 'chars', indent: 'chars', batch: 'items', slice: 'items' };

/**
 * The most a filter can grow its text input (Unicode case mapping makes up to 3 characters of one,
 * percent-encoding 9 of one UTF-16 unit, HTML escaping 6, JSON escaping 6, nl2br 7, urlize a link of a short word).
 * Filters not listed may keep or shrink their input but still get at most the output limit of it;
 * `noTextInput` filters only look at their input (or return it as it is) and get any size.
 */
const textGrowth = { upper: 3, lower: 3, capitalize: 3, title: 3, urlencode: 9, escape: 6, e: 6, forceescape: 6, dump: 6, nl2br: 7, urlize: 16 };
const noTextInput = new Set(['length', 'default', 'd', 'first', 'last', 'safe', 'string', 'truncate', 'random', 'list', 'reverse']);
/** Filters that read a list as a list; every other filter may turn a list into text natively (String(list) is a join). */
const listFilters = new Set([
  'length',
  'default',
  'd',
  'first',
  'last',
  'join',
  'sort',
  'batch',
  'slice',
  'sum',
  'select',
  'reject',
  'selectattr',
  'rejectattr',
  'groupby',
  'dictsort',
  'list',
  'reverse',
  'random',
  'dump',
  'string',
  'safe',
]);

function occurrences(text, needle, most) {
  let count = 0;
  for (let at = text.indexOf(needle); at !== -1 && count < most; at = text.indexOf(needle, at + needle.length)) if (++count % CLOCK_EVERY === 0) step();
  return count;
}

/**
 * The most `text.replace(pattern, replacement)` can add, stopping once it passes `limit`: per match
 * the replacement, plus the match for each `$&`/`$1`... in it, plus the whole input for each `$\``
 * or `$'`. Without the g flag there is one match at most (not run here: it could be as slow as the
 * replace itself).
 */
function regexGrowth(text, pattern, replacement, limit) {
  const each = replacement.length;
  const wide = replacement.match(/\$[`']/g)?.length ?? 0;
  const narrow = (replacement.match(/\$/g)?.length ?? 0) - wide;
  if (!pattern.global) return each + (wide + narrow) * text.length;
  const copy = new RegExp(pattern.source, pattern.flags);
  let growth = 0;
  let count = 0;
  for (let match = copy.exec(text); match !== null && growth <= limit; match = copy.exec(text)) {
    // An empty match does not move on by itself.
    if (match[0] === '') copy.lastIndex++;
    growth += each + narrow * match[0].length + wide * text.length;
    if (++count % CLOCK_EVERY === 0) step();
  }
  return growth;
}

/** Refuses a filter call whose result could pass the output limit, before the filter builds it. */
function checkTextInput(name, args) {
  const input = args[0];
  if (noTextInput.has(name)) return;
  let size;
  if (typeof input === 'string') size = input.length;
  else if (input instanceof SafeString) size = input.val.length;
  else if (input !== null && typeof input === 'object' && !listFilters.has(name))
    size = Array.isArray(input) ? toText(input).length : Object.keys(input).reduce((sum, key) => sum + key.length + toText(input[key]).length + 2, 0);
  if (size === undefined) return;
  const tooBig = (most) => {
    if (most > limits.maxChars) exceed(`output over ${limits.maxBytes} bytes (the ${name} filter was given ${size} characters)`);
  };
  tooBig(size * (textGrowth[name] ?? 1));
  const text = typeof input === 'string' ? input : input instanceof SafeString ? input.val : undefined;
  if (text === undefined) return;
  if (name === 'replace') {
    const [, old, replacement, maxCount] = args;
    // A function replacement is a macro, whose output is counted as it is written.
    if (typeof replacement === 'function') return;
    const each = textOf(replacement).length;
    if (old instanceof RegExp) {
      tooBig(size + regexGrowth(text, old, textOf(replacement), limits.maxChars));
      return;
    }
    if (each === 0) return;
    const most = Math.floor(limits.maxChars / each) + 1;
    const count =
      old === ''
        ? text.length + 1
        : typeof old === 'string' || typeof old === 'number'
          ? occurrences(text, String(old), typeof maxCount === 'number' && maxCount >= 0 ? Math.min(maxCount, most) : most)
          : 0;
    tooBig(size + count * each);
  } else if (name === 'indent') {
    const width = typeof args[1] === 'number' ? args[1] : 4;
    tooBig(size + (occurrences(text, '\n', Math.floor(limits.maxChars / Math.max(1, width)) + 1) + 1) * Math.max(0, width));
  }
}

function checkSizeArgument(name, size) {
  const kind = sizeArguments[name];
  if (kind === undefined || typeof size !== 'number') return;
  if (kind === 'chars' && size > limits.maxChars) exceed(`output over ${limits.maxBytes} bytes`);
  if (kind === 'items' && size > MAX_RANGE_ITEMS) throw new Error(`the ${name} filter was asked for ${size} items; at most ${MAX_RANGE_ITEMS} are allowed`);
}

function hardenEnvironment(env) {
  const builtin = env.filters;
  const filters = Object.create(null);
  for (const name of Object.keys(builtin)) {
    const filter = hasOwn(attributeFilters, name)
      ? attributeFilters[name]
      : hasOwn(boundedFilters, name)
        ? boundedFilters[name]
        : hasOwn(stringListFilters, name)
          ? stringListFilters[name]
          : builtin[name];
    filters[name] = function checkedFilter(...args) {
      step();
      checkSizeArgument(name, args[1]);
      checkTextInput(name, args);
      const result = admit(Reflect.apply(filter, this, args));
      const size = typeof result === 'string' ? result.length : result instanceof SafeString ? result.val.length : 0;
      if (size > limits.maxChars) exceed(`output over ${limits.maxBytes} bytes`);
      return result;
    };
  }
  const tests = Object.assign(Object.create(null), env.tests);
  Object.assign(env, {
    filters,
    tests,
    globals,
    extensions: Object.create(null),
    getFilter(name) {
      if (!hasOwn(filters, name)) throw new Error(`filter not found: ${name}`);
      return filters[name];
    },
    getTest(name) {
      if (!hasOwn(tests, name)) throw new Error(`test not found: ${name}`);
      return tests[name];
    },
    getExtension() {
      throw new Error('campaign templates have no extensions');
    },
    getTemplate() {
      throw new Error('campaign templates cannot load other templates');
    },
    addFilter() {
      throw new Error('read-only environment');
    },
    addGlobal() {
      throw new Error('read-only environment');
    },
  });
  return env;
}

const environments = {
  html: hardenEnvironment(new nunjucks.Environment([], { autoescape: true })),
  text: hardenEnvironment(new nunjucks.Environment([], { autoescape: false })),
};

// ---------------------------------------------------------------------------------------------
// Compiling and rendering.

/** kind + source -> a compiled template, or the reason it is refused. */
const compiled = new Map();

function compile(source, kind) {
  const key = `${kind}\u0000${source}`;
  let entry = compiled.get(key);
  if (entry) {
    compiled.delete(key);
  } else {
    const problem = templateSafetyProblem(source);
    // `eagerCompile`: syntax errors surface here, not at first render.
    entry = problem ? { problem } : { template: new nunjucks.Template(source, environments[kind], undefined, true) };
    if (compiled.size >= MAX_CACHED_TEMPLATES) compiled.delete(compiled.keys().next().value);
  }
  compiled.set(key, entry);
  if (entry.problem) throw new TemplateRefused(entry.problem);
  return entry.template;
}

class TemplateRefused extends Error {}

/** nunjucks' "(unknown path) [Line 1, Column 4]\n  Error: ..." as "line 1, column 4: ...". */
function describe(error) {
  const raw = error instanceof Error ? error.message : String(error);
  let message = raw.replace(/^\(unknown path\)\s*/, '');
  const position = /^\[Line (\d+), Column (\d+)\]\s*/.exec(message);
  if (position) message = message.slice(position[0].length);
  message = message
    .replace(/^(Template render )?Error:\s*/, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (message.length > 300) message = `${message.slice(0, 300)}…`;
  return position ? `line ${position[1]}, column ${position[2]}: ${message}` : message;
}

function renderPart(part, source, kind, variables) {
  try {
    return compile(source, kind).render(variables);
  } catch (error) {
    if (limits.exceeded) throw new LimitExceeded(limits.exceeded);
    if (error instanceof TemplateRefused) throw new TemplateRefused(`${part}: ${error.message}`);
    if (/Maximum call stack/i.test(String(error?.message))) throw new TemplateRefused(`${part}: templates may not nest or recurse this deeply`);
    throw new TemplateRefused(`${part}: ${describe(error)}`);
  }
}

/** HTML beyond this many characters is left out of the derived plain text (it ends in "..."). */
export const MAX_PLAIN_TEXT_INPUT = 256 * 1024;

/**
 * The plain-text part of an email that has no `text` template, derived from its rendered HTML:
 * block structure kept, lines wrapped at 80 columns, links as `text [url]`. Bounded, so that
 * hostile HTML costs at most a few hundred milliseconds here, off the worker's event loop:
 * content nested deeper than 100 elements is cut to "..." (no deep recursion) and the input is
 * cut at MAX_PLAIN_TEXT_INPUT. Undefined if the conversion fails: the email then goes without text.
 */
function plainTextOf(html) {
  try {
    return htmlToText(html, { wordwrap: 80, limits: { maxDepth: 100, maxInputLength: MAX_PLAIN_TEXT_INPUT } });
  } catch {
    return undefined;
  }
}

/** Renders one email; never throws for a template's fault (see RenderTaskResult). */
/**
 * The open pixel and rewritten links (tracking-rewrite.mjs). A failure here leaves the email
 * untracked rather than failing the recipient: tracking is never worth a lost message.
 */
function trackedHtml(html, tracking) {
  try {
    return addTracking(html, tracking);
  } catch {
    return undefined;
  }
}

/** The same for plain text (an SMS body): its http(s) URLs rewritten, no pixel. */
function trackedText(text, tracking) {
  try {
    return addTextTracking(text, tracking);
  } catch {
    return undefined;
  }
}

export default function renderEmailTask({ content, variables, timeoutMs, maxBytes, tracking }) {
  Object.assign(limits, { deadline: performance.now() + timeoutMs, timeoutMs, maxChars: maxBytes, maxBytes, produced: 0, steps: 0, exceeded: undefined });
  try {
    // `digest` only for the send steps after a digest step (src/domain/campaign-steps.ts); `preferencesUrl` the recipient's preference page.
    const vars = {
      profile: variables.profile,
      context: variables.context,
      ...(variables.digest && { digest: variables.digest }),
      ...(typeof variables.preferencesUrl === 'string' && { preferencesUrl: variables.preferencesUrl }),
    };
    const subject = renderPart('subject', content.subject, 'text', vars);
    const html = renderPart('html', content.html, 'html', vars);
    const text = typeof content.text === 'string' ? renderPart('text', content.text, 'text', vars) : undefined;
    const bytes = Buffer.byteLength(subject) + Buffer.byteLength(html) + (text === undefined ? 0 : Buffer.byteLength(text));
    if (bytes > maxBytes) exceed(`output over ${maxBytes} bytes`);
    // Without a text template, the plain-text part comes from the HTML (not counted in maxBytes).
    const plain = text ?? plainTextOf(html);
    if (tracking?.part === 'text') {
      // SMS click tracking, on the rendered text (the body): its URLs rewritten, nothing else.
      const trackedBody = tracking.clicks && plain !== undefined ? trackedText(plain, tracking) : undefined;
      return { ok: true, subject, html, ...(plain !== undefined && { text: trackedBody?.text ?? plain }), ...(trackedBody && { links: trackedBody.links }) };
    }
    // Engagement tracking, on the rendered HTML (the plain text keeps the original links).
    const tracked = tracking ? trackedHtml(html, tracking) : undefined;
    return { ok: true, subject, html: tracked?.html ?? html, ...(plain !== undefined && { text: plain }), ...(tracked && { links: tracked.links }) };
  } catch (error) {
    if (limits.exceeded) return { ok: false, message: limits.exceeded, limit: limits.exceeded.startsWith('render timed out') ? 'time' : 'output' };
    if (error instanceof TemplateRefused) return { ok: false, message: error.message };
    if (error instanceof RangeError) return { ok: false, message: describe(error) };
    throw error;
  } finally {
    limits.deadline = Infinity;
  }
}
