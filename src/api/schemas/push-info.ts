import { z } from '@hono/zod-openapi';
import { normalizePushToken, PUSH_PLATFORMS, pushTokenProblem } from '../../domain/push';
import { safeText } from './safe-text';

/**
 * One device, as AJO's `pushInfo{appID, platform, token}`: `ios` takes the APNs device token (hex),
 * `android` the FCM registration token, `web` the Web Push subscription as the JSON string the
 * browser's `JSON.stringify(subscription)` gives (`{"endpoint":"https://…","keys":{"p256dh","auth"}}`),
 * validated and stored in that canonical form.
 */
export const PushInfoSchema = z
  .object({
    appID: safeText(1, 255).openapi({ description: 'The app (bundle id, Firebase app or site) the token belongs to.', example: 'com.example.app' }),
    platform: z.enum(PUSH_PLATFORMS).openapi({ description: 'ios (APNs), android (FCM) or web (Web Push).' }),
    token: z.string().min(1).max(2048).openapi({
      description:
        'ios: the APNs device token in hex; android: the FCM registration token; web: the PushSubscription JSON string {"endpoint","keys":{"p256dh","auth"}}.',
      example: 'fcm-registration-token-abc123:APA91b',
    }),
  })
  .strict()
  .superRefine((info, ctx) => {
    const problem = pushTokenProblem(info.platform, info.token);
    if (problem) ctx.addIssue({ code: 'custom', path: ['token'], message: problem });
  })
  .transform((info) => ({ ...info, token: normalizePushToken(info.platform, info.token) }))
  .openapi('PushInfo');
