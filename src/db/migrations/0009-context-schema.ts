import type { Kysely, Migration } from 'kysely';

/**
 * A campaign's `contextSchema` (a JSON Schema the trigger call's context must match), kept as
 * JSON text on both dialects: it is only ever read whole. Null: the campaign declares none.
 * Campaign versions keep it in their snapshot, like every other field.
 */
export const contextSchema: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('campaigns').addColumn('context_schema', 'text').execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('campaigns').dropColumn('context_schema').execute();
  },
};
