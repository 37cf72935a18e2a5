import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TemplateError } from '../../src/domain/template-renderer';
import { createTemplateRenderer, type RenderEmailInput, type TemplateRenderer } from '../../src/rendering/template-renderer';

/**
 * Issue 18: what a template does costs at most its own render. Filters that V8 runs as one native
 * call abort the whole process on a huge string (a heap cap on a worker thread does not catch that),
 * so strings are metered as they grow and filter inputs are checked before the native call; renders
 * run in child processes, so whatever still kills one costs only that render.
 */
const PROCESS_FATAL_FILTERS = ['upper', 'lower', 'capitalize', 'title', 'urlencode', 'wordcount', 'reverse', 'list'] as const;
/** A 2^25-character string, built by the template itself (each `set` doubles it). */
const HUGE_STRING = '{% set s = "a" %}{% for i in range(25) %}{% set s = s ~ s %}{% endfor %}';

const email = (html: string, extra: Partial<RenderEmailInput> = {}): RenderEmailInput => ({
  content: { subject: 'Hi {{ profile.firstName }}', html },
  profile: { firstName: 'Ada' },
  context: {},
  ...extra,
});

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('the render did not fail');
  return error;
}

/** Pids of this process's render processes (children running tinypool's process entry). */
function renderProcessIds(): number[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when there is no child at all
  }
  return out
    .split('\n')
    .filter((line) => line.includes('tinypool'))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('process isolation of template renders', () => {
  let renderer: TemplateRenderer;
  beforeAll(() => {
    renderer = createTemplateRenderer({ timeoutMs: 5000, maxBytes: 1024 * 1024, processes: 2 });
  });
  afterAll(() => renderer.close());

  describe('filters that abort V8 on a huge string fail the render, and the renderer keeps serving', () => {
    for (const filter of PROCESS_FATAL_FILTERS) {
      it(`${filter} on a 2^25-character string built by the template`, async () => {
        const error = await failure(renderer.renderEmail(email(`${HUGE_STRING}{{ s | ${filter} | length }}`)));
        expect(error).toBeInstanceOf(TemplateError);
        expect(error.message).toMatch(/output over 1048576 bytes|characters/);
        expect((await renderer.renderEmail(email('<p>{{ profile.firstName | upper }}</p>'))).html).toBe('<p>ADA</p>');
      });

      it(`${filter} on a 2^22-character string from the context`, async () => {
        const error = await failure(renderer.renderEmail(email(`{{ context.s | ${filter} | length }}`, { context: { s: 'a b '.repeat(2 ** 20) } })));
        expect(error).toBeInstanceOf(TemplateError);
        expect((await renderer.renderEmail(email('{{ profile.firstName | lower }}'))).html).toBe('ada');
      });
    }

    it('string growth through ~, + and set stops at the output limit, before the string is built', async () => {
      for (const grow of [
        '{% set s = s ~ s %}',
        '{% set s = s + s %}',
        '{% set s = [s, s] | join %}',
        '{% set s = [s, s] ~ "" %}',
        '{% set s = [s] + [s] %}',
      ]) {
        const error = await failure(renderer.renderEmail(email(`{% set s = "a" %}{% for i in range(40) %}${grow}{% endfor %}{{ s | length }}`)));
        expect(error, grow).toBeInstanceOf(TemplateError);
        expect(error.message, grow).toBe('output over 1048576 bytes');
      }
      // Ordinary use is untouched: numbers still add, strings and lists still concatenate.
      const rendered = await renderer.renderEmail(email('{{ 1 + 2 }} {{ "a" + "b" }} {{ "a" ~ 1 ~ none }} {{ ([1] + [2]) }} {{ 1.5 + true }}'));
      expect(rendered.html).toBe('3 ab a1null 12 2.5');
    });

    it('filters that grow their input are refused before they run when the result could pass the limit', async () => {
      const small = createTemplateRenderer({ timeoutMs: 5000, maxBytes: 4096, processes: 1 });
      try {
        for (const template of [
          '{{ context.s | replace("", context.s) | length }}',
          '{{ context.s | replace(r/x/g, context.s) | length }}',
          '{{ context.s | indent(2000) | length }}',
          '{{ context.s | escape | length }}',
          '{{ context.s | urlize | length }}',
        ]) {
          const error = await failure(small.renderEmail(email(template, { context: { s: 'x\n'.repeat(1000) } })));
          expect(error, template).toBeInstanceOf(TemplateError);
        }
        expect((await small.renderEmail(email('{{ context.s | replace("b", "-") | upper }}', { context: { s: 'abc' } }))).html).toBe('A-C');
        // The bound counts real matches: a group reference in the replacement costs its match, not the whole input.
        const long = `${'word '.repeat(500)}order 4711 and 42`;
        expect((await small.renderEmail(email('{{ context.s | replace(r/(\\d+)/g, "#$1") | length }}', { context: { s: long } }))).html).toBe(
          String(long.length + 2),
        );
        expect(
          (
            await small.renderEmail(
              email('{{ context.s | wordcount }} {{ context.s | reverse }} {{ context.s | list | join("|") }}', { context: { s: 'ab cd' } }),
            )
          ).html,
        ).toBe('2 dc ba a|b| |c|d');
      } finally {
        await small.close();
      }
    });
  });

  it('a render process that dies mid-render fails that render only', async () => {
    const others = new Set(renderProcessIds());
    const mine = () => renderProcessIds().filter((pid) => !others.has(pid));
    // One process, so the one killed is the one with the render in it.
    const patient = createTemplateRenderer({ timeoutMs: 30_000, maxBytes: 1024 * 1024, processes: 1 });
    try {
      await patient.renderEmail(email('warm'));
      const before = mine();
      expect(before).toHaveLength(1);
      // A catastrophic regular expression keeps one process busy in one native call.
      const stuck = patient.renderEmail(email('{{ context.s | replace(r/^(a+)+$/, "x") }}', { context: { s: `${'a'.repeat(60)}!` } }));
      await nextTurn();
      await nextTurn();
      // As if V8 aborted it, or the kernel's OOM killer chose it.
      process.kill(before[0]!, 'SIGKILL');
      const error = await failure(stuck);
      expect(error).toBeInstanceOf(TemplateError);
      expect(error.message).toMatch(/^the render process died/);
      // The pool replaced the process; the next renders are fine.
      const after = await Promise.all([patient.renderEmail(email('{{ profile.firstName }}')), patient.renderEmail(email('{{ profile.firstName }}!'))]);
      expect(after.map((r) => r.html)).toEqual(['Ada', 'Ada!']);
    } finally {
      await patient.close();
    }
    // close() leaves no render process behind.
    expect(mine()).toEqual([]);
  });

  it('renders run in processes without the parent environment', async () => {
    process.env.HERALD_ISOLATION_CANARY = 'secret-canary';
    const others = new Set(renderProcessIds());
    const fresh = createTemplateRenderer({ timeoutMs: 5000, maxBytes: 1024 * 1024, processes: 1 });
    try {
      await fresh.renderEmail(email('x'));
      const pids = renderProcessIds().filter((pid) => !others.has(pid));
      expect(pids.length).toBe(1);
      const environ = execFileSync('cat', [`/proc/${pids[0]}/environ`], { encoding: 'utf8' });
      expect(environ).not.toContain('secret-canary');
      expect(environ).not.toContain('PATH=');
    } finally {
      delete process.env.HERALD_ISOLATION_CANARY;
      await fresh.close();
    }
  });

  describe('macro parameters without an argument are undefined (nothing from Object.prototype)', () => {
    it('a parameter named after an Object.prototype method is not that method', async () => {
      const leak = await renderer.renderEmail(email('{% macro m(toString) %}{{ "abc"|replace(r/b/, toString) }}{% endmacro %}{{ m() }}'));
      expect(leak.html).not.toContain('[object');
      expect(leak.html).toBe('aundefinedc');
      const names = ['toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString'];
      const probe = await renderer.renderEmail(
        email(`{% macro m(${names.join(', ')}) %}${names.map((n) => `{{ ${n} is defined }}`).join(',')}{% endmacro %}{{ m() }}`),
      );
      expect(probe.html).toBe(names.map(() => 'false').join(','));
    });

    it('macros keep their arguments, keyword arguments and defaults', async () => {
      const rendered = await renderer.renderEmail(
        email(
          '{% macro m(a, b, c="C") %}{{ a }}/{{ b }}/{{ c }}{% endmacro %}{{ m(1) }} {{ m(1, 2) }} {{ m(1, 2, 3) }} {{ m(b=2, a=1) }} {{ m(1, c=3) }} {% macro k(x) %}[{{ caller() }}{{ x }}]{% endmacro %}{% call k(5) %}in{% endcall %}',
        ),
      );
      expect(rendered.html).toBe('1//C 1/2/C 1/2/3 1/2/C 1//3 [in5]');
    });
  });

  describe('the quarantine is per input, not per content', () => {
    it('a runaway render for one input does not fail a fine render of the same content for another', async () => {
      const fast = createTemplateRenderer({ timeoutMs: 300, maxBytes: 1024 * 1024, processes: 1 });
      try {
        const content = { subject: 'S', html: '{% for i in range(context.n) %}{% for j in range(context.n) %}{% endfor %}{% endfor %}ok {{ context.n }}' };
        const runaway: RenderEmailInput = { content, profile: {}, context: { n: 10_000 } };
        expect((await failure(fast.renderEmail(runaway))).message).toBe('render timed out after 300 ms');
        // Another recipient of the same content, whose own render is fine.
        expect((await fast.renderEmail({ content, profile: {}, context: { n: 3 } })).html).toBe('ok 3');
        // The same input again fails at once.
        const again = Date.now();
        expect((await failure(fast.renderEmail(runaway))).message).toMatch(
          /^render timed out after 300 ms \(on an earlier render of the same content and data; not rendered again for 60 s\)$/,
        );
        expect(Date.now() - again).toBeLessThan(200);
      } finally {
        await fast.close();
      }
    });

    it('a catastrophic regular expression over one context string does not poison other recipients', async () => {
      const fast = createTemplateRenderer({ timeoutMs: 200, maxBytes: 1024 * 1024, processes: 1 });
      try {
        const content = { subject: 'S', html: '{{ context.s | replace(r/^(a+)+$/, "x") }}' };
        const error = await failure(fast.renderEmail({ content, profile: {}, context: { s: `${'a'.repeat(60)}!` } }));
        expect(error).toBeInstanceOf(TemplateError);
        expect(error.message).toBe('render timed out after 200 ms');
        expect((await fast.renderEmail({ content, profile: {}, context: { s: 'aaa' } })).html).toBe('x');
      } finally {
        await fast.close();
      }
    });
  });
});
