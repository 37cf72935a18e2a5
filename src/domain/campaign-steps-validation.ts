/**
 * The checks of a campaign's steps that span more than one step, or the step and its campaign:
 * what the API schema (src/api/schemas/campaign-steps.ts) cannot see in one step alone. Pure; the
 * services run them on create and edit, where the campaign's channel is known, and answer 400
 * naming each path (`steps.2.duration`).
 */
import type { Channel } from './campaign';
import { MAX_STEPS, STEP_ID, STEP_TYPES, waitIssue, type CampaignStep, type StepCondition } from './campaign-steps';
import { invalidRequest, type FieldIssue } from './errors';

/** Every problem of `steps` for a campaign on `channel`, each under its path from the body's root. */
export function campaignStepIssues(steps: readonly CampaignStep[], channel: Channel): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (steps.length > MAX_STEPS) issues.push({ field: 'steps', message: `a campaign holds at most ${MAX_STEPS} steps` });
  const firstIndexOf = new Map<string, number>();
  for (const [index, step] of steps.entries()) {
    if (!firstIndexOf.has(step.id)) firstIndexOf.set(step.id, index);
  }

  for (const [index, step] of steps.entries()) {
    const at = (key: string) => `steps.${index}.${key}`;
    if (typeof step.id !== 'string' || !STEP_ID.test(step.id)) {
      issues.push({ field: at('id'), message: 'must be 1 to 64 letters, digits, _ or -' });
    } else if (firstIndexOf.get(step.id) !== index) {
      issues.push({ field: at('id'), message: `duplicates the id of steps.${firstIndexOf.get(step.id)}; step ids are unique in a campaign` });
    }
    if (!(STEP_TYPES as readonly string[]).includes(step.type)) {
      issues.push({ field: at('type'), message: `unknown step type; one of ${STEP_TYPES.join(', ')}` });
      continue;
    }
    switch (step.type) {
      case 'send':
        // Another channel cannot borrow the campaign's content: it is written for the campaign's channel.
        if (step.channel !== undefined && step.channel !== channel && step.content === undefined) {
          issues.push({ field: at('content'), message: `a send step on ${step.channel} needs its own content (the campaign's is ${channel} content)` });
        }
        break;
      case 'delay':
        pushWaitIssue(issues, at('duration'), step.duration);
        break;
      case 'digest':
        // Triggers gather before anything else happens: a digest after a send or a wait would gather nothing.
        if (index !== 0) issues.push({ field: at('type'), message: 'a digest step can only be the first step' });
        pushWaitIssue(issues, at('window'), step.window);
        break;
      case 'waitForEvent':
        pushWaitIssue(issues, at('timeout'), step.timeout);
        break;
      case 'condition':
        for (const reference of stepReferences(step.where, at('where'))) {
          const target = firstIndexOf.get(reference.step);
          const message =
            target === undefined
              ? 'names no step of this campaign'
              : target === index
                ? 'names this condition itself; a condition tests an earlier send step'
                : target > index
                  ? `names steps.${target}, which comes after this condition; a condition tests an earlier send step`
                  : steps[target]!.type !== 'send'
                    ? `names a ${steps[target]!.type} step; only a send step has an outcome to test`
                    : undefined;
          if (message) issues.push({ field: reference.field, message });
        }
        break;
    }
  }
  return issues;
}

/** Refuses steps that fail campaignStepIssues, as the API's usual 400 listing every path. */
export function assertValidSteps(steps: readonly CampaignStep[] | null | undefined, channel: Channel): void {
  if (!steps) return;
  const issues = campaignStepIssues(steps, channel);
  if (issues.length === 0) return;
  throw invalidRequest(issues, "The campaign's steps are not valid; see errors.");
}

function pushWaitIssue(issues: FieldIssue[], field: string, iso: string): void {
  const issue = waitIssue(iso);
  if (issue) issues.push({ field, message: issue });
}

/** The `step` conditions of a `where`, with the path of each one's `step` key; groups are walked (the schema bounds their depth). */
function stepReferences(where: readonly StepCondition[], field: string): { step: string; field: string }[] {
  const found: { step: string; field: string }[] = [];
  const visit = (condition: StepCondition, path: string): void => {
    if ('step' in condition) found.push({ step: condition.step, field: `${path}.step` });
    else if ('and' in condition) for (const [index, child] of condition.and.entries()) visit(child, `${path}.and.${index}`);
    else if ('or' in condition) for (const [index, child] of condition.or.entries()) visit(child, `${path}.or.${index}`);
    else if ('not' in condition) visit(condition.not, `${path}.not`);
  };
  for (const [index, condition] of (Array.isArray(where) ? where : []).entries()) visit(condition, `${field}.${index}`);
  return found;
}
