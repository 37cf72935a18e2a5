import { condition, continueAsNew, defineQuery, defineSignal, proxyLocalActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { CampaignStatus } from '../src/domain/campaign';
import type { HeraldActivities } from '../activities/index';

export interface CampaignActivationInput {
  campaignId: string;
  startAt?: string;
  endAt?: string;
}

export interface ActivationState {
  campaignId: string;
  status: CampaignStatus;
  startAt?: string;
  endAt?: string;
  stopRequested: boolean;
}

export const stopCampaignSignal = defineSignal('stop');
export const activationStateQuery = defineQuery<ActivationState>('state');

const { setCampaignStatus } = proxyLocalActivities<HeraldActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

function phaseAt(input: CampaignActivationInput, nowMs: number): 'scheduled' | 'live' | 'completed' {
  if (input.startAt && nowMs < Date.parse(input.startAt)) return 'scheduled';
  if (input.endAt && nowMs >= Date.parse(input.endAt)) return 'completed';
  return 'live';
}

/**
 * Lives as long as the campaign: scheduled until startAt, live until endAt, then completed,
 * unless stopped first. Durable timers replace any home-made scheduler.
 */
export async function campaignActivation(input: CampaignActivationInput): Promise<ActivationState> {
  const state: ActivationState = { campaignId: input.campaignId, status: 'draft', startAt: input.startAt, endAt: input.endAt, stopRequested: false };
  setHandler(stopCampaignSignal, () => {
    state.stopRequested = true;
  });
  setHandler(activationStateQuery, () => state);

  for (;;) {
    const now = Date.now();
    const next: CampaignStatus = state.stopRequested ? 'stopped' : phaseAt(input, now);
    if (next !== state.status) {
      await setCampaignStatus(input.campaignId, next);
      state.status = next;
    }
    if (next === 'stopped' || next === 'completed') return state;

    const deadline = next === 'scheduled' ? input.startAt : input.endAt;
    const wakeInMs = deadline ? Math.max(1, Date.parse(deadline) - now) : undefined;
    const wake = () => state.stopRequested || workflowInfo().continueAsNewSuggested;
    await (wakeInMs === undefined ? condition(wake) : condition(wake, wakeInMs));
    if (!state.stopRequested && workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof campaignActivation>(input);
    }
  }
}
