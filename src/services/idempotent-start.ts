/**
 * The one start path of every execution a call starts (unitary triggers, audience runs; campaign
 * steps' digests and high-throughput dispatch are meant to come through it too): run the kind's
 * checks, claim, start the workflow and answer; a repeat of an earlier requestId is answered from
 * that claim (found by the claim itself, or looked up when the checks refuse).
 *
 * What it guarantees, and why:
 * - A repeated requestId never starts a second workflow, so never sends a second time. The claim
 *   (the unique index on request_id) gives concurrent calls one execution; the workflow id is the
 *   requestId's, started with REJECT_DUPLICATE (a closed run is not run again) and USE_EXISTING (a
 *   racing start joins the running one); and a repeat of a finished execution answers from
 *   Herald's database alone, since once Temporal's retention forgets its workflow a start would
 *   succeed and run it again.
 * - A requestId reused with another body is refused (409 request-id-conflict): the claim keeps the
 *   body's hash. Each kind's hash is stored in databases, so a kind must never change how it
 *   hashes.
 * - A call the checks refuse leaves no execution and starts nothing: they run before the claim.
 * - A crash between claim and start is healed: a repeat starts the workflow while the execution
 *   may lack one, and otherwise the orphan sweep starts it (a unitary trigger without steps, whose
 *   answer may come before its start, ADR 0011) or fails it as not-started, which a later repeat
 *   reopens and starts.
 */
import { createHash } from 'node:crypto';
import type { Workflow } from '@temporalio/common';
import stringify from 'safe-stable-stringify';
import { ulidFactory } from '../ids/ulid-factory';
import { DomainError } from '../domain/errors';
import type { Campaign } from '../domain/campaign';
import { NOT_STARTED_REASON, type ExecutionClaim, type ExecutionClaimRecord, type NewExecution } from '../repositories/executions';
import { startExecutionWorkflow, type WorkflowToStart } from '../temporal-client/execution-start';
import type { ServiceDependencies } from './service-dependencies';

const nextId = ulidFactory();

export interface TriggerCaller {
  /** The API key that makes the call, recorded so a trigger-scoped key can read what it started. */
  startedByKeyId?: string;
}

/** What every claim records, whatever its kind: the start path fills it in. */
export type ClaimIdentity = Pick<NewExecution, 'id' | 'requestId' | 'requestHash' | 'campaignId' | 'campaignVersion' | 'workflowId' | 'startedByKeyId'>;

/** A call to start an execution, with what its kind does its own way; `Checked` is what its checks hand to its claim. */
export interface IdempotentStart<W extends Workflow, Checked, Answer> {
  campaign: Pick<Campaign, 'id' | 'version' | 'channel' | 'type'>;
  requestId: string;
  /** False when the caller gave no requestId and one was made up: nothing can have claimed it. */
  mayRepeat: boolean;
  /** The body's hash, stored with the claim: see the guarantees above before changing one. */
  requestHash: string;
  /** Derived from the requestId, so Temporal refuses a second workflow too. */
  workflowId: string;
  caller: TriggerCaller;
  /**
   * A call's checks, before anything is recorded: they throw to refuse, and must have no effect.
   * A repeat that they refuse is still answered from its earlier claim.
   */
  check: () => Checked | Promise<Checked>;
  /** Records the call with the identity given and the kind's own data; a repository's claim. */
  claim: (identity: ClaimIdentity, checked: Checked) => Promise<ExecutionClaim>;
  /**
   * The workflow the execution runs, for the campaign version it was claimed under (a repeat's may
   * be older than the live one). Absent: the claim itself queues the execution for a workflow
   * that already runs (a high-throughput campaign's dispatcher, ADR 0010), so nothing is started,
   * neither by the first call nor by a repeat.
   */
  workflow?: (executionId: string, campaignVersion: number) => WorkflowToStart<W> | Promise<WorkflowToStart<W>>;
  /**
   * Runs for a repeat (same body) before its workflow may be started again, however the repeat
   * was found: what the first call may not have finished before it stopped (a topic run's freeze).
   */
  beforeRepeat?: (executionId: string) => Promise<unknown>;
  /**
   * The claim is synced to disk and the orphan sweep starts this kind's workflow when the API did
   * not (ADR 0011): a new call's answer waits for its start at most HERALD_START_WAIT_MS.
   */
  answerBeforeStart?: boolean;
  answer: (executionId: string, replayed: boolean) => Answer | Promise<Answer>;
}

/** Same body, same hash: key order and whitespace do not matter. */
export function requestHash(body: unknown): string {
  return createHash('sha256')
    .update(stringify(body) ?? '')
    .digest('hex');
}

/**
 * A repeat only (re)starts the workflow while the execution may still lack one: it is running
 * (the first call may have stopped between its claim and the start), or the orphan sweep closed
 * it as not-started. A finished execution answers from Herald's database alone: once Temporal's
 * retention has forgotten its workflow, starting it again would send a second time.
 */
function mayLackWorkflow(claim: ExecutionClaimRecord): boolean {
  return claim.status === 'running' || (claim.status === 'failed' && claim.failureReason === NOT_STARTED_REASON);
}

async function startWorkflow<W extends Workflow>(
  deps: ServiceDependencies,
  call: Pick<IdempotentStart<W, unknown, unknown>, 'campaign' | 'requestId' | 'workflow'>,
  executionId: string,
  workflowId: string,
  campaignVersion: number,
): Promise<void> {
  if (!call.workflow) return;
  await startExecutionWorkflow(deps.temporal, {
    campaign: call.campaign,
    requestId: call.requestId,
    workflowId,
    taskQueue: deps.config.temporal.taskQueue,
    start: await call.workflow(executionId, campaignVersion),
  });
}

/**
 * Starts one execution per requestId: a repeat (same body) answers the first call's execution,
 * even one racing the first call's start, and starts nothing new once that workflow exists.
 */
export async function idempotentStart<W extends Workflow, Checked, Answer>(
  deps: ServiceDependencies,
  call: IdempotentStart<W, Checked, Answer>,
): Promise<Answer> {
  const repeat = async (claim: ExecutionClaimRecord): Promise<Answer> => {
    if (claim.requestHash !== call.requestHash) throw requestIdConflict(call.requestId);
    await call.beforeRepeat?.(claim.executionId);
    if (mayLackWorkflow(claim)) {
      if (claim.status === 'failed') await deps.executions.reopenNotStarted(claim.executionId);
      await startWorkflow(deps, call, claim.executionId, claim.workflowId, claim.campaignVersion);
    }
    return call.answer(claim.executionId, true);
  };
  // The checks come first and the claim answers a repeat, so a new call (nearly every call) costs
  // no lookup of its requestId. Only a refused call looks for an earlier claim: a repeat is
  // answered from the first call's execution even when the checks would refuse it now (the
  // campaign stopped since, or moved to another version).
  let checked: Checked;
  try {
    checked = await call.check();
  } catch (refusal) {
    const previous = call.mayRepeat ? await deps.executions.findClaim(call.requestId) : undefined;
    if (previous) return repeat(previous);
    throw refusal;
  }
  const claim = await call.claim(
    {
      id: nextId(),
      requestId: call.requestId,
      requestHash: call.requestHash,
      campaignId: call.campaign.id,
      campaignVersion: call.campaign.version,
      workflowId: call.workflowId,
      ...(call.caller.startedByKeyId && { startedByKeyId: call.caller.startedByKeyId }),
    },
    checked,
  );
  if (claim.kind === 'conflict') throw requestIdConflict(call.requestId);
  if (claim.kind === 'repeat') return repeat(claim.claim);
  const start = () => startWorkflow(deps, call, claim.executionId, claim.workflowId, call.campaign.version);
  if (call.answerBeforeStart) {
    const { executionId } = claim;
    await deps.startWait.forStart(start, (error) =>
      // Ids only in logs. The orphan sweep starts it after HERALD_ORPHAN_GRACE_SECONDS, or a repeat of the call does.
      console.warn(
        `[api] execution ${executionId} was answered but its workflow did not start (${error instanceof Error ? error.message : String(error)}); the orphan sweep will start it`,
      ),
    );
  } else {
    await start();
  }
  return call.answer(claim.executionId, false);
}

const requestIdConflict = (requestId: string) =>
  new DomainError(
    'conflict',
    'request-id-conflict',
    'requestId already used',
    `requestId ${requestId} was already used with a different body; use a new requestId for a new call.`,
  );
