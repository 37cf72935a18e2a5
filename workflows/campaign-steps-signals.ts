import { defineSignal } from '@temporalio/workflow';

/** An event reached recipients waiting in a waitForEvent step (POST /v1/events found them): ids and positions only. */
export interface EventArrived {
  stepId: string;
  positions: number[];
}

export const eventArrivedSignal = defineSignal<[EventArrived]>('eventArrived');

/** POST /v1/executions/cancel: the run stops at its current wait and sends nothing more. */
export const cancelRunSignal = defineSignal<[]>('cancelRun');
