import { parsePushAddress, type PushExtras } from '../../domain/push';
import type { ChannelDispatch } from '../channel-dispatch';
import { ProviderRejectedError } from '../provider-errors';
import { PushTokenGoneError } from './push-provider';

/**
 * A push message: the target ({appID, platform, token}) is the address; title, body and
 * {data, deepLink} JSON were rendered into subject, text and html.
 */
export const pushDispatch: ChannelDispatch = async (message, { configuration, push, sendAndRecord, reject, markFailed }) => {
  const { to, content } = message;
  const target = parsePushAddress(to);
  if (!target) return reject('not a push target');
  if (!push) return { kind: 'not-sendable', detail: `This worker has no push sender for ${message.executionId}#${message.position}` };
  let extras: PushExtras = {};
  try {
    extras = content.html ? (JSON.parse(content.html) as PushExtras) : {};
  } catch {
    return reject('the rendered push message is unreadable');
  }
  return sendAndRecord(
    async () => {
      const sender = await push.senderFor(message.campaignId, target.platform, configuration);
      if (sender.platforms && !sender.platforms.includes(target.platform))
        throw new ProviderRejectedError(`the ${sender.provider.name} push provider cannot reach ${target.platform} devices`);
      return sender.provider.send({
        target,
        title: content.subject ?? '',
        body: content.text ?? '',
        ...(extras.data && { data: extras.data }),
        ...(extras.deepLink && { deepLink: extras.deepLink }),
        idempotencyKey: message.idempotencyKey,
        campaignId: message.campaignId,
        executionId: message.executionId,
        userId: message.userId,
      });
    },
    async (error) => {
      if (!(error instanceof PushTokenGoneError)) return undefined;
      // The device is gone: forget its token on the profile, so later sends do not try it again.
      await push.forgetToken(message.userId, target.token);
      await markFailed(`push-token-gone: ${error.message}`);
      return { kind: 'rejected' };
    },
  );
};
