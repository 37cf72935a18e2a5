import { z } from '@hono/zod-openapi';
import { CHANNELS, type Channel } from '../../../domain/campaign';
import { CATEGORY_KEY_PATTERN } from '../../../domain/preferences';

/** The schemas of categories and preferences, shared by their routes and the campaign's `category`. */

export const CategoryKeySchema = z
  .string()
  .max(64)
  .regex(CATEGORY_KEY_PATTERN, 'must be a slug: lowercase letters and digits, with - or _ inside, at most 64 characters')
  .openapi({ example: 'billing' });

const channelShape = Object.fromEntries(CHANNELS.map((channel) => [channel, z.boolean().optional()])) as Record<Channel, z.ZodOptional<z.ZodBoolean>>;

export const ChannelSwitchesSchema = z
  .object(channelShape)
  .strict()
  .openapi('ChannelSwitches', {
    description: 'Channels turned on (true) or off (false); a channel left out is unset.',
    example: { email: true, sms: false },
  });

const preferenceFields = {
  channels: ChannelSwitchesSchema.openapi({ description: "Per channel, for every message on it; a category's own setting overrides it." }),
  categories: z.record(CategoryKeySchema, ChannelSwitchesSchema).openapi({
    description:
      "Per category key (GET /v1/categories), per channel. A critical category cannot be turned off (400). Unset falls back to the channel setting, then to the category's defaultChannels, then to on.",
  }),
};

const PREFERENCES_DESCRIPTION =
  "A person's preferences. A message of a campaign in a category goes unless the first of these that is set says false: the category's setting for its channel, the channel's setting, the category's defaultChannels; a critical category always goes. Otherwise it is excluded with reason `preference`.";

export const PreferencesSchema = z.object(preferenceFields).openapi('Preferences', {
  description: PREFERENCES_DESCRIPTION,
  example: { channels: { email: true, sms: false }, categories: { billing: { email: false } } },
});

/** What a PUT sends: the whole document, `channels` or `categories` left out meaning none (`{"channels":{}}` clears everything); see `putBody`. */
export const PreferencesPutSchema = z
  .object({ channels: preferenceFields.channels.optional(), categories: preferenceFields.categories.optional() })
  .strict()
  .refine((value) => value.channels !== undefined || value.categories !== undefined, { message: 'send channels, categories or both' })
  .openapi('PreferencesPut', {
    description: `${PREFERENCES_DESCRIPTION} A PUT replaces them all; \`channels\` or \`categories\` left out means none set.`,
    minProperties: 1,
    example: { channels: { email: true, sms: false }, categories: { billing: { email: false } } },
  });

/** A PUT's body as the preferences it sets. */
export const putBody = (body: z.infer<typeof PreferencesPutSchema>) => ({ channels: body.channels ?? {}, categories: body.categories ?? {} });
