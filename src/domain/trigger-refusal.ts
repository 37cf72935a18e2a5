import { acceptsTriggers, scheduleWindowPosition, type CampaignStatus, type Schedule } from './campaign';

/**
 * Why a campaign refuses a trigger at `nowMs`, or undefined when it takes it. The trigger
 * workflow judges this by workflow time: it calls this itself, or passes its time to the local
 * step that does, so a replay decides the same way.
 */
export function triggerRefusal(status: CampaignStatus, schedule: Schedule, nowMs: number): 'campaign-not-live' | 'campaign-outside-schedule' | undefined {
  if (!acceptsTriggers(status)) return 'campaign-not-live';
  if (scheduleWindowPosition(schedule, nowMs) !== 'open') return 'campaign-outside-schedule';
  return undefined;
}
