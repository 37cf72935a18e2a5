import { z } from '@hono/zod-openapi';
import {
  ATTRIBUTE_OPS,
  attributePath,
  MAX_ATTRIBUTE_LENGTH,
  MAX_ATTRIBUTE_SEGMENTS,
  MAX_IN_VALUES,
  MAX_RULE_CONDITIONS,
  MAX_RULE_NESTING,
  ruleSizeIssues,
} from '../../domain/audience-rule';
import { CHANNELS } from '../../domain/campaign';
import { MAX_STEPS, SEND_OUTCOMES, STEP_ID, STEP_TYPES, type CampaignStep, type StepCondition } from '../../domain/campaign-steps';
import { templateSafetyProblem } from '../../domain/template-safety.mjs';
import {
  AttributeConditionSchema,
  attributeConditionValue,
  checkAttributeConditionValue,
  ConsentConditionSchema,
  LocaleConditionSchema,
} from './audience-rule';
import { CampaignContentSchema, CHANNEL_CONTENT } from './campaign-content';

/**
 * A campaign's steps as the API takes them (src/domain/campaign-steps.ts). One step at a time
 * here; what spans steps or needs the campaign (ids unique, a digest first, conditions naming
 * earlier send steps, wait ranges, another channel's content) is src/domain/campaign-steps-validation.ts,
 * run by the services where the campaign's channel is known.
 */

const stepId = z
  .string()
  .regex(STEP_ID, 'must be 1 to 64 letters, digits, _ or -')
  .openapi({ description: 'Unique in the campaign; conditions and the execution status name the step by it.', example: 'remind' });

/** A path into the trigger's context or an event's data, written like an attribute path. */
const dottedPath = (description: string, example: string) =>
  z
    .string()
    .max(MAX_ATTRIBUTE_LENGTH)
    .refine((path) => attributePath(path) !== undefined, {
      message: `a dotted path: keys of letters, digits, _ and -, each starting with a letter or _, joined by dots (at most ${MAX_ATTRIBUTE_SEGMENTS})`,
    })
    .openapi({ description, example });

const wait = (description: string, example: string) =>
  z
    .string()
    .max(64)
    .openapi({ description: `${description} An ISO 8601 duration from PT1S to P90D.`, example });

const SendStepSchema = z
  .object({
    id: stepId,
    type: z.literal('send'),
    channel: z.enum(CHANNELS).optional().openapi({ description: "Absent: the campaign's channel." }),
    content: CampaignContentSchema.optional().openapi({
      description:
        "The message's content, as a campaign's on that channel. Absent: the campaign's content, which only a send step on the campaign's channel may use.",
    }),
  })
  .strict()
  .superRefine((step, ctx) => {
    // Content is parsed as any channel's (as a campaign's is); a step that names its channel must carry that channel's.
    if (step.channel === undefined || step.content === undefined) return;
    if (!CHANNEL_CONTENT[step.channel].safeParse(step.content).success)
      ctx.addIssue({ code: 'custom', path: ['content'], message: `must be ${step.channel} content, flat or {default, translations}` });
  })
  .openapi('SendStep', {
    description:
      "Sends one message. Consent, suppression, capping and quiet hours apply as they do to a campaign without steps. Activation reviews its content like the campaign's.",
    example: { id: 'sms-reminder', type: 'send', channel: 'sms', content: { body: 'Your cart is waiting: {{ context.cartUrl }}' } },
  });

const DelayStepSchema = z
  .object({ id: stepId, type: z.literal('delay'), duration: wait('How long to wait.', 'PT1H') })
  .strict()
  .openapi('DelayStep', { description: 'Waits, durably, before the next step.', example: { id: 'wait', type: 'delay', duration: 'PT1H' } });

const digestKey = z
  .string()
  .max(1024)
  .refine((key) => Buffer.byteLength(key) <= 1024, 'must be at most 1 KB of UTF-8')
  .superRefine((key, ctx) => {
    const problem = templateSafetyProblem(key);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .openapi({
    description:
      "A text template rendered with the trigger's context; triggers whose key renders the same gather in one digest. Absent: one digest per recipient.",
    example: '{{ context.threadId }}',
  });

const DigestStepSchema = z
  .object({
    id: stepId,
    type: z.literal('digest'),
    window: wait('How long the digest gathers triggers, from its first one.', 'PT10M'),
    key: digestKey.optional(),
  })
  .strict()
  .openapi('DigestStep', {
    description:
      'Only as the first step: the triggers of the same recipient (and key) within `window` of the first form one digest; the steps after it run once for all of them, with `digest.count` and `digest.events` in templates.',
    example: { id: 'gather', type: 'digest', window: 'PT10M', key: '{{ context.threadId }}' },
  });

const branch = z.enum(['continue', 'stop']);

/** An event's name, as a waitForEvent step waits for it and POST /v1/events sends it. */
export const EventNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'must be letters, digits, ., _, : or -');

const WaitForEventStepSchema = z
  .object({
    id: stepId,
    type: z.literal('waitForEvent'),
    event: EventNameSchema.openapi({ description: 'The name of the event (POST /v1/events) waited for.', example: 'order.paid' }),
    timeout: wait('How long to wait for the event.', 'PT1H'),
    match: dottedPath(
      "The event matches only when its `data.<match>` equals the trigger's `context.<match>`. Absent: any event of the name for the recipient.",
      'orderId',
    ).optional(),
    ifEvent: branch.openapi({ description: 'When the event comes: go on to the next step, or stop the run for the recipient.' }),
    ifTimeout: branch.openapi({ description: 'When the timeout passes first: go on, or stop.' }),
  })
  .strict()
  .openapi('WaitForEventStep', {
    description: 'Waits for an event of the recipient (POST /v1/events), or for the timeout.',
    example: { id: 'paid', type: 'waitForEvent', event: 'order.paid', timeout: 'PT1H', match: 'orderId', ifEvent: 'stop', ifTimeout: 'continue' },
  });

const ContextConditionSchema = z
  .object({
    context: dottedPath("A path into the trigger's context.", 'cart.total'),
    op: z.enum(ATTRIBUTE_OPS),
    value: attributeConditionValue,
  })
  .strict()
  .superRefine(checkAttributeConditionValue)
  .openapi('StepContextCondition', {
    description: "The trigger's context compared with `value`, with the operators and typed values of an attribute condition.",
    example: { context: 'cart.total', op: 'gte', value: 50 },
  });

const outcome = z.enum(SEND_OUTCOMES);

const StepOutcomeConditionSchema = z
  .object({
    step: stepId.openapi({ description: 'An earlier send step of the campaign.' }),
    op: z.enum(['eq', 'neq', 'in', 'notIn']),
    value: z.union([outcome, z.array(outcome).min(1).max(SEND_OUTCOMES.length)]),
  })
  .strict()
  .superRefine(({ op, value }, ctx) => {
    const list = op === 'in' || op === 'notIn';
    if (list !== Array.isArray(value))
      ctx.addIssue({ code: 'custom', path: ['value'], message: list ? `${op} takes a list of outcomes` : `${op} takes one outcome` });
  })
  .openapi('StepOutcomeCondition', {
    description: `The outcome of an earlier send step for the recipient, the furthest it got: one of ${SEND_OUTCOMES.join(', ')}.`,
    example: { step: 'email', op: 'notIn', value: ['opened', 'clicked'] },
  });

const stepConditionList = () => z.array(StepConditionSchema).min(1).max(MAX_RULE_CONDITIONS);

const StepConditionSchema: z.ZodType<StepCondition> = z
  .lazy(() =>
    z.union([
      AttributeConditionSchema,
      ConsentConditionSchema,
      LocaleConditionSchema,
      ContextConditionSchema,
      StepOutcomeConditionSchema,
      z.object({ and: stepConditionList() }).strict().openapi({ description: 'Every condition holds.' }),
      z.object({ or: stepConditionList() }).strict().openapi({ description: 'At least one condition holds.' }),
      z.object({ not: StepConditionSchema }).strict().openapi({ description: 'The condition does not hold.' }),
    ]),
  )
  .openapi('StepCondition') as z.ZodType<StepCondition>;

/**
 * The size limits of an audience rule are checked first, on the raw value, so that a `where`
 * nested thousands of levels deep is refused before the recursive schema walks it.
 */
const where = z.preprocess((value, ctx) => {
  for (const issue of ruleSizeIssues({ where: value }))
    ctx.addIssue({
      code: 'custom',
      input: value,
      // The issues name `where.…`; this schema already stands at the step's `where`.
      path: issue.field
        .split('.')
        .slice(1)
        .map((key) => (/^\d+$/.test(key) ? Number(key) : key)),
      message: issue.message,
    });
  return value;
}, z.array(StepConditionSchema).min(1).max(MAX_RULE_CONDITIONS));

const ConditionStepSchema = z
  .object({ id: stepId, type: z.literal('condition'), where })
  .strict()
  .openapi('ConditionStep', {
    description: [
      'Goes on only if every condition of `where` holds; otherwise the run stops for the recipient (`stopped-by-condition`).',
      "The audience rule language (attribute, consent, locale, and/or/not) on the recipient's profile, plus the trigger's context and earlier send steps' outcomes.",
      `At most ${MAX_RULE_CONDITIONS} conditions in all, groups nested at most ${MAX_RULE_NESTING} levels; \`in\`/\`notIn\` lists at most ${MAX_IN_VALUES} values.`,
    ].join(' '),
    example: { id: 'not-opened', type: 'condition', where: [{ step: 'email', op: 'notIn', value: ['opened', 'clicked'] }] },
  });

export const CampaignStepSchema = z
  .discriminatedUnion('type', [SendStepSchema, DelayStepSchema, DigestStepSchema, WaitForEventStepSchema, ConditionStepSchema], {
    error: (issue) => (issue.code === 'invalid_union' ? `unknown step type; one of ${STEP_TYPES.join(', ')}` : undefined),
  })
  .openapi('CampaignStep') as unknown as z.ZodType<CampaignStep>;

/** An empty list is no steps, like null: the campaign sends its one message. */
export const CampaignStepsSchema = z.array(CampaignStepSchema).max(MAX_STEPS, `a campaign holds at most ${MAX_STEPS} steps`);
