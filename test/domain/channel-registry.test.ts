import { describe, expect, it } from 'vitest';
import { CampaignCreateSchema } from '../../src/api/routes/campaigns/campaigns.routes';
import { CHANNEL_REGISTRY, UnknownChannelError, channelOf, channelRulesOf } from '../../src/channels/registry';
import type { Attempt, DispatchContext, OutgoingMessage } from '../../src/channels/channel-dispatch';
import { CHANNELS } from '../../src/domain/campaign';
import { reviewCampaign } from '../../src/domain/campaign-review';
import type { Campaign, ChannelContent } from '../../src/domain/campaign';
import { contentVariants } from '../../src/domain/locale';
import { normaliseAddress } from '../../src/domain/provider-feedback';
import { pushAddress } from '../../src/domain/push';
import type { Recipient } from '../../src/domain/recipient';
import { appliedTracking, reviewTracking } from '../../src/domain/tracking';
import { carriesUnsubscribe } from '../../src/domain/unsubscribe';

const recipient = (namespace: string, userId: string, channelData?: Recipient['channelData']): Recipient => ({
  namespace,
  userId,
  ...(channelData && { channelData }),
});
const device = { appID: 'app', platform: 'android' as const, token: 'tok-1' };

describe('the channel registry', () => {
  it('has one entry per channel of the campaign schema, named as it is', () => {
    expect([...CampaignCreateSchema.shape.channel.options].sort()).toEqual([...CHANNELS].sort());
    for (const name of CHANNELS) expect(channelOf(name).rules.name).toBe(name);
    expect(Object.keys(CHANNEL_REGISTRY).sort()).toEqual([...CHANNELS].sort());
  });

  it('answers an unknown channel with a typed error, never undefined', () => {
    expect(() => channelOf('fax')).toThrow(UnknownChannelError);
    expect(() => channelRulesOf('toString')).toThrow(UnknownChannelError);
  });

  it('gives every channel its rules and its dispatch', () => {
    for (const [name, entry] of Object.entries(CHANNEL_REGISTRY)) {
      expect(entry.rules.name).toBe(name);
      expect(typeof entry.dispatch).toBe('function');
      expect(typeof entry.rules.normaliseFeedbackAddress).toBe('function');
      expect(entry.rules.addressKind).not.toBe('');
    }
  });

  it('sends email and in-app audiences in blocks, the other channels one by one', () => {
    expect(CHANNELS.filter((name) => channelOf(name).blocks)).toEqual(['email', 'inApp']);
  });
});

describe('each channel resolves the address', () => {
  it('email: channelData, then the profile, then the userId in the email namespace', () => {
    const { rules } = channelOf('email');
    expect(rules.resolveAddress(recipient('users', 'u1', { emailAddress: 'given@x.com' }), { attributes: { email: 'stored@x.com' } })).toEqual({
      address: 'given@x.com',
    });
    expect(rules.resolveAddress(recipient('users', 'u1'), { attributes: { email: 'stored@x.com' } })).toEqual({ address: 'stored@x.com' });
    expect(rules.resolveAddress(recipient('email', 'me@x.com'), { attributes: {} })).toEqual({ address: 'me@x.com' });
    expect(rules.resolveAddress(recipient('users', 'u1'), { attributes: {} })).toEqual({ reason: 'no-email-address' });
    expect(rules.needsPushTokens).toBe(false);
  });

  it('sms: E.164 from channelData or the profile, the raw value when invalid, and the phone seeds a created profile', () => {
    const { rules } = channelOf('sms');
    expect(rules.resolveAddress(recipient('users', 'u1', { mobilePhoneNumber: '+44 7911 123456' }), { attributes: {} })).toEqual({ address: '+447911123456' });
    expect(rules.resolveAddress(recipient('users', 'u1'), { attributes: { phone: '+447911123456' } })).toEqual({ address: '+447911123456' });
    expect(rules.resolveAddress(recipient('users', 'u1'), { attributes: { phone: '12' } })).toEqual({ address: '12', reason: 'invalid-phone-number' });
    expect(rules.resolveAddress(recipient('users', 'u1'), { attributes: {} })).toEqual({ reason: 'no-phone-number' });
    expect(rules.seedAttributes?.(recipient('users', 'u1', { mobilePhoneNumber: '+447911123456' }))).toEqual({ phone: '+447911123456' });
    expect(rules.seedAttributes?.(recipient('users', 'u1'))).toEqual({});
  });

  it('push: channelData.pushInfo, else the latest stored device; the devices are loaded', () => {
    const { rules } = channelOf('push');
    const stored = { ...device, token: 'tok-stored' };
    expect(rules.needsPushTokens).toBe(true);
    expect(rules.resolveAddress(recipient('users', 'u1', { pushInfo: device }), { attributes: {}, pushTokens: [stored] })).toEqual({
      address: pushAddress(device),
    });
    expect(rules.resolveAddress(recipient('users', 'u1'), { attributes: {}, pushTokens: [stored, device] })).toEqual({ address: pushAddress(stored) });
    expect(rules.resolveAddress(recipient('users', 'u1'), { attributes: {} })).toEqual({ reason: 'no-push-token' });
  });

  it('inApp: the recipient itself, namespace/userId, whatever the profile holds', () => {
    const { rules } = channelOf('inApp');
    expect(rules.needsPushTokens).toBe(false);
    expect(rules.resolveAddress(recipient('users', 'u/1'), { attributes: {} })).toEqual({ address: 'users/u/1' });
    expect(rules.resolveAddress(recipient('users', 'u1', { emailAddress: 'a@x.com' }), { attributes: { email: 'b@x.com' } })).toEqual({ address: 'users/u1' });
  });

  it("chat: channelData.chat.destination, else the profile's slackUserId, else '' (the configuration's destination)", () => {
    const { rules } = channelOf('chat');
    expect(rules.resolveAddress(recipient('users', 'u1', { chat: { destination: 'C0123ABCD' } }), { attributes: { slackUserId: 'U1' } })).toEqual({
      address: 'C0123ABCD',
    });
    expect(rules.resolveAddress(recipient('users', 'u1'), { attributes: { slackUserId: 'U0123ABCD' } })).toEqual({ address: 'U0123ABCD' });
    expect(rules.resolveAddress(recipient('users', 'u1'), { attributes: { slackUserId: 'no way' } })).toEqual({
      address: 'no way',
      reason: 'invalid-chat-destination',
    });
    expect(rules.resolveAddress(recipient('users', 'u1'), { attributes: {} })).toEqual({ address: '' });
  });

  it('whatsapp: the number as SMS finds it (channelData, the profile, the phone namespace), in E.164', () => {
    const { rules } = channelOf('whatsapp');
    expect(rules.resolveAddress(recipient('users', 'u1', { mobilePhoneNumber: '+44 7911 123456' }), { attributes: { phone: '+33612345678' } })).toEqual({
      address: '+447911123456',
    });
    expect(rules.resolveAddress(recipient('users', 'u1'), { attributes: { phone: '+33 6 12 34 56 78' } })).toEqual({ address: '+33612345678' });
    expect(rules.resolveAddress(recipient('users', 'u1'), { attributes: {} })).toEqual({ reason: 'no-phone-number' });
    expect(rules.seedAttributes?.(recipient('users', 'u1', { mobilePhoneNumber: '+447911123456' }))).toEqual({ phone: '+447911123456' });
  });
});

describe('each channel reviews its content and tracking', () => {
  const campaign = (channel: Campaign['channel'], content: unknown, tracking?: Campaign['tracking']): Campaign =>
    ({
      id: 'c',
      name: 'n',
      tags: [],
      type: 'transactional',
      channel,
      content,
      audience: { namespace: 'users', createMissingProfiles: false },
      schedule: {},
      status: 'draft',
      version: 1,
      createdAt: '',
      updatedAt: '',
      ...(tracking && { tracking }),
    }) as Campaign;

  it('finds what each channel needs in the content', () => {
    const variants = (content: unknown) => contentVariants(content as ChannelContent);
    expect(channelRulesOf('email').reviewContent(variants({ subject: 'Hi', html: '<p>x</p>' }))).toEqual([]);
    expect(channelRulesOf('email').reviewContent(variants({ body: 'x' }))).toEqual([
      { field: 'content.html', message: 'an email campaign needs a subject and an HTML body, not an SMS body' },
    ]);
    expect(channelRulesOf('push').reviewContent(variants({ title: 'T', body: '', data: { n: 1 } }))).toEqual([
      { field: 'content.body', message: 'a push campaign needs a body' },
      { field: 'content.data.n', message: 'push data values must be strings' },
    ]);
    expect(channelRulesOf('inApp').reviewContent(variants({ title: 'T', body: 'B', actionUrl: '/orders/1', data: { n: 1, o: { p: true } } }))).toEqual([]);
    expect(channelRulesOf('inApp').reviewContent(variants({ title: ' ', body: 'B', actionUrl: 'javascript:alert(1)', deepLink: 'x://y' }))).toEqual([
      { field: 'content.title', message: 'an in-app campaign needs a title' },
      { field: 'content.deepLink', message: 'in-app content has actionUrl, not deepLink' },
      { field: 'content.actionUrl', message: 'an action URL is an http(s) URL or a path starting with / (not javascript, data or file)' },
    ]);
    // Shaped like push content, rendered by the channel's own rule: actionUrl and data, not deepLink.
    expect(channelRulesOf('inApp').titledExtras?.({ title: 'T', body: 'B', actionUrl: 'https://x.com/a', data: { n: 1 } })).toEqual({
      actionUrl: 'https://x.com/a',
      data: { n: 1 },
    });
    expect(channelRulesOf('push').titledExtras).toBeUndefined();
    expect(channelRulesOf('chat').reviewContent(variants({ text: 'Hi {{ profile.name }}', blocks: [{ type: 'divider' }] }))).toEqual([]);
    expect(channelRulesOf('chat').reviewContent(variants({ text: ' ', blocks: [{ type: 'section', text: { text: '{{ x.constructor }}' } }] }))).toEqual([
      { field: 'content.text', message: 'a chat campaign needs a text' },
      { field: 'content.blocks.0.text.text', message: expect.stringContaining('`constructor` is not allowed') },
    ]);
    expect(channelRulesOf('chat').reviewContent(variants({ title: 'T', body: 'B' }))).toEqual([
      { field: 'content.text', message: 'a chat campaign needs {text, blocks?}' },
    ]);
    expect(reviewCampaign(campaign('push', { subject: 's', html: 'h' }), 0, channelRulesOf('push'))).toEqual([
      { field: 'content.title', message: 'a push campaign needs a title and a body' },
    ]);
  });

  it('tracks opens and clicks in email, clicks in the SMS text, nothing in push', () => {
    expect(appliedTracking(channelRulesOf('email').tracking, { opens: true })).toEqual({ opens: true, clicks: false });
    expect(appliedTracking(channelRulesOf('sms').tracking, { opens: true, clicks: true })).toEqual({ opens: false, clicks: true, part: 'text' });
    expect(appliedTracking(channelRulesOf('sms').tracking, { opens: true })).toBeUndefined();
    expect(appliedTracking(channelRulesOf('push').tracking, { clicks: true })).toBeUndefined();
    expect(reviewTracking(campaign('sms', {}, { opens: true }), true, channelRulesOf('sms')).map((issue) => issue.field)).toEqual(['tracking.opens']);
    expect(reviewTracking(campaign('push', {}, { clicks: true }), true, channelRulesOf('push'))).toEqual([
      { field: 'tracking', message: 'engagement tracking is available for email and SMS campaigns only, not push' },
    ]);
    expect(reviewTracking(campaign('email', {}, { opens: true, clicks: true }), true, channelRulesOf('email'))).toEqual([]);
  });
});

describe('each channel normalises feedback addresses and names what it expects', () => {
  it('email lower-cased, SMS in E.164, push tokens as given; blank or foreign is none', () => {
    expect(normaliseAddress(channelRulesOf('email'), '  Ann@X.com ')).toBe('ann@x.com');
    expect(normaliseAddress(channelRulesOf('email'), 'not-an-address')).toBeUndefined();
    expect(normaliseAddress(channelRulesOf('sms'), ' +44 7911 123456 ')).toBe('+447911123456');
    expect(normaliseAddress(channelRulesOf('sms'), '12')).toBeUndefined();
    expect(normaliseAddress(channelRulesOf('push'), ' Tok-1 ')).toBe('Tok-1');
    for (const name of CHANNELS) expect(normaliseAddress(channelRulesOf(name), '   ')).toBeUndefined();
  });

  it('says what a valid address is, and only marketing email carries the unsubscribe link', () => {
    expect(Object.fromEntries(CHANNELS.map((name) => [name, channelRulesOf(name).addressKind]))).toEqual({
      email: 'an email address',
      sms: 'an international phone number (+44 7911 123456)',
      push: 'a push token',
      inApp: 'an inbox (namespace/userId)',
      chat: 'a chat destination (a Slack channel or user id such as C0123ABCD or U0123ABCD)',
      whatsapp: 'an international phone number (+44 7911 123456)',
    });
    expect(CHANNELS.filter((name) => carriesUnsubscribe('marketing', channelRulesOf(name)))).toEqual(['email']);
    expect(CHANNELS.filter((name) => carriesUnsubscribe('transactional', channelRulesOf(name)))).toEqual([]);
  });
});

describe('each channel dispatch checks the address before any provider', () => {
  const message = (to: string): OutgoingMessage => ({
    executionId: 'e',
    position: 0,
    campaignId: 'c',
    userId: 'u',
    to,
    content: { subject: 's', html: null, text: 't' },
    idempotencyKey: 'k',
  });
  const context = (rejected: string[]): DispatchContext => ({
    emailProvider: {} as DispatchContext['emailProvider'],
    emailFrom: 'from@x.com',
    sendAndRecord: () => Promise.reject(new Error('no provider is called for a refused address')),
    reject: async (reason): Promise<Attempt> => {
      rejected.push(reason);
      return { kind: 'rejected' };
    },
    markFailed: () => Promise.reject(new Error('not expected')),
  });

  it('refuses what is not an address of the channel, with the reason recorded on the delivery', async () => {
    const rejected: string[] = [];
    for (const name of CHANNELS) expect(await channelOf(name).dispatch(message('nope'), context(rejected))).toEqual({ kind: 'rejected' });
    expect(rejected).toEqual(
      CHANNELS.map(
        (name) =>
          ({
            email: 'not a deliverable email address',
            sms: 'not an E.164 phone number',
            push: 'not a push target',
            inApp: 'not an inbox address',
            chat: 'not a chat destination',
            whatsapp: 'not an E.164 phone number',
          })[name],
      ),
    );
  });

  it('says which sender a worker lacks once the address is good', async () => {
    expect(await channelOf('sms').dispatch(message('+447911123456'), context([]))).toEqual({
      kind: 'not-sendable',
      detail: 'This worker has no SMS sender for e#0',
    });
    expect(await channelOf('push').dispatch(message(pushAddress(device)), context([]))).toEqual({
      kind: 'not-sendable',
      detail: 'This worker has no push sender for e#0',
    });
    expect(await channelOf('whatsapp').dispatch(message('+447911123456'), context([]))).toEqual({
      kind: 'not-sendable',
      detail: 'This worker has no WhatsApp sender for e#0',
    });
  });
});
