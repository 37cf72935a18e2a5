import { Migrator, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/db/database';
import { migrationProvider } from '../../src/db/migrations/index';
import { CampaignVersionRepository } from '../../src/repositories/campaign-versions';
import { CampaignRepository } from '../../src/repositories/campaigns';
import { freshDatabase as freshDatabaseFor } from './support/fresh-database';

/**
 * Migration 0012 on a database written before it (both dialects, per the suite): every
 * campaign's current version is recorded from its own row, live once activated, older ones
 * superseded; nothing a trigger renders changes.
 */
describe('migration 0012-campaign-versions', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const freshDatabase = () => freshDatabaseFor(cleanups, 'versions');

  it('backfills the current version of existing campaigns', async () => {
    const db = await freshDatabase();
    const { error } = await new Migrator({ db, provider: migrationProvider }).migrateTo('0009-context-schema');
    expect(error).toBeUndefined();
    const old = db as unknown as Kysely<any>;
    const at = '2026-01-01T00:00:00.000Z';
    const row = (id: string, status: string, version: number, extra: Record<string, unknown> = {}) => ({
      id,
      name: `Campaign ${id}`,
      description: null,
      tags: '["t"]',
      type: 'transactional',
      channel: 'email',
      content: JSON.stringify({ subject: `S ${id}`, html: `<p>${id}</p>` }),
      audience: '{"namespace":"email","createMissingProfiles":true}',
      start_at: null,
      end_at: null,
      status,
      version,
      created_at: at,
      updated_at: at,
      activated_at: status === 'draft' ? null : at,
      ...extra,
    });
    await old
      .insertInto('campaigns')
      .values([
        row('live3', 'live', 3),
        row('draft2', 'draft', 2),
        row('stopped1', 'stopped', 1, { context_schema: '{"type":"object"}' }),
        row('noversion', 'live', 1),
      ])
      .execute();
    const raw = (campaign_id: string, version: number, snapshot: object) => ({ campaign_id, version, snapshot: JSON.stringify(snapshot), created_at: at });
    await old
      .insertInto('campaign_versions')
      .values([
        raw('live3', 1, { name: 'first', content: { subject: 'v1', html: 'v1' }, channelConfigurationId: null }),
        raw('live3', 2, { name: 'second' }),
        raw('live3', 3, { name: 'stale snapshot' }),
        raw('draft2', 1, { name: 'd1' }),
        raw('draft2', 2, { name: 'd2' }),
        raw('stopped1', 1, { name: 's1' }),
      ])
      .execute();

    await migrateToLatest(db);
    const versions = new CampaignVersionRepository(db);
    const summary = async (id: string) => (await versions.list(id)).map((v) => [v.version, v.status, v.activatedAt ?? null]);
    expect(await summary('live3')).toEqual([
      [3, 'live', at],
      [2, 'superseded', null],
      [1, 'superseded', null],
    ]);
    expect(await summary('draft2')).toEqual([
      [2, 'draft', null],
      [1, 'superseded', null],
    ]);
    expect(await summary('stopped1')).toEqual([[1, 'live', at]]);
    expect(await summary('noversion')).toEqual([[1, 'live', at]]);

    // The current version is the campaign's own row, so what it renders is unchanged.
    const campaigns = new CampaignRepository(db);
    for (const id of ['live3', 'draft2', 'stopped1', 'noversion']) {
      const campaign = (await campaigns.get(id))!;
      const [current] = await versions.list(id);
      const { id: _id, status: _s, version, createdAt: _c, updatedAt: _u, activatedAt: _a, ...fields } = campaign;
      expect(current!.version).toBe(version);
      expect(current).toMatchObject(fields);
      expect(await campaigns.getAtVersion(id, version)).toEqual(campaign);
    }
    // An older version reads as recorded, normalised.
    expect(await versions.fields('live3', 1)).toEqual({
      name: 'first',
      content: { subject: 'v1', html: 'v1' },
      tags: [],
      schedule: {},
      throughput: 'standard',
    });
    expect(await versions.pendingDraft('live3', 3)).toBeUndefined();
  });
});
