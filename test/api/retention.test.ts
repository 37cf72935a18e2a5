import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeSchedule } from '../support/schedule-description';
import { retentionScheduleId } from '../../workflows/workflow-ids';
import { liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';

/**
 * Retention: a Temporal Schedule purges what executions closed more than HERALD_RETENTION_DAYS ago
 * held about their recipients. Executions keep their outcome counts.
 */
describe('retention', () => {
  let herald: Herald;
  let campaign: { id: string };

  beforeAll(async () => {
    herald = await startHerald({ env: { HERALD_RETENTION_DAYS: '30' } });
    campaign = await liveCampaign(herald);
  });
  afterAll(() => herald?.stop());

  const trigger = async (userId: string, code: string) => {
    const res = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('ret'),
      campaignId: campaign.id,
      recipients: [{ userId, namespace: 'email', context: { code } }],
    });
    expect(res.status).toBe(202);
    return herald.waitForExecution(res.body.executionId);
  };
  const rows = async (executionId: string) => ({
    deliveries: (await herald.db.selectFrom('deliveries').select('user_id').where('execution_id', '=', executionId).execute()).length,
    rendered: (await herald.db.selectFrom('rendered_messages').select('position').where('execution_id', '=', executionId).execute()).length,
    outbox: (await herald.db.selectFrom('outbox').select('id').where('execution_id', '=', executionId).execute()).length,
    context: (await herald.db.selectFrom('executions').select('context').where('id', '=', executionId).executeTakeFirstOrThrow()).context,
  });

  it('is a Temporal Schedule that purges expired details and keeps the counts, and leaves recent executions alone', async () => {
    const schedule = await describeSchedule(herald.client.schedule.getHandle(retentionScheduleId(herald.config.temporal.taskQueue)));
    expect(schedule.spec.intervals?.map((i) => i.every)).toEqual([3_600_000]);

    const old = await trigger('old@example.com', 'old-code');
    const recent = await trigger('recent@example.com', 'recent-code');
    expect(await rows(old.executionId)).toMatchObject({ deliveries: 1, rendered: 1, outbox: 1 });
    expect((await rows(old.executionId)).context).toBeNull(); // the call had no shared context
    await herald.db
      .updateTable('executions')
      .set({ completed_at: new Date(Date.now() - 31 * 86_400_000).toISOString() })
      .where('id', '=', old.executionId)
      .execute();

    await herald.client.schedule.getHandle(retentionScheduleId(herald.config.temporal.taskQueue)).trigger();
    await expect
      .poll(async () => (await herald.request('GET', `/v1/executions/${old.executionId}`)).body.detailsPurgedAt, { timeout: 20_000, interval: 200 })
      .toEqual(expect.any(String));

    const purged = (await herald.request('GET', `/v1/executions/${old.executionId}`)).body;
    expect(purged).toMatchObject({ status: 'completed', counts: { sent: 1, failed: 0, excluded: 0, pending: 0 }, recipients: [] });
    expect(await rows(old.executionId)).toEqual({ deliveries: 0, rendered: 0, outbox: 0, context: null });
    expect(await rows(recent.executionId)).toMatchObject({ deliveries: 1, rendered: 1, outbox: 1 });
    expect((await herald.request('GET', `/v1/executions/${recent.executionId}`)).body.recipients).toHaveLength(1);
  });

  it('rejects a retention period that is not a whole number of days at startup', async () => {
    await expect(startHerald({ env: { HERALD_RETENTION_DAYS: '0' } })).rejects.toThrow(/HERALD_RETENTION_DAYS must be at least 1/);
  });
});
