import { z } from '@hono/zod-openapi';
import { contextSchemaProblems, MAX_SCHEMA_BYTES, MAX_SCHEMA_DEPTH } from '../../domain/context-schema';

/**
 * A campaign's `contextSchema` on save: it must compile (ajv, draft 2020-12, strict, local
 * `$ref`s only, RE2 patterns). Every reason it does not is listed under contextSchema.*.
 * `null` on PATCH removes it.
 */
export const ContextSchemaField = z
  .record(z.string(), z.unknown())
  .nullable()
  .optional()
  .superRefine((schema, ctx) => {
    if (schema === undefined || schema === null) return;
    for (const issue of contextSchemaProblems(schema)) ctx.addIssue({ code: 'custom', path: issue.field.split('.').slice(1), message: issue.message });
  })
  .openapi({
    description: `A JSON Schema (draft 2020-12) that each recipient's context (the call's \`context\` with the recipient's own on top) must match; a trigger that breaks it answers 400 listing every violation, before anything starts. At most ${MAX_SCHEMA_BYTES} bytes and ${MAX_SCHEMA_DEPTH} levels; \`$ref\` only inside the schema; strict mode (unknown keywords and formats are refused); \`pattern\` runs on RE2 (no lookaround or backreferences). null on PATCH removes it.`,
    example: { type: 'object', required: ['code'], properties: { code: { type: 'string', pattern: '^[0-9]{4,8}$', examples: ['4711'] } } },
  });

/** Non-blocking findings of the activation review. */
export const ReviewWarningsSchema = z.array(z.object({ field: z.string(), message: z.string() })).openapi('ReviewWarnings', {
  description: 'Non-blocking review findings, e.g. a `context.*` variable the templates read that the contextSchema does not declare.',
});
