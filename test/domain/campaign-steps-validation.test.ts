import { describe, expect, it } from 'vitest';
import type { CampaignStep } from '../../src/domain/campaign-steps';
import { assertValidSteps, campaignStepIssues } from '../../src/domain/campaign-steps-validation';
import { DomainError } from '../../src/domain/errors';

const send = (id: string, extra: Partial<Extract<CampaignStep, { type: 'send' }>> = {}): CampaignStep => ({ id, type: 'send', ...extra });
const fields = (steps: CampaignStep[], channel: 'email' | 'sms' | 'push' = 'email') => campaignStepIssues(steps, channel).map((issue) => issue.field);

describe('campaign step cross-checks', () => {
  it('accepts the four recipes', () => {
    const recipes: CampaignStep[][] = [
      [{ id: 'gather', type: 'digest', window: 'PT10M', key: '{{ context.threadId }}' }, send('tell')],
      [
        { id: 'wait', type: 'waitForEvent', event: 'order.paid', timeout: 'PT1H', match: 'orderId', ifEvent: 'stop', ifTimeout: 'continue' },
        { id: 'big', type: 'condition', where: [{ context: 'cart.total', op: 'gte', value: 50 }] },
        send('remind'),
      ],
      [
        send('email'),
        { id: 'later', type: 'delay', duration: 'P1D' },
        { id: 'unopened', type: 'condition', where: [{ not: { step: 'email', op: 'in', value: ['opened', 'clicked'] } }] },
        send('sms', { channel: 'sms', content: { body: 'Did you see our email?' } }),
      ],
      [{ id: 'login', type: 'waitForEvent', event: 'user:login', timeout: 'P7D', ifEvent: 'stop', ifTimeout: 'continue' }, send('nudge')],
    ];
    for (const steps of recipes) expect(campaignStepIssues(steps, 'email')).toEqual([]);
  });

  it('refuses more than 20 steps', () => {
    const steps = Array.from({ length: 21 }, (_, index) => send(`s${index}`));
    expect(fields(steps)).toEqual(['steps']);
    expect(fields(steps.slice(0, 20))).toEqual([]);
  });

  it('refuses an unknown step type and a malformed id', () => {
    const steps = [send('ok'), { id: 'x', type: 'sleep' } as unknown as CampaignStep, send('not an id')];
    expect(campaignStepIssues(steps, 'email')).toEqual([
      { field: 'steps.1.type', message: expect.stringContaining('unknown step type') },
      { field: 'steps.2.id', message: expect.any(String) },
    ]);
  });

  it('refuses a duplicate id, naming the later one', () => {
    const issues = campaignStepIssues([send('a'), { id: 'b', type: 'delay', duration: 'PT1M' }, send('a')], 'email');
    expect(issues).toEqual([{ field: 'steps.2.id', message: expect.stringContaining('steps.0') }]);
  });

  it('takes a digest only as the first step', () => {
    expect(fields([{ id: 'd', type: 'digest', window: 'PT5M' }, send('s')])).toEqual([]);
    expect(fields([send('s'), { id: 'd', type: 'digest', window: 'PT5M' }])).toEqual(['steps.1.type']);
  });

  it('bounds every wait between 1 second and 90 days', () => {
    const steps: CampaignStep[] = [
      { id: 'd', type: 'digest', window: 'PT0.5S' },
      { id: 'a', type: 'delay', duration: 'P91D' },
      { id: 'b', type: 'delay', duration: 'an hour' },
      { id: 'c', type: 'waitForEvent', event: 'e', timeout: 'P1Y', ifEvent: 'continue', ifTimeout: 'stop' },
      { id: 'e', type: 'delay', duration: 'PT1S' },
      { id: 'f', type: 'delay', duration: 'P90D' },
    ];
    expect(campaignStepIssues(steps, 'email')).toEqual([
      { field: 'steps.0.window', message: 'must be at least 1 second (PT1S)' },
      { field: 'steps.1.duration', message: 'must be at most 90 days (P90D)' },
      { field: 'steps.2.duration', message: expect.stringContaining('ISO 8601') },
      { field: 'steps.3.timeout', message: 'must be at most 90 days (P90D)' },
    ]);
  });

  it("needs content on a send step of another channel than the campaign's", () => {
    expect(fields([send('s', { channel: 'sms' })], 'email')).toEqual(['steps.0.content']);
    expect(fields([send('s', { channel: 'sms' })], 'sms')).toEqual([]);
    expect(fields([send('s', { channel: 'push', content: { title: 'Hi', body: 'there' } })], 'email')).toEqual([]);
  });

  it('lets a condition test only an earlier send step, wherever it is nested', () => {
    const steps: CampaignStep[] = [
      send('email'),
      { id: 'wait', type: 'delay', duration: 'PT1H' },
      {
        id: 'check',
        type: 'condition',
        where: [
          { step: 'email', op: 'eq', value: 'delivered' },
          { or: [{ step: 'wait', op: 'eq', value: 'sent' }, { not: { step: 'nope', op: 'neq', value: 'failed' } }] },
          {
            and: [
              { attribute: 'plan', op: 'eq', value: 'pro' },
              { step: 'check', op: 'in', value: ['sent'] },
            ],
          },
          { step: 'sms', op: 'notIn', value: ['opened'] },
        ],
      },
      send('sms', { channel: 'sms', content: { body: 'Hi' } }),
    ];
    const issues = campaignStepIssues(steps, 'email');
    expect(issues.map((issue) => issue.field)).toEqual([
      'steps.2.where.1.or.0.step',
      'steps.2.where.1.or.1.not.step',
      'steps.2.where.2.and.1.step',
      'steps.2.where.3.step',
    ]);
    expect(issues[0]!.message).toContain('delay');
    expect(issues[1]!.message).toContain('no step');
    expect(issues[2]!.message).toContain('itself');
    expect(issues[3]!.message).toContain('after');
  });

  it('throws the usual invalid-request error, and nothing for absent steps', () => {
    expect(() => assertValidSteps(undefined, 'email')).not.toThrow();
    expect(() => assertValidSteps(null, 'email')).not.toThrow();
    try {
      assertValidSteps([send('a'), send('a')], 'email');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ kind: 'invalid', code: 'validation-failed', issues: [{ field: 'steps.1.id' }] });
    }
  });
});
