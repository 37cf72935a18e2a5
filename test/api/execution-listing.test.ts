import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveCampaign, uniqueRequestId } from '../support/campaigns';
import { createApiKey, heraldAs, withKey, type Requester } from '../support/api-keys';
import { sameDatabaseEnv, startHerald, type Herald } from '../support/herald-harness';

const BOOT = 'listing-bootstrap-key';
const trigger = (campaignId: string, userIds = ['ada@example.com']) => ({
  requestId: uniqueRequestId('listing'),
  campaignId,
  recipients: userIds.map((userId) => ({ userId, namespace: 'email' })),
});

interface Summary {
  executionId: string;
  requestId: string;
  campaignId: string;
  campaignVersion: number;
  kind: string;
  status: string;
  reason?: string;
  createdAt: string;
  completedAt?: string;
  counts?: { sent: number; failed: number; excluded: number; pending: number };
  audienceId?: string;
}

/** Newest first: createdAt, then executionId, both descending. */
const newestFirst = (a: Summary, b: Summary) => (a.createdAt === b.createdAt ? (a.executionId < b.executionId ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1);

describe('GET /v1/executions', () => {
  let herald: Herald;
  /** A second API on the same database without a worker: what it triggers stays running. */
  let idle: Herald;
  let full: Requester;
  let idleFull: Requester;
  let triggerKey: Requester;
  let campaignA: { id: string };
  let campaignB: { id: string };
  const completed: string[] = [];
  const running: string[] = [];
  const mine: string[] = [];
  /** Executions from 2021 written straight to the database, for exact createdAt filters. */
  const historical: { id: string; campaignId: string; status: 'completed' | 'failed'; kind: 'unitary' | 'audience'; createdAt: string }[] = [];

  beforeAll(async () => {
    herald = await startHerald({ env: { HERALD_API_KEYS: BOOT } });
    idle = await startHerald({ withoutWorker: true, env: { ...sameDatabaseEnv(herald.config), HERALD_API_KEYS: BOOT } });
    full = withKey(herald, BOOT);
    idleFull = withKey(idle, BOOT);
    campaignA = await liveCampaign(heraldAs(herald, BOOT));
    campaignB = await liveCampaign(heraldAs(herald, BOOT));
    triggerKey = withKey(idle, (await createApiKey(full, { scope: 'trigger' })).key);

    for (const campaign of [campaignA, campaignA, campaignB]) {
      const res = await full('POST', '/v1/executions/unitary', trigger(campaign.id));
      expect(res.status).toBe(202);
      completed.push(res.body.executionId);
    }
    for (const id of completed) {
      const deadline = Date.now() + 30_000;
      while ((await full('GET', `/v1/executions/${id}`)).body.status === 'running' && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await full('GET', `/v1/executions/${id}`)).body.status).toBe('completed');
    }
    for (const [campaign, userIds] of [
      [campaignA, ['ada@example.com', 'grace@example.com']],
      [campaignB, ['ada@example.com']],
    ] as const) {
      const res = await idleFull('POST', '/v1/executions/unitary', trigger(campaign.id, [...userIds]));
      expect(res.status).toBe(202);
      running.push(res.body.executionId);
    }
    for (const campaign of [campaignA, campaignB]) {
      const res = await triggerKey('POST', '/v1/executions/unitary', trigger(campaign.id));
      expect(res.status).toBe(202);
      mine.push(res.body.executionId);
    }

    const hour = 3_600_000;
    const start = Date.parse('2021-01-01T00:00:00.000Z');
    for (let i = 0; i < 24; i++) {
      // Two executions share each even hour's instant: the id orders them.
      const createdAt = new Date(start + Math.floor(i / 2) * 2 * hour).toISOString();
      historical.push({
        id: ulid(Date.parse(createdAt)),
        campaignId: i % 3 === 0 ? campaignB.id : campaignA.id,
        status: i % 4 === 1 ? 'failed' : 'completed',
        kind: i % 6 === 5 ? 'audience' : 'unitary',
        createdAt,
      });
    }
    await herald.db
      .insertInto('executions')
      .values(
        historical.map((h, i) => ({
          id: h.id,
          request_id: `historical-${h.id}`,
          request_hash: 'x',
          campaign_id: h.campaignId,
          campaign_version: 1,
          workflow_id: `execution/${h.campaignId}/historical-${h.id}`,
          status: h.status,
          failure_reason: h.status === 'failed' ? 'workflow-terminated' : null,
          created_at: h.createdAt,
          completed_at: h.createdAt,
          workflow_checked_at: null,
          context: null,
          started_by_key_id: null,
          details_purged_at: null,
          sent_count: i,
          failed_count: h.status === 'failed' ? 1 : 0,
          excluded_count: 0,
          kind: h.kind,
          audience_id: h.kind === 'audience' ? 'aud-historical' : null,
        })),
      )
      .execute();
  }, 120_000);
  afterAll(async () => {
    await idle?.stop();
    await herald?.stop();
  });

  async function list(query: Record<string, string | number> = {}, as: Requester = full) {
    const res = await as('GET', `/v1/executions?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]))}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as { items: Summary[]; nextCursor?: string };
  }

  /** Every page of a listing, following nextCursor. */
  async function all(query: Record<string, string | number> = {}, as: Requester = full) {
    const items: Summary[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await list({ ...query, ...(cursor && { cursor }) }, as);
      items.push(...page.items);
      cursor = page.nextCursor;
      pages++;
      expect(pages).toBeLessThan(100);
    } while (cursor);
    return { items, pages };
  }

  const ids = (items: Summary[]) => items.map((item) => item.executionId);
  const everyId = () => [...completed, ...running, ...mine, ...historical.map((h) => h.id)];

  it('lists every execution newest first, summaries without recipients', async () => {
    const { items, nextCursor } = await list({ limit: 500 });
    expect(nextCursor).toBeUndefined();
    expect(ids(items).sort()).toEqual(everyId().sort());
    expect(items).toEqual([...items].sort(newestFirst));
    // Today's executions come before 2021's, the last one triggered first.
    expect(items[0]!.executionId).toBe(mine[1]);
    expect(items.slice(0, 7).map((item) => item.createdAt.slice(0, 4))).not.toContain('2021');
    for (const item of items) expect(item).not.toHaveProperty('recipients');

    const done = items.find((item) => item.executionId === completed[0])!;
    expect(done).toMatchObject({
      campaignId: campaignA.id,
      campaignVersion: 1,
      kind: 'unitary',
      status: 'completed',
      completedAt: expect.any(String),
      counts: { sent: 1, failed: 0, excluded: 0, pending: 0 },
    });
    const pending = items.find((item) => item.executionId === running[0])!;
    expect(pending).toMatchObject({ status: 'running', counts: { sent: 0, failed: 0, excluded: 0, pending: 2 } });
    expect(pending).not.toHaveProperty('completedAt');
    const failed = items.find((item) => item.executionId === historical[1]!.id)!;
    expect(failed).toMatchObject({ status: 'failed', reason: 'workflow-terminated', counts: { sent: 1, failed: 1, excluded: 0, pending: 0 } });
    expect(items.find((item) => item.executionId === historical[5]!.id)).toMatchObject({ kind: 'audience', audienceId: 'aud-historical' });
    // The same execution through GET /v1/executions/{id} tells the same story.
    const single = (await full('GET', `/v1/executions/${completed[0]}`)).body;
    expect(done).toEqual({
      executionId: single.executionId,
      requestId: single.requestId,
      campaignId: single.campaignId,
      campaignVersion: single.campaignVersion,
      kind: single.kind,
      status: single.status,
      createdAt: single.createdAt,
      completedAt: single.completedAt,
      counts: single.counts,
    });
  });

  it('filters by campaign, status, both, requestId and kind', async () => {
    const everything = (await list({ limit: 500 })).items;
    const expected = (keep: (item: Summary) => boolean) => ids(everything.filter(keep));

    expect(ids((await list({ campaignId: campaignA.id, limit: 500 })).items)).toEqual(expected((item) => item.campaignId === campaignA.id));
    expect(ids((await list({ status: 'running', limit: 500 })).items).sort()).toEqual([...running, ...mine].sort());
    expect(ids((await list({ status: 'failed', limit: 500 })).items)).toEqual(expected((item) => item.status === 'failed'));
    expect(ids((await list({ status: 'failed' })).items).length).toBeGreaterThan(0);
    expect(ids((await list({ campaignId: campaignB.id, status: 'running', limit: 500 })).items)).toEqual([mine[1], running[1]]);
    expect(ids((await list({ campaignId: campaignA.id, status: 'completed', limit: 500 })).items)).toEqual(
      expected((item) => item.campaignId === campaignA.id && item.status === 'completed'),
    );
    expect(ids((await list({ kind: 'audience' })).items)).toEqual(expected((item) => item.kind === 'audience'));
    expect(ids((await list({ kind: 'audience' })).items).length).toBe(4);

    const one = everything.find((item) => item.executionId === completed[1])!;
    expect((await list({ requestId: one.requestId })).items).toEqual([one]);
    expect((await list({ requestId: one.requestId, campaignId: campaignB.id })).items).toEqual([]);
    expect((await list({ requestId: 'no-such-request' })).items).toEqual([]);
    expect((await list({ campaignId: 'no-such-campaign' })).items).toEqual([]);
  });

  it('filters by creation time: createdAfter inclusive, createdBefore exclusive, any offset', async () => {
    /** The 2021 executions in [after, before), newest first. */
    const between = (after: string, before: string) =>
      historical
        .filter((h) => h.createdAt >= after && h.createdAt < before)
        .map((h) => ({ executionId: h.id, createdAt: h.createdAt }) as Summary)
        .sort(newestFirst)
        .map((item) => item.executionId);
    const window = await list({ createdAfter: '2021-01-01T04:00:00.000Z', createdBefore: '2021-01-01T10:00:00Z' });
    expect(ids(window.items)).toEqual(between('2021-01-01T04:00:00.000Z', '2021-01-01T10:00:00.000Z'));
    expect(window.items).toHaveLength(6);
    // The same instants written with an offset.
    expect(ids((await list({ createdAfter: '2021-01-01T06:00:00+02:00', createdBefore: '2021-01-01T12:00:00+02:00' })).items)).toEqual(ids(window.items));
    expect(ids((await list({ createdBefore: '2022-01-01T00:00:00Z', limit: 500 })).items)).toEqual(between('2000', '2022'));
    const recent = await list({ createdAfter: '2022-01-01T00:00:00Z', limit: 500 });
    expect(ids(recent.items).sort()).toEqual([...completed, ...running, ...mine].sort());
    const narrowed = await list({ createdAfter: '2021-01-01T12:00:00Z', createdBefore: '2021-01-02T00:00:00Z', campaignId: campaignB.id, status: 'completed' });
    const inWindow = new Set(between('2021-01-01T12:00:00.000Z', '2021-01-02T00:00:00.000Z'));
    const expected = (await list({ campaignId: campaignB.id, status: 'completed', limit: 500 })).items.filter((item) => inWindow.has(item.executionId));
    expect(expected.length).toBeGreaterThan(0);
    expect(narrowed.items).toEqual(expected);
  });

  it('pages through every execution with the cursor, without gaps or repeats', async () => {
    const everything = ids((await list({ limit: 500 })).items);
    for (const limit of [1, 4, 7]) {
      const { items, pages } = await all({ limit });
      expect(ids(items)).toEqual(everything);
      expect(pages).toBe(Math.ceil(everything.length / limit));
    }
    const filtered = await all({ limit: 3, campaignId: campaignA.id, status: 'completed' });
    expect(ids(filtered.items)).toEqual(ids((await list({ limit: 500, campaignId: campaignA.id, status: 'completed' })).items));
    const dated = await all({ limit: 2, createdAfter: '2021-01-01T00:00:00Z', createdBefore: '2021-01-01T12:00:00Z' });
    expect(dated.items).toHaveLength(12);
    expect(new Set(ids(dated.items)).size).toBe(12);
    // The default page is 50.
    expect((await list()).items).toHaveLength(everything.length);
    expect((await list()).nextCursor).toBeUndefined();
  });

  it('answers 400 problem+json to a bad limit, cursor, status or date', async () => {
    const { nextCursor } = await list({ limit: 2, campaignId: campaignA.id });
    expect(nextCursor).toEqual(expect.any(String));
    const bad = [
      'limit=0',
      'limit=501',
      'limit=ten',
      'status=paused',
      'kind=batch',
      'cursor=not-a-cursor!',
      `cursor=${Buffer.from('e1 yesterday 01H 0123456789abcdef').toString('base64url')}`,
      'cursor=AAAA',
      `cursor=${nextCursor}`,
      `cursor=${nextCursor}&campaignId=${campaignB.id}`,
      `cursor=${nextCursor}&campaignId=${campaignA.id}&status=running`,
      'createdAfter=yesterday',
      'createdBefore=2021-13-01T00:00:00Z',
      'createdAfter=2021-01-01',
      'createdAfter=2021-01-02T00:00:00Z&createdBefore=2021-01-01T00:00:00Z',
      'createdAfter=2021-01-01T00:00:00Z&createdBefore=2021-01-01T02:00:00%2B02:00',
      'requestId=',
    ];
    for (const query of bad) {
      const res = await full('GET', `/v1/executions?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.headers.get('content-type'), query).toContain('application/problem+json');
      expect(res.body.status, query).toBe(400);
    }
    // The same cursor with its own filters still works.
    expect((await full('GET', `/v1/executions?limit=2&campaignId=${campaignA.id}&cursor=${nextCursor}`)).status).toBe(200);
  });

  it('a trigger key lists only the executions it started, whatever it filters by', async () => {
    expect(ids((await list({}, triggerKey)).items)).toEqual([mine[1], mine[0]]);
    expect(ids((await list({ campaignId: campaignA.id }, triggerKey)).items)).toEqual([mine[0]]);
    expect(ids((await list({ status: 'running', limit: 500 }, triggerKey)).items)).toEqual([mine[1], mine[0]]);
    expect((await list({ status: 'completed' }, triggerKey)).items).toEqual([]);
    const someoneElses = (await list({ limit: 500 })).items.find((item) => item.executionId === completed[0])!;
    expect((await list({ requestId: someoneElses.requestId }, triggerKey)).items).toEqual([]);
    expect((await list({ createdBefore: '2022-01-01T00:00:00Z' }, triggerKey)).items).toEqual([]);
    const paged = await all({ limit: 1 }, triggerKey);
    expect(ids(paged.items)).toEqual([mine[1], mine[0]]);
    // A full key's cursor is no cursor of the trigger key's listing.
    const { nextCursor } = await list({ limit: 1 });
    const res = await triggerKey('GET', `/v1/executions?limit=1&cursor=${nextCursor}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });
});
