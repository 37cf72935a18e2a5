import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TemplateError } from '../../src/domain/template-renderer';
import { templateSafetyProblem } from '../../src/domain/template-safety.mjs';
import { createTemplateRenderer, type RenderEmailInput, type TemplateRenderer } from '../../src/rendering/template-renderer';
import { leaksIn } from './leaks';
import { SSTI_PAYLOADS } from './ssti-payloads';

/** The sandboxed renderer on its own, without Temporal: fast checks of every guard. */
const canary = `canary-${randomUUID()}`;
// 10^8 numbers held as ten references per level: cheap to hold, about 490 MB once written out.
const HUNDRED_MILLION_NUMBERS =
  '{% set a = range(10000) %}{% set b = [a,a,a,a,a,a,a,a,a,a] %}{% set c = [b,b,b,b,b,b,b,b,b,b] %}{% set d = [c,c,c,c,c,c,c,c,c,c] %}{% set e = [d,d,d,d,d,d,d,d,d,d] %}';
process.env.HERALD_CANARY = canary;

const email = (html: string, extra: Partial<RenderEmailInput> = {}): RenderEmailInput => ({
  content: { subject: 'Hi {{ profile.firstName }}', html },
  profile: { firstName: 'Ada', plan: 'pro' },
  context: {},
  ...extra,
});

async function outcome(renderer: TemplateRenderer, input: RenderEmailInput): Promise<{ text: string; error?: string }> {
  try {
    const rendered = await renderer.renderEmail(input);
    return { text: `${rendered.subject}\n${rendered.html}\n${rendered.text ?? ''}` };
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    return { text: error.message, error: error.message };
  }
}

describe('template renderer (worker-thread sandbox)', () => {
  let renderer: TemplateRenderer;

  beforeAll(() => {
    renderer = createTemplateRenderer({ timeoutMs: 2000, maxBytes: 1024 * 1024, processes: 2 });
  });
  afterAll(() => renderer.close());

  describe(`the SSTI corpus (${SSTI_PAYLOADS.length} payloads)`, () => {
    for (const payload of SSTI_PAYLOADS) {
      const field = payload.field ?? 'html';
      it(`${payload.expect}: ${payload.name}`, async () => {
        const problem = templateSafetyProblem(payload.template);
        if (payload.expect === 'refused') {
          expect(problem).toMatch(payload.reason ?? /./);
        } else {
          expect(problem).toBeUndefined();
        }
        // Rendered anyway (a campaign saved before the check): the thread refuses or contains it.
        const content = { subject: 'S', html: '<p>x</p>', [field]: payload.template };
        const result = await outcome(renderer, { content, profile: { firstName: 'Ada' }, context: payload.context ?? {} });
        if (payload.expect === 'refused') expect(result.error).toContain(`${field}: `);
        expect(leaksIn(result.text, canary)).toEqual([]);
      });
    }
  });

  describe('templates keep working', () => {
    it('the static check accepts ordinary templates', () => {
      const ordinary = [
        '{{ profile["first-name"] | default("there") | title }}',
        '{% if profile.tier in ["gold", "platinum"] and not context.muted %}VIP{% elif profile.tier %}{{ profile.tier }}{% endif %}',
        '{% set greeting = "Hi" if profile.firstName else "Hello" %}{{ greeting }}, {{ profile.firstName }}',
        '{% for key, value in context.details %}{{ key }}: {{ value }}{% else %}none{% endfor %}',
        '{{ context.items[0].name }} {{ context.items | first }} {{ context.items | length }} {{ context.url | urlencode }}',
        '{{ context.text | truncate(30, end="…") | striptags | replace("a", "b") | trim | nl2br }}',
        '{{ context.price | round(2) }} {{ context.count | int }} {{ -1 + 2 * 3 // 2 % 5 ** 2 }} {{ "a" ~ 1 }}',
        '{% macro button(url, label="Open", style={"color": "red"}) %}<a href="{{ url }}">{{ label }}</a>{% endmacro %}{{ button(context.url, label="Go") }}',
        '{% macro box() %}{{ caller() }}{% endmacro %}{% call box() %}x{% endcall %}',
        '{% filter upper %}loud{% endfilter %}{% raw %}{{ constructor }}{% endraw %}',
        '{% set rows = context.items | sort(attribute="price", reverse=true) | batch(2) %}{% for row in rows %}{{ row | join(",", "name") }}{% endfor %}',
        '{% for group in context.items | groupby("category") %}{{ group }}{% endfor %}{{ context.items | selectattr("active") | list | length }}',
        '{% block content %}Hello{% endblock %}{{ "Join our constructor programme" }}',
        '{% if context.n is divisibleby(3) %}fizz{% endif %}{% if profile.x is defined %}{{ profile.x }}{% endif %}',
        '{% switch context.plan %}{% case "a" %}A{% default %}other{% endswitch %}',
      ];
      for (const template of ordinary) expect(templateSafetyProblem(template), template).toBeUndefined();
    });

    it('profile and context, filters, if, for, loop.index, set, macros, call, cycler, joiner, range', async () => {
      const html = [
        '<p>{{ profile.firstName | upper }} {{ profile.missing | default("there") }} {{ context.code }}</p>',
        '{% if profile.plan == "pro" %}pro{% else %}free{% endif %}',
        '{% for item in context.items %}{{ loop.index }}.{{ item.name | escape }}={{ item.price }}{% if not loop.last %}, {% endif %}{% endfor %}',
        '{% set total = context.items | sum("price") %} total={{ total }}',
        '{{ context.items | join("/", "name") }}',
        '{% macro badge(label, color="grey") %}<b class="{{ color }}">{{ label }}</b>{% endmacro %}{{ badge("new") }}{{ badge("hot", color="red") }}',
        '{% macro box() %}[{{ caller() }}]{% endmacro %}{% call box() %}inside{% endcall %}',
        '{% set row = cycler("odd", "even") %}{% for i in range(3) %}{{ row.next() }} {% endfor %}',
        '{% set comma = joiner(", ") %}{% for i in range(1, 7, 2) %}{{ comma() }}{{ i }}{% endfor %}',
        '{{ "<i>" | safe }}{{ "<i>" }}{{ context.tags | join(", ") }}{{ context.tags | length }}',
        '{% set block %}captured {{ profile.firstName }}{% endset %}{{ block | lower }}',
        '{{ context.items | sort(attribute="price", reverse=true) | first | dump | safe }}',
      ].join('\n');
      const rendered = await renderer.renderEmail(
        email(html, {
          context: {
            code: '4711',
            items: [
              { name: 'a&b', price: 2 },
              { name: 'c', price: 3 },
            ],
            tags: ['x', 'y'],
          },
        }),
      );
      expect(rendered.subject).toBe('Hi Ada');
      expect(rendered.html.split('\n')).toEqual([
        '<p>ADA there 4711</p>',
        'pro',
        '1.a&amp;b=2, 2.c=3',
        ' total=5',
        'a&amp;b/c',
        '<b class="grey">new</b><b class="red">hot</b>',
        '[inside]',
        'odd even odd ',
        '1, 3, 5',
        '<i>&lt;i&gt;x, y2',
        'captured ada',
        '{"name":"c","price":3}',
      ]);
    });

    it('autoescapes html only; subject and text render as text and the subject is one line', async () => {
      const rendered = await renderer.renderEmail({
        content: { subject: 'Re: {{ context.v }}\n{{ context.v }}', html: '<p>{{ context.v }}</p>', text: 'T {{ context.v }}' },
        profile: {},
        context: { v: '<a&b>\r\nBcc: x@example.com' },
      });
      expect(rendered).toEqual({
        subject: 'Re: <a&b> Bcc: x@example.com <a&b> Bcc: x@example.com',
        html: '<p>&lt;a&amp;b&gt;\r\nBcc: x@example.com</p>',
        text: 'T <a&b>\r\nBcc: x@example.com',
      });
    });

    it('hands templates JSON data only: functions in the variables never arrive', async () => {
      const context = { fn: () => canary, nested: { fn: () => canary, ok: 1 }, when: new Date(0) };
      const rendered = await renderer.renderEmail(email('{{ context.fn }}|{{ context.nested.ok }}|{{ context.when }}', { context }));
      expect(rendered.html).toBe('|1|1970-01-01T00:00:00.000Z');
      await expect(renderer.renderEmail(email('{{ context.nested.fn() }}', { context }))).rejects.toThrow(
        /Unable to call `context\["nested"\]\["fn"\]`, which is undefined/,
      );
    });

    it('a render error names the part and where nunjucks places it, without a stack', async () => {
      const error = await renderer.renderEmail(email('<p>\n{{ profile.name.first.toUpperCase() }}</p>')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TemplateError);
      expect((error as Error).message).toMatch(
        /^html: line \d+, column \d+: Unable to call `profile\["name"\]\["first"\]\["toUpperCase"\]`, which is undefined or falsey$/,
      );
    });
  });

  describe('limits', () => {
    it('range() makes at most 10,000 numbers, and fails fast beyond', async () => {
      const started = Date.now();
      await expect(renderer.renderEmail(email('{% for i in range(0, 1000000000) %}x{% endfor %}'))).rejects.toThrow(
        /^html: (line \d+, column \d+: )?range\(\) would make 1000000000 numbers; at most 10000 are allowed$/,
      );
      expect(Date.now() - started).toBeLessThan(1000);
      const rendered = await renderer.renderEmail(email('{{ range(10000) | length }} {{ range(10, 0, -3) | join(",") }}'));
      expect(rendered.html).toBe('10000 10,7,4,1');
    });

    it('stops a runaway loop at the time limit, keeps the event loop free, and quarantines the content', async () => {
      const fast = createTemplateRenderer({ timeoutMs: 300, maxBytes: 1024 * 1024, processes: 2 });
      try {
        const runaway = email('{% for i in range(0, 10000) %}{% for j in range(0, 10000) %}{% endfor %}{% endfor %}');
        let lag = 0;
        let last = Date.now();
        const probe = setInterval(() => {
          lag = Math.max(lag, Date.now() - last - 10);
          last = Date.now();
        }, 10);
        const started = Date.now();
        const failure = fast.renderEmail(runaway).catch((e: unknown) => e);
        // A normal render on the other thread finishes meanwhile.
        expect((await fast.renderEmail(email('<p>{{ profile.firstName }}</p>'))).html).toBe('<p>Ada</p>');
        const error = await failure;
        clearInterval(probe);
        expect(error).toBeInstanceOf(TemplateError);
        expect((error as Error).message).toBe('render timed out after 300 ms');
        expect(Date.now() - started).toBeLessThan(1300);
        expect(lag).toBeLessThan(150);

        const again = Date.now();
        // The same input again fails at once (the quarantine is per content and data: see test/rendering/process-isolation.test.ts).
        await expect(fast.renderEmail(runaway)).rejects.toThrow(
          /^render timed out after 300 ms \(on an earlier render of the same content and data; not rendered again for 60 s\)$/,
        );
        expect(Date.now() - again).toBeLessThan(100);
      } finally {
        await fast.close();
      }
    });

    it('renders queued behind a runaway skip it once it has timed out (20 recipients cost one time limit, not 20)', async () => {
      const one = createTemplateRenderer({ timeoutMs: 200, maxBytes: 1024 * 1024, processes: 1 });
      try {
        const runaway = email('{% for i in range(0, 10000) %}{% for j in range(0, 10000) %}{% endfor %}{% endfor %}');
        const started = Date.now();
        // The same render 20 times (an activity retried, or recipients with the same data).
        const errors = await Promise.all(Array.from({ length: 20 }, () => one.renderEmail(runaway).catch((e: unknown) => e)));
        expect(errors.every((e) => e instanceof TemplateError && e.message.startsWith('render timed out after 200 ms'))).toBe(true);
        expect(errors.filter((e) => (e as Error).message.includes('earlier render'))).toHaveLength(19);
        expect(Date.now() - started).toBeLessThan(1500);
      } finally {
        await one.close();
      }
    });

    it('terminates a thread stuck in one native call (catastrophic regex) and carries on', async () => {
      const fast = createTemplateRenderer({ timeoutMs: 200, maxBytes: 1024 * 1024, processes: 1 });
      try {
        const started = Date.now();
        const redos = email('{{ context.s | replace(r/^(a+)+$/, "x") }}', { context: { s: `${'a'.repeat(40)}!` } });
        await expect(fast.renderEmail(redos)).rejects.toThrow('render timed out after 200 ms');
        expect(Date.now() - started).toBeLessThan(3000);
        // The pool replaced the thread.
        expect((await fast.renderEmail(email('{{ profile.firstName }}'))).html).toBe('Ada');
      } finally {
        await fast.close();
      }
    });

    it('caps the output while it grows, counting subject, html and text', async () => {
      const small = createTemplateRenderer({ timeoutMs: 2000, maxBytes: 4096, processes: 1 });
      try {
        await expect(small.renderEmail(email('{% for i in range(10000) %}literal text {% endfor %}'))).rejects.toThrow('output over 4096 bytes');
        await expect(small.renderEmail(email('{% for i in range(10000) %}{{ i }}{% endfor %}'))).rejects.toThrow('output over 4096 bytes');
        await expect(small.renderEmail(email('{{ "x" | center(100000000) }}'))).rejects.toThrow('output over 4096 bytes');
        await expect(
          small.renderEmail(email('{{ context.a }}', { context: { a: 'é'.repeat(1500) }, content: { subject: '{{ context.a }}', html: '{{ context.a }}' } })),
        ).rejects.toThrow('output over 4096 bytes');
        expect((await small.renderEmail(email('{{ context.a }}', { context: { a: 'x'.repeat(3000) } }))).html).toHaveLength(3000);
      } finally {
        await small.close();
      }
    });

    it('a render that would exhaust its heap stops at the output limit (a process death is tested in test/rendering/process-isolation.test.ts)', async () => {
      const html = `${HUNDRED_MILLION_NUMBERS}{{ e | join(",") | length }}`;
      // A long time limit, so the heap limit is what stops it even on a busy machine.
      const patient = createTemplateRenderer({ timeoutMs: 30_000, maxBytes: 1024 * 1024, processes: 1 });
      try {
        await expect(patient.renderEmail(email(html))).rejects.toThrow(/^output over 1048576 bytes$/);
        expect((await patient.renderEmail(email('{{ profile.firstName }}'))).html).toBe('Ada');
      } finally {
        await patient.close();
      }
    });

    it('dump stops at the output limit while it builds (on Node 24 the heap limit no longer stops JSON.stringify)', async () => {
      await expect(renderer.renderEmail(email(`${HUNDRED_MILLION_NUMBERS}{{ e | dump | length }}`))).rejects.toThrow(/^output over \d+ bytes$/);
      await expect(renderer.renderEmail(email(`${HUNDRED_MILLION_NUMBERS}{{ e | dump(10) | length }}`))).rejects.toThrow(/^output over \d+ bytes$/);
      expect((await renderer.renderEmail(email('{{ {"a": [1, "x"]} | dump }} {{ [1, 2] | dump(2) | length }}'))).html).toBe(
        '{&quot;a&quot;:[1,&quot;x&quot;]} 12',
      );
    });

    it('deep recursion fails the render, not the thread', async () => {
      await expect(renderer.renderEmail(email('{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}'))).rejects.toThrow(
        'html: templates may not nest or recurse this deeply',
      );
    });
  });

  it('close() ends the render processes; later renders fail as infrastructure errors, not template errors', async () => {
    const closing = createTemplateRenderer({ timeoutMs: 2000, maxBytes: 1024 * 1024, processes: 1 });
    await closing.renderEmail(email('x'));
    await closing.close();
    await closing.close();
    const error = await closing.renderEmail(email('x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(TemplateError);
  });
});
