/**
 * CappingRepository.cappedUserIds on a real database (SQLite, or PostgreSQL on the PostgreSQL
 * suite): what counts toward a campaign's capping and a channel's global rule, and what does not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Campaign } from '../../src/domain/campaign';
import { CampaignRepository } from '../../src/repositories/campaigns';
import { CappingRepository } from '../../src/repositories/capping';
import { CappingRuleRepository } from '../../src/repositories/capping-rules';
import { startHerald, type Herald } from '../support/herald-harness';

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('CappingRepository', () => {
  let herald: Herald;
  let capping: CappingRepository;
  let campaignA: Campaign;
  let campaignB: Campaign;
  let transactional: Campaign;
  let smsMarketing: Campaign;
  const now = Date.now();
  let executions = 0;

  /** One execution of `campaign` with one delivery per userId, in `status`, last updated `agoMs` ago. */
  async function delivered(
    campaign: Campaign,
    userIds: string[],
    { status = 'sent', agoMs = HOUR, namespace = 'crm' }: { status?: 'sent' | 'pending' | 'failed' | 'excluded'; agoMs?: number; namespace?: string } = {},
  ): Promise<string> {
    const id = `cap-exec-${++executions}`;
    await herald.db
      .insertInto('executions')
      .values({
        id,
        request_id: id,
        request_hash: id,
        campaign_id: campaign.id,
        campaign_version: campaign.version,
        workflow_id: `wf-${id}`,
        status: 'completed',
        failure_reason: null,
        created_at: iso(now - agoMs),
        completed_at: iso(now - agoMs),
        workflow_checked_at: null,
        context: null,
        started_by_key_id: null,
        details_purged_at: null,
      })
      .execute();
    await herald.db
      .insertInto('deliveries')
      .values(
        userIds.map((userId, position) => ({
          execution_id: id,
          user_id: userId,
          position,
          namespace,
          channel: campaign.channel,
          status,
          reason: null,
          address: null,
          message_id: null,
          updated_at: iso(now - agoMs),
          context: null,
          channel_data: null,
        })),
      )
      .execute();
    return id;
  }

  const capped = async (campaign: Campaign, userIds: string[], extra: { namespace?: string; exceptExecutionId?: string } = {}) =>
    [
      ...(await capping.cappedUserIds({
        campaign,
        namespace: extra.namespace ?? 'crm',
        userIds,
        nowMs: now,
        ...(extra.exceptExecutionId && { exceptExecutionId: extra.exceptExecutionId }),
      })),
    ].sort();

  beforeAll(async () => {
    herald = await startHerald({ withoutWorker: true });
    capping = new CappingRepository(herald.db);
    const campaigns = new CampaignRepository(herald.db);
    const draft = { channel: 'email' as const, content: { subject: 's', html: 'h' }, audience: { namespace: 'crm', createMissingProfiles: false } };
    campaignA = await campaigns.create({ ...draft, name: 'A', type: 'marketing', capping: { max: 2, periodHours: 24 } });
    campaignB = await campaigns.create({ ...draft, name: 'B', type: 'marketing' });
    transactional = await campaigns.create({ ...draft, name: 'T', type: 'transactional' });
    smsMarketing = await campaigns.create({ ...draft, channel: 'sms', content: { body: 'b' }, name: 'S', type: 'marketing' });
  });
  afterAll(() => herald?.stop());

  it("caps by the campaign's own sends in the period: sent only, in the namespace, within periodHours", async () => {
    await delivered(campaignA, ['a-reached', 'a-one', 'a-old', 'a-pending', 'a-failed', 'a-elsewhere']);
    await delivered(campaignA, ['a-reached']);
    await delivered(campaignA, ['a-old'], { agoMs: 25 * HOUR });
    await delivered(campaignA, ['a-pending'], { status: 'pending' });
    await delivered(campaignA, ['a-failed'], { status: 'failed' });
    await delivered(campaignA, ['a-elsewhere'], { namespace: 'other' });
    // Another campaign's sends do not count toward A's capping.
    await delivered(campaignB, ['a-one']);
    expect(await capped(campaignA, ['a-reached', 'a-one', 'a-old', 'a-pending', 'a-failed', 'a-elsewhere', 'a-never'])).toEqual(['a-reached']);
    // B has no capping and there is no global rule yet.
    expect(await capped(campaignB, ['a-reached', 'a-one'])).toEqual([]);
  });

  it('does not count the execution being prepared (a retried preparation never caps its own sends)', async () => {
    await delivered(campaignA, ['retry-user']);
    const current = await delivered(campaignA, ['retry-user']);
    expect(await capped(campaignA, ['retry-user'])).toEqual(['retry-user']);
    expect(await capped(campaignA, ['retry-user'], { exceptExecutionId: current })).toEqual([]);
  });

  it("applies the channel's global rule across marketing campaigns, never to transactional ones", async () => {
    const rules = new CappingRuleRepository(herald.db);
    await rules.put('email', { max: 3, periodHours: 48 });
    try {
      await delivered(campaignA, ['g-two-marketing', 'g-three-marketing']);
      await delivered(campaignB, ['g-two-marketing', 'g-three-marketing']);
      await delivered(campaignB, ['g-three-marketing'], { agoMs: 30 * HOUR });
      // Transactional sends and another channel's marketing sends do not count.
      await delivered(transactional, ['g-two-marketing']);
      await delivered(smsMarketing, ['g-two-marketing']);
      expect(await capped(campaignB, ['g-two-marketing', 'g-three-marketing', 'g-none'])).toEqual(['g-three-marketing']);
      // A sent each of them once (its own capping of 2 is not reached); the global rule still caps the third.
      expect(await capped(campaignA, ['g-two-marketing', 'g-three-marketing'])).toEqual(['g-three-marketing']);
      expect(await capped(transactional, ['g-two-marketing', 'g-three-marketing', 'a-reached'])).toEqual([]);
      // The SMS channel has no rule: SMS marketing is not capped by the email rule.
      expect(await capped(smsMarketing, ['g-three-marketing'])).toEqual([]);
    } finally {
      await rules.delete('email');
    }
    expect(await capped(campaignB, ['g-three-marketing'])).toEqual([]);
  });

  it('answers for 1000 userIds at once with grouped queries', async () => {
    const userIds = Array.from({ length: 1000 }, (_, i) => `bulk-${i}`);
    const reached = userIds.filter((_, i) => i % 7 === 0);
    await delivered(campaignA, userIds);
    await delivered(campaignA, reached);
    const started = performance.now();
    const result = await capped(campaignA, userIds);
    const elapsedMs = performance.now() - started;
    expect(result).toEqual([...reached].sort());
    console.log(`[capping] cappedUserIds for 1000 userIds (${reached.length} capped): ${elapsedMs.toFixed(1)} ms`);
  });
});
