/**
 * Known server-side template injection payloads for nunjucks (and JavaScript template engines
 * in general), as campaign templates. Each one either:
 * - `refused`: the static check refuses it, so `POST /v1/campaigns` answers 400 (and a render
 *   thread refuses it too, for campaigns saved before the check existed); or
 * - `inert`: it passes the static check (nothing in it is a fixed forbidden name) and renders,
 *   or fails its recipient with `render-error: …`, without any trace of JavaScript running.
 *
 * Payloads that would run code compute the marker PWNED with JavaScript ('PWN' + 'ED'), so the
 * marker appears in an email only if JavaScript ran. Tests also look for the test process's
 * canary environment variable, HOME, Function source and `[native code]`.
 */
export interface SstiPayload {
  name: string;
  template: string;
  expect: 'refused' | 'inert';
  /** The campaign field it goes into; html unless stated. */
  field?: 'subject' | 'html' | 'text';
  /** The trigger's context (shared by every recipient). */
  context?: Record<string, unknown>;
  /** What the refusal says, for refused payloads. */
  reason?: RegExp;
}

const RUN = `"return 'PWN'+'ED'"`;
const ENV = `"return process.env.HERALD_CANARY"`;
/** Builds `Function` from the template with JavaScript escapes the lexer lets through as a name. */
const FN = 'Function`return\\u0020process\\u002eenv\\u002eHERALD_CANARY```';

export const SSTI_PAYLOADS: SstiPayload[] = [
  // --- The globals' constructors: Function itself.
  { name: 'range.constructor', template: '{{ range.constructor("return process.env")() }}', expect: 'refused', reason: /`constructor` is not allowed/ },
  { name: 'range.constructor reads the canary', template: `{{ range.constructor(${ENV})() }}`, expect: 'refused', reason: /constructor/ },
  { name: 'cycler.constructor', template: '{{ cycler.constructor("return process.env.HOME")() }}', expect: 'refused', reason: /constructor/ },
  { name: 'joiner.constructor', template: `{{ joiner.constructor(${RUN})() }}`, expect: 'refused', reason: /constructor/ },
  { name: 'string constructor.constructor', template: `{{ "".constructor.constructor(${ENV})() }}`, expect: 'refused', reason: /constructor/ },
  { name: 'array constructor.constructor', template: `{{ [].constructor.constructor(${RUN})() }}`, expect: 'refused', reason: /constructor/ },
  { name: 'dict constructor', template: `{{ {}.constructor.constructor(${RUN})() }}`, expect: 'refused', reason: /constructor/ },
  { name: 'bare constructor', template: '{{ constructor }}', expect: 'refused', reason: /constructor/ },
  { name: 'bare constructor.constructor', template: `{{ constructor.constructor(${RUN})() }}`, expect: 'refused', reason: /constructor/ },
  { name: 'range bound to a variable', template: `{% set x = range %}{{ x.constructor(${RUN})() }}`, expect: 'refused', reason: /constructor/ },
  { name: 'subscript with a string', template: `{{ range["constructor"](${RUN})() }}`, expect: 'refused', reason: /constructor/ },
  { name: 'concatenated key', template: `{{ range["constr" ~ "uctor"](${RUN})() }}`, expect: 'refused', reason: /constructor/ },
  { name: 'added key', template: `{{ range["constr" + "uctor"]["constr" + "uctor"](${RUN})() }}`, expect: 'refused', reason: /constructor/ },
  { name: 'Function.call', template: `{{ range.constructor.call(null, ${RUN})() }}`, expect: 'refused', reason: /constructor/ },
  { name: 'constructor in the subject', template: `{{ range.constructor(${ENV})() }}`, field: 'subject', expect: 'refused', reason: /constructor/ },
  { name: 'constructor in the text part', template: `{{ cycler.constructor(${ENV})() }}`, field: 'text', expect: 'refused', reason: /constructor/ },
  // --- Prototypes.
  { name: '__proto__', template: '{{ profile.__proto__ }}', expect: 'refused', reason: /`__proto__` is not allowed/ },
  { name: '__proto__ by subscript', template: '{{ context["__proto__"]["polluted"] }}', expect: 'refused', reason: /__proto__/ },
  { name: 'prototype', template: '{{ range.prototype }}', expect: 'refused', reason: /`prototype` is not allowed/ },
  { name: '__defineGetter__', template: '{{ context.__defineGetter__("x", range) }}', expect: 'refused', reason: /__defineGetter__/ },
  { name: '__lookupGetter__', template: '{{ context.__lookupGetter__("__proto__") }}', expect: 'refused', reason: /__lookupGetter__|__proto__/ },
  { name: 'dict literal with __proto__', template: '{% set d = {"__proto__": {"x": 1} } %}{{ d.x }}', expect: 'refused', reason: /__proto__/ },
  { name: 'set a variable named constructor', template: '{% set constructor = 1 %}{{ constructor }}', expect: 'refused', reason: /constructor/ },
  // --- Filters that take attribute names.
  { name: 'sort(attribute=constructor)', template: '{{ [range] | sort(attribute="constructor") | first }}', expect: 'refused', reason: /constructor/ },
  { name: 'groupby constructor', template: '{{ [range] | groupby("constructor") | dump }}', expect: 'refused', reason: /constructor/ },
  { name: 'groupby dotted path', template: '{{ [range] | groupby("constructor.name") | dump }}', expect: 'refused', reason: /constructor/ },
  { name: 'join(attribute)', template: '{{ [range] | join(",", "constructor") }}', expect: 'refused', reason: /constructor/ },
  { name: 'sum(attribute)', template: '{{ [range] | sum("constructor") }}', expect: 'refused', reason: /constructor/ },
  { name: 'selectattr', template: '{{ [range] | selectattr("prototype") | length }}', expect: 'refused', reason: /prototype/ },
  { name: 'dictsort by __proto__', template: '{{ context | dictsort(false, "__proto__") }}', expect: 'refused', reason: /__proto__/ },
  { name: 'a filter named constructor', template: '{{ "x" | constructor }}', expect: 'refused', reason: /constructor/ },
  { name: 'a test named constructor', template: '{{ "x" is constructor }}', expect: 'refused', reason: /constructor/ },
  // --- Loading other templates.
  { name: 'include /etc/passwd', template: '{% include "/etc/passwd" %}', expect: 'refused', reason: /\{% include %\} is not allowed/ },
  { name: 'include ignore missing', template: '{% include "../../.env" ignore missing %}', expect: 'refused', reason: /include/ },
  { name: 'import', template: '{% import "/etc/passwd" as p %}{{ p }}', expect: 'refused', reason: /\{% import %\} is not allowed/ },
  { name: 'from import', template: '{% from "/etc/hosts" import x %}{{ x }}', expect: 'refused', reason: /\{% from %\} is not allowed/ },
  { name: 'extends', template: '{% extends "/etc/passwd" %}', expect: 'refused', reason: /\{% extends %\} is not allowed/ },
  // --- JavaScript's globals.
  { name: 'process.env', template: '{{ process.env.HERALD_CANARY }}', expect: 'refused', reason: /`process` is not available/ },
  { name: 'global.process', template: '{{ global.process.env.HOME }}', expect: 'refused', reason: /`global` is not available/ },
  { name: 'globalThis', template: '{{ globalThis.process.mainModule }}', expect: 'refused', reason: /`globalThis` is not available/ },
  { name: 'require', template: '{{ require("child_process").execSync("id") }}', expect: 'refused', reason: /`require` is not available/ },
  { name: 'this', template: '{{ this.constructor }}', expect: 'refused', reason: /this|constructor/ },
  { name: 'Function by name', template: `{{ Function(${RUN})() }}`, expect: 'refused', reason: /`Function` is not available/ },
  // --- Names nunjucks writes into its generated JavaScript unescaped.
  { name: 'code in a variable name', template: `{{ a"&&${FN}&&" }}`, expect: 'refused', reason: /must be a plain name/ },
  { name: 'code in a {% set %} target', template: `{% set "a\\",${FN},\\"" = 1 %}`, expect: 'refused', reason: /must be a plain name/ },
  { name: 'code in a test name', template: `{{ 1 is "a\\")&&${FN}&&(\\"" }}`, expect: 'refused', reason: /must be a plain name/ },
  { name: 'code in a macro name', template: `{% macro "m\\",${FN},\\""() %}{% endmacro %}`, expect: 'refused', reason: /must be a plain name/ },
  { name: 'asyncEach shadowing the runtime', template: '{% asyncEach runtime in [{}] %}{{ x }}{% endeach %}', expect: 'refused', reason: /asyncEach/ },
  {
    name: 'a number the lexer reads as a name',
    template: '{% for i in range(0, 1e9) %}x{% endfor %}',
    expect: 'refused',
    reason: /neither a number nor a name/,
  },

  // --- Inert: no fixed forbidden name, so the runtime guards are what stops them.
  {
    name: 'key from the context',
    template: '{{ range[context.key][context.key](context.code)() }}',
    context: { key: 'constructor', code: "return 'PWN'+'ED'" },
    expect: 'inert',
  },
  {
    name: 'key from the context on a string',
    template: '{{ ""[context.key][context.key](context.code)() }}',
    context: { key: 'constructor', code: 'return process.env.HERALD_CANARY' },
    expect: 'inert',
  },
  {
    name: 'key built from a variable',
    template: '{% set k = "construct" %}{{ joiner[k ~ "or"][k ~ "or"](context.code)() }}',
    context: { code: "return 'PWN'+'ED'" },
    expect: 'inert',
  },
  {
    name: 'inherited lookup through a variable key',
    template: '{{ profile[context.key] }}|{{ context[context.key] }}|{{ loop[context.key] }}',
    context: { key: 'constructor' },
    expect: 'inert',
  },
  {
    name: '__proto__ through a variable key',
    template: '{{ context[context.key][context.other] }}',
    context: { key: '__proto__', other: 'constructor' },
    expect: 'inert',
  },
  {
    name: 'sort by an attribute from the context',
    template: '{{ [range, cycler] | sort(attribute=context.key) | join(",", context.key) }}',
    context: { key: 'constructor' },
    expect: 'inert',
  },
  {
    name: 'groupby an attribute from the context',
    template: '{{ [range] | groupby(context.key) | dump }}|{{ [range] | sum(context.key) }}',
    context: { key: 'constructor' },
    expect: 'inert',
  },
  {
    name: 'printing a function',
    template:
      '{{ range }}|{{ "" ~ range }}|{{ range | string }}|{{ range | safe }}|{{ range | escape }}|{{ range | dump }}|{{ range | center(60) }}|{{ cycler("a").next }}|{{ joiner() ~ joiner }}',
    expect: 'inert',
  },
  { name: 'printing a macro', template: '{% macro m() %}x{% endmacro %}{{ m }}|{{ "" ~ m }}|{{ m | string }}', expect: 'inert' },
  {
    name: 'a macro’s caller and arguments',
    template: '{% macro m() %}{{ m.caller }}|{{ m.arguments }}|{{ m.name }}|{{ m.length }}|{{ m.call }}|{{ m.apply }}{% endmacro %}{{ m() }}',
    expect: 'inert',
  },
  {
    name: 'caller() as a value',
    template: '{% macro m() %}{{ caller }}|{{ caller.call }}|{{ caller.bind }}{% endmacro %}{% call m() %}x{% endcall %}',
    expect: 'inert',
  },
  { name: 'calling Function.prototype.call', template: '{{ range.call(null, 3) }}', expect: 'inert' },
  { name: 'string methods', template: '{{ "abc".toUpperCase() }}', expect: 'inert' },
  { name: 'array methods', template: '{{ [1, 2].concat([3]) }}', expect: 'inert' },
  { name: 'regex methods', template: '{% set r = r/x/g %}{{ r.exec("x") }}{{ r.source }}{{ r.compile }}', expect: 'inert' },
  { name: 'calling a filtered function', template: '{{ (range | safe)(1) }}', expect: 'inert' },
  {
    name: 'data with constructor and __proto__ keys',
    template:
      '{% for k, v in context.obj %}{{ k }}={{ v | dump }};{% endfor %}{{ context.obj[context.key] | dump }}{{ context.polluted }}{{ profile.polluted }}',
    context: { key: 'constructor', obj: JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": "p"}}') },
    expect: 'inert',
  },
  {
    name: 'data named like methods',
    template: '{{ context.obj }}{{ context.obj | dump }}{{ context.obj.toString }}',
    context: { obj: { toString: 'not a function', valueOf: 'nope' } },
    expect: 'inert',
  },
  {
    name: 'template syntax in the context',
    template: '{{ context.code }}',
    context: { code: '{{ range.constructor("return process.env")() }}{% include "/etc/passwd" %}' },
    expect: 'inert',
  },
  { name: 'looping over a function', template: '{% for k, v in range %}{{ k }}{% endfor %}{% for x in joiner %}{{ x }}{% endfor %}', expect: 'inert' },
  {
    name: '"in" on inherited names',
    template: '{{ "constr" ~ "uct" in profile }}|{{ context.key in context }}',
    context: { key: 'toString' },
    expect: 'inert',
  },
];
