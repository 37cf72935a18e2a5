import type { Kysely, Migration } from 'kysely';

/**
 * Campaign versions get a status and an activation time (both dialects):
 *
 * - `campaign_versions.status`: `draft` | `live` | `superseded` (default `draft`, which is what
 *   every version of a never-activated campaign is).
 * - `campaign_versions.activated_at`: when the version went live; null until then.
 *
 * Backfill, so nothing changes for existing campaigns: each campaign's current version gets its
 * snapshot rewritten from the campaign's own row (the row is what triggers have been rendering),
 * or inserted where it is missing, and is `live` once the campaign was activated (`draft` for a
 * draft campaign); every older version is `superseded`.
 */
export const campaignVersions: Migration = {
  async up(untyped: Kysely<unknown>) {
    const db = untyped as Kysely<any>;
    await db.schema
      .alterTable('campaign_versions')
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('draft'))
      .execute();
    await db.schema.alterTable('campaign_versions').addColumn('activated_at', 'text').execute();

    const campaigns = await db.selectFrom('campaigns').selectAll().execute();
    for (const row of campaigns) {
      const snapshot = JSON.stringify({
        name: row.name,
        ...(row.description !== null && { description: row.description }),
        tags: JSON.parse(row.tags),
        type: row.type,
        channel: row.channel,
        content: JSON.parse(row.content),
        audience: JSON.parse(row.audience),
        schedule: { ...(row.start_at && { startAt: row.start_at }), ...(row.end_at && { endAt: row.end_at }) },
        ...(row.channel_configuration_id && { channelConfigurationId: row.channel_configuration_id }),
        ...(row.context_schema && { contextSchema: JSON.parse(row.context_schema) }),
      });
      const status = row.status === 'draft' ? 'draft' : 'live';
      const activatedAt = row.status === 'draft' ? null : (row.activated_at ?? row.updated_at);
      const updated = await db
        .updateTable('campaign_versions')
        .set({ snapshot, status, activated_at: activatedAt })
        .where('campaign_id', '=', row.id)
        .where('version', '=', row.version)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) {
        await db
          .insertInto('campaign_versions')
          .values({ campaign_id: row.id, version: row.version, snapshot, created_at: row.updated_at, status, activated_at: activatedAt })
          .execute();
      }
      await db.updateTable('campaign_versions').set({ status: 'superseded' }).where('campaign_id', '=', row.id).where('version', '<', row.version).execute();
    }
  },
  async down(untyped: Kysely<unknown>) {
    const db = untyped as Kysely<any>;
    await db.schema.alterTable('campaign_versions').dropColumn('activated_at').execute();
    await db.schema.alterTable('campaign_versions').dropColumn('status').execute();
  },
};
