// Section steps-cost: what running a trigger through campaign steps costs (issue 20). Two campaigns
// on the same stack, alike but for `steps`: a step-less one (S: the one-local-step happy path of
// workflows/trigger-execution.ts) and one whose only step is a send of the campaign's content (O:
// workflows/campaign-steps-execution.ts, whose step work runs as activities). End to end as the
// e2e section times it, interleaved S O O S with half the triggers each, at 1 and 5 recipients.
import type { Client } from '@temporalio/client';
import type { CampaignStep } from '../../src/domain/campaign-steps';
import { executionWorkflowId } from '../../workflows/workflow-ids';
import { heraldCpu, msPer } from '../cpu';
import { historyShape, type HistoryShape } from '../history-shape';
import type { UserSelection } from '../loadgen';
import type { BenchSettings } from '../settings';
import type { Stack } from '../stack';
import { fmt, summarize } from '../stats';
import { combine, heraldE2e, type E2eResult } from './end-to-end';

/** The least a campaign with steps can be: one send of the campaign's own channel and content. */
export const ONE_SEND_STEP: readonly CampaignStep[] = [{ id: 'send', type: 'send' }];

export interface StepsCostPair {
  recipients: number;
  stepless: E2eResult;
  oneStep: E2eResult;
  /** Per-second rates in run order: S, O, O, S. */
  rounds: number[];
  steplessHistory?: HistoryShape;
  oneStepHistory?: HistoryShape;
}

async function stepsCostPair(bench: BenchSettings, stack: Stack, client: Client, recipients: number, triggers: number): Promise<StepsCostPair> {
  const { log, runId } = bench;
  const half = Math.ceil(triggers / 2);
  const users = (round: number): UserSelection => ({ kind: 'unique', prefix: `${runId}-steps-r${recipients}-${round}` });
  log(`steps cost, ${recipients} recipient(s) per call: 2 × ${half} step-less and 2 × ${half} one-send-step triggers (S, O, O, S) ...`);
  const s1 = await heraldE2e(bench, stack, `stepless-r${recipients}-a`, recipients, half, users(1));
  const o1 = await heraldE2e(bench, stack, `onestep-r${recipients}-a`, recipients, half, users(2), ONE_SEND_STEP);
  const o2 = await heraldE2e(bench, stack, `onestep-r${recipients}-b`, recipients, half, users(3), ONE_SEND_STEP);
  const s2 = await heraldE2e(bench, stack, `stepless-r${recipients}-b`, recipients, half, users(4));
  const stepless = combine(s1, s2);
  const oneStep = combine(o1, o2);
  log(
    `  step-less ${fmt(s1.perSecond)} + ${fmt(s2.perSecond)} triggers/s, one step ${fmt(o1.perSecond)} + ${fmt(o2.perSecond)} → ${fmt(oneStep.perSecond / stepless.perSecond, 2)}×`,
  );
  const steplessHistory = await historyShape(client, executionWorkflowId(s1.campaignId, `${s1.requestPrefix}-0`), log);
  const oneStepHistory = await historyShape(client, executionWorkflowId(o1.campaignId, `${o1.requestPrefix}-0`), log);
  return {
    recipients,
    stepless,
    oneStep,
    rounds: [s1.perSecond, o1.perSecond, o2.perSecond, s2.perSecond],
    ...(steplessHistory && { steplessHistory }),
    ...(oneStepHistory && { oneStepHistory }),
  };
}

/** The pairs at 1 and 5 recipients per call, as many triggers as the e2e and growth pairs. */
export async function stepsCost(bench: BenchSettings, stack: Stack, client: Client): Promise<StepsCostPair[]> {
  return [await stepsCostPair(bench, stack, client, 1, bench.scaled(600)), await stepsCostPair(bench, stack, client, 5, bench.scaled(160))];
}

export function stepsCostReport(pairs: StepsCostPair[]): string[] {
  const cpu = (r: E2eResult) =>
    `${fmt(msPer(r.cpu.api, r.triggers))} / ${fmt(msPer(r.cpu.worker, r.triggers))} / ${fmt(msPer(r.cpu.temporal, r.triggers))} / ${fmt(msPer(heraldCpu(r.cpu), r.triggers))}`;
  const history = (h: HistoryShape | undefined) => (h ? `${h.events} / ${h.workflowTasks} / ${h.activityTasks} / ${h.bytes}` : 'n/a');
  return [
    '## Campaign steps: one send step against none, same stack, back to back',
    '',
    "Two transactional email campaigns alike but for `steps`: none (S, the trigger workflow's one-local-step happy path) and `[{ id: 'send', type: 'send' }]` (O, the steps workflow: its step work runs as activities). Triggers at concurrency 16 over HTTP, timed from the first call to the last execution closed, in the order S, O, O, S with half the triggers each.",
    '',
    '| recipients/call | triggers (each side) | step-less triggers/s | one step triggers/s | one step / step-less | rounds S, O, O, S (per s) | CPU ms per trigger, step-less: API / worker / Temporal / total | one step: API / worker / Temporal / total | accept p99 ms, step-less / one step | delivered, step-less / one step | history events / workflow tasks / activity tasks / bytes, step-less | one step |',
    '|---:|---:|---:|---:|---:|---|---|---|---:|---:|---|---|',
    ...pairs.map(
      (p) =>
        `| ${p.recipients} | ${p.stepless.triggers} / ${p.oneStep.triggers} | ${fmt(p.stepless.perSecond)} | ${fmt(p.oneStep.perSecond)} | ${fmt(p.oneStep.perSecond / p.stepless.perSecond, 2)}× | ${p.rounds.map((r) => fmt(r)).join(', ')} | ${cpu(p.stepless)} | ${cpu(p.oneStep)} | ${fmt(summarize(p.stepless.latencies).p99)} / ${fmt(summarize(p.oneStep.latencies).p99)} | ${p.stepless.delivered} / ${p.oneStep.delivered} | ${history(p.steplessHistory)} | ${history(p.oneStepHistory)} |`,
    ),
    '',
  ];
}
