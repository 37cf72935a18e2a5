import { describe, expect, it } from 'vitest';
import { campaignCurl } from '../../src/domain/campaign-curl';
import { compileContextSchema, contextViolations, declaresContextPath } from '../../src/domain/context-schema';
import { contextReviewWarnings } from '../../src/domain/context-review';
import { contentVariables, templateVariables } from '../../src/domain/template-variables';

describe('templateVariables', () => {
  it('collects profile.* and context.* lookup paths from the syntax tree', () => {
    expect(templateVariables('Hi {{ profile.firstName }}, code {{ context.code }}')).toEqual({ profile: ['profile.firstName'], context: ['context.code'] });
  });

  it('follows dotted and bracketed string keys, inside filters, tags and loops', () => {
    const source =
      '{{ context.order.id | upper }}{% if context.flag %}{{ profile["address"]["city"] }}{% endif %}{% for item in context.items %}{{ item.name }}{% endfor %}{% set x = context.user.name %}';
    expect(templateVariables(source)).toEqual({
      profile: ['profile.address.city'],
      context: ['context.flag', 'context.items', 'context.order.id', 'context.user.name'],
    });
  });

  it('stops a path at a numeric or dynamic key, and keeps only the longest of nested paths', () => {
    expect(templateVariables('{{ context.items[0].name }} {{ context[key].x }} {{ context.user }} {{ context.user.name }}')).toEqual({
      profile: [],
      context: ['context.items', 'context.user.name'],
    });
  });

  it('ignores other variables, bare roots, text that only looks like a variable, and templates that do not parse', () => {
    expect(templateVariables('{{ other.thing }} {{ context }} {{ "context.fake" }} {% raw %}{{ context.raw }}{% endraw %}')).toEqual({
      profile: [],
      context: [],
    });
    expect(templateVariables('{% if %}')).toEqual({ profile: [], context: [] });
  });

  it('reads every template of the content, flat or multilingual', () => {
    const content = {
      default: { subject: '{{ profile.firstName }}', html: '{{ context.code }}' },
      translations: { fr: { subject: '{{ profile.prenom }}', html: '{{ context.code }} {{ context.fr }}' } },
    };
    expect(contentVariables(content)).toEqual({ profile: ['profile.firstName', 'profile.prenom'], context: ['context.code', 'context.fr'] });
  });
});

describe('contextSchema', () => {
  const schema = {
    type: 'object',
    required: ['code'],
    properties: { code: { type: 'string', pattern: '^[0-9]{4}$', examples: ['4711'] }, order: { $ref: '#/$defs/order' } },
    $defs: { order: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } } } },
  };

  it('reports every violation with its path', () => {
    const compiled = compileContextSchema(schema);
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.issues));
    expect(contextViolations(compiled.validate, { code: 'abc', order: { id: 0 } })).toEqual([
      { path: ['code'], message: 'must match pattern "^[0-9]{4}$"' },
      { path: ['order', 'id'], message: 'must be >= 1' },
    ]);
    expect(contextViolations(compiled.validate, {})).toEqual([{ path: ['code'], message: 'is required' }]);
  });

  it('refuses unknown keywords, remote refs, unsupported regex syntax, and oversized or deep schemas', () => {
    const reasons = (value: unknown) => {
      const compiled = compileContextSchema(value);
      return compiled.ok ? [] : compiled.issues.map((i) => `${i.field}: ${i.message}`);
    };
    expect(reasons({ type: 'object', colour: 'red' })).toEqual([expect.stringContaining('unknown keyword')]);
    expect(reasons({ $ref: 'https://example.com/schema.json' })).toEqual([expect.stringContaining('only point inside the schema')]);
    expect(reasons({ type: 'string', pattern: '(?=a)b' })).toEqual([expect.stringContaining('regexp')]);
    expect(reasons({ type: 'strin' }).length).toBeGreaterThan(0);
    expect(reasons({ description: 'x'.repeat(70_000) })).toEqual([expect.stringContaining('bytes')]);
    let deep: Record<string, unknown> = { type: 'object' };
    for (let i = 0; i < 40; i++) deep = { type: 'object', properties: { a: deep } };
    expect(reasons(deep)).toEqual([expect.stringContaining('deeper')]);
    expect(reasons([1])).toEqual(['contextSchema: must be a JSON Schema object']);
  });

  it('matches patterns in linear time (RE2), so a catastrophic pattern cannot stall the API', () => {
    const compiled = compileContextSchema({ type: 'object', properties: { s: { type: 'string', pattern: '^(a+)+$' } } });
    if (!compiled.ok) throw new Error('did not compile');
    const started = performance.now();
    expect(contextViolations(compiled.validate, { s: `${'a'.repeat(100_000)}!` })).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('knows which context paths it declares, through $ref and nested objects', () => {
    expect(declaresContextPath(schema, ['code'])).toBe(true);
    expect(declaresContextPath(schema, ['order', 'id'])).toBe(true);
    expect(declaresContextPath(schema, ['order', 'total'])).toBe(false);
    expect(declaresContextPath(schema, ['typo'])).toBe(false);
    expect(declaresContextPath({ type: 'object' }, ['anything'])).toBe(true);
  });

  it('review warns about context variables the schema does not declare, never about profile attributes', () => {
    const content = { subject: '{{ profile.firstName }}', html: '{{ context.code }} {{ context.cdoe }}' };
    expect(contextReviewWarnings({ content, contextSchema: schema })).toEqual([{ field: 'content.html', message: expect.stringContaining('context.cdoe') }]);
    expect(contextReviewWarnings({ content })).toEqual([]);
  });
});

describe('campaignCurl', () => {
  it('builds a request with the campaign, one recipient, the key as a shell variable, and context placeholders', () => {
    const { curl, variables } = campaignCurl(
      {
        id: 'C1',
        content: { subject: '{{ profile.firstName }}', html: '{{ context.code }} {{ context.order.id }} {{ context.note }}' },
        audience: { namespace: 'email', createMissingProfiles: true },
        contextSchema: {
          type: 'object',
          required: ['code', 'channel'],
          properties: {
            code: { type: 'string', examples: ['4711'] },
            channel: { enum: ['web', 'app'] },
            order: { type: 'object', properties: { id: { type: 'integer', minimum: 7 } } },
          },
        },
      },
      'http://127.0.0.1:3000/',
      'example-1',
    );
    expect(variables).toEqual({ profile: ['profile.firstName'], context: ['context.code', 'context.note', 'context.order.id'] });
    expect(curl).toContain("'http://127.0.0.1:3000/v1/executions/unitary'");
    expect(curl).toContain('"Authorization: Bearer $HERALD_API_KEY"');
    const body = JSON.parse(curl.slice(curl.indexOf("-d '") + 4, curl.lastIndexOf("'")));
    expect(body).toEqual({
      requestId: 'example-1',
      campaignId: 'C1',
      recipients: [{ userId: 'user@example.com', namespace: 'email' }],
      context: { code: '4711', channel: 'web', order: { id: 7 }, note: '<note>' },
    });
  });
});
