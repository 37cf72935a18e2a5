import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { CampaignStatus } from '../src/domain/campaign';
import type { HeraldActivities } from '../activities/index';

export interface CampaignActivationInput {
  campaignId: string;
  startAt?: string;
  endAt?: string;
  /** The version activated. Absent in runs started before versions were switched by update. */
  version?: number;
}

export interface ActivationState {
  campaignId: string;
  status: CampaignStatus;
  startAt?: string;
  endAt?: string;
  stopRequested: boolean;
  /** The live version, when known: the one activated, then each one switched to by activateVersion. */
  liveVersion?: number;
}

export interface ActivateVersionInput {
  /** A draft version of the campaign, newer than the live one. */
  version: number;
  /** Who asked, for the audit log entry the switch writes. */
  actorKeyId: string;
}

export const stopCampaignSignal = defineSignal('stop');
export const activationStateQuery = defineQuery<ActivationState>('state');
/**
 * Replaces the live version with a reviewed draft version (POST /v1/campaigns/{id}/activate on a
 * campaign with a draft version). The validator refuses, leaving no trace in history, a campaign
 * that is stopping or over and a version that is not newer than the live one; the handler records
 * the switch in Herald's database through the switchCampaignVersion activity and answers the
 * state. Executions already accepted keep the version they recorded.
 */
export const activateVersionUpdate = defineUpdate<ActivationState, [ActivateVersionInput]>('activateVersion');

/**
 * Patch: versions are switched by the activateVersion update. The main loop lets a switch in
 * progress finish before the run ends or continues as new, and hands the live version on to the
 * next run. (Registering the handler adds no command: runs started before it take the update too.)
 */
export const VERSION_SWITCH_BY_UPDATE = 'version-switch-by-update';

const { setCampaignStatus } = proxyLocalActivities<HeraldActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/**
 * A regular activity, not a local one: the handler runs beside the main loop's local steps, and
 * concurrent local activities are not issued in a replay-stable order. Bounded, as the API waits
 * for the answer.
 */
const { switchCampaignVersion } = proxyActivities<HeraldActivities>({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '500 milliseconds',
    maximumInterval: '5 seconds',
    nonRetryableErrorTypes: ['CampaignNotFound', 'CampaignNotActive', 'CampaignVersionNotDraft'],
  },
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
  if (input.version !== undefined) state.liveVersion = input.version;
  setHandler(stopCampaignSignal, () => {
    state.stopRequested = true;
  });
  setHandler(activationStateQuery, () => state);
  setHandler(
    activateVersionUpdate,
    async ({ version, actorKeyId }) => {
      try {
        await switchCampaignVersion({ campaignId: input.campaignId, version, actorKeyId });
      } catch (error) {
        // An update fails on an ApplicationFailure; any other error would fail the workflow task.
        const cause = error instanceof ActivityFailure && error.cause instanceof ApplicationFailure ? error.cause : undefined;
        throw ApplicationFailure.nonRetryable(cause?.message ?? `Version ${version} could not be activated`, cause?.type ?? 'CampaignVersionSwitchFailed');
      }
      state.liveVersion = version;
      return state;
    },
    {
      validator: (update) => {
        if (!Number.isInteger(update?.version) || update.version < 1)
          throw ApplicationFailure.nonRetryable('version must be a positive integer', 'InvalidVersion');
        if (state.stopRequested || state.status === 'stopped' || state.status === 'completed') {
          throw ApplicationFailure.nonRetryable(`Campaign ${input.campaignId} is ${state.stopRequested ? 'stopping' : state.status}`, 'CampaignNotActive');
        }
        if (state.liveVersion !== undefined && update.version <= state.liveVersion) {
          throw ApplicationFailure.nonRetryable(`Version ${update.version} is not newer than the live version ${state.liveVersion}`, 'CampaignVersionNotNewer');
        }
      },
    },
  );

  for (;;) {
    const now = Date.now();
    const next: CampaignStatus = state.stopRequested ? 'stopped' : phaseAt(input, now);
    if (next !== state.status) {
      await setCampaignStatus(input.campaignId, next);
      state.status = next;
    }
    if (next === 'stopped' || next === 'completed') {
      if (patched(VERSION_SWITCH_BY_UPDATE)) await condition(allHandlersFinished);
      return state;
    }

    const deadline = next === 'scheduled' ? input.startAt : input.endAt;
    const wakeInMs = deadline ? Math.max(1, Date.parse(deadline) - now) : undefined;
    const wake = () => state.stopRequested || workflowInfo().continueAsNewSuggested;
    await (wakeInMs === undefined ? condition(wake) : condition(wake, wakeInMs));
    if (!state.stopRequested && workflowInfo().continueAsNewSuggested) {
      if (!patched(VERSION_SWITCH_BY_UPDATE)) return continueAsNew<typeof campaignActivation>(input);
      await condition(allHandlersFinished);
      // A stop that came in meanwhile is handled by the loop, in this run.
      if (!state.stopRequested)
        return continueAsNew<typeof campaignActivation>({ ...input, ...(state.liveVersion !== undefined && { version: state.liveVersion }) });
    }
  }
}
