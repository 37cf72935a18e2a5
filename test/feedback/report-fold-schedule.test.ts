import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportRollupScheduleId } from '../../workflows/workflow-ids';
import { liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';
import { describeSchedule } from '../support/schedule-description';

describe('report rollups schedule', () => {
  let herald: Herald;

  beforeAll(async () => {
    herald = await startHerald();
  });
  afterAll(() => herald.stop());

  it('is a Temporal Schedule that folds new deliveries into the rollups before any report is asked', async () => {
    const scheduleId = reportRollupScheduleId(herald.config.temporal.taskQueue);
    const schedule = await describeSchedule(herald.client.schedule.getHandle(scheduleId));
    expect(schedule.spec.intervals?.map((i) => i.every)).toEqual([60_000]);

    const campaign = await liveCampaign(herald);
    const accepted = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('fold'),
      campaignId: campaign.id,
      recipients: [{ userId: 'fold@example.com', namespace: 'email' }],
      context: { code: '1' },
    });
    await herald.waitForExecution(accepted.body.executionId);
    const rollupRows = async () =>
      Number(
        (
          await herald.db
            .selectFrom('report_rollups')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('campaign_id', '=', campaign.id)
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect(await rollupRows()).toBe(0);

    await herald.client.schedule.getHandle(scheduleId).trigger();
    await expect.poll(rollupRows, { timeout: 20_000, interval: 200 }).toBeGreaterThan(0);
    const report = await herald.request('GET', `/v1/campaigns/${campaign.id}/report`);
    expect(report.status).toBe(200);
    expect(report.body.totals).toMatchObject({ sent: 1 });
  });
});
