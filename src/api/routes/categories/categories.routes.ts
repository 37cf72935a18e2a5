import { createRoute, z } from '@hono/zod-openapi';
import { allowKeys } from '../../access';
import { problemContent, v1Responses } from '../../problem';
import { safeText } from '../../schemas/safe-text';
import { CategoryKeySchema, ChannelSwitchesSchema } from '../preferences/preferences.schemas';

const categoryFields = {
  name: safeText(1, 255).openapi({ example: 'Billing' }),
  description: safeText(0, 1000).optional().openapi({ example: 'Invoices, receipts and payment reminders' }),
  critical: z.boolean().optional().openapi({
    description:
      'Its messages cannot be turned off: they go whatever the preferences, and a PUT that turns one of its channels off answers 400. Default false.',
  }),
  defaultChannels: ChannelSwitchesSchema.optional().openapi({
    description: 'What a person who set nothing for a channel (in the category or for the channel) gets; a channel left out is on. Default {}.',
  }),
};

export const CategoryCreateSchema = z
  .object({ key: CategoryKeySchema, ...categoryFields })
  .strict()
  .openapi('CategoryCreate');

export const CategoryPatchSchema = z
  .object({ ...categoryFields, description: safeText(0, 1000).nullable().optional().openapi({ description: 'null clears it' }) })
  .partial()
  .strict()
  .refine((value) => Object.keys(value).length > 0, { message: 'send at least one field to change' })
  .openapi('CategoryPatch', { minProperties: 1 });

export const CategorySchema = z
  .object({
    key: z.string(),
    name: z.string(),
    description: z.string().optional(),
    critical: z.boolean(),
    defaultChannels: ChannelSwitchesSchema,
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Category', {
    description: 'What a campaign is about (`"category": "<key>"` on the campaign), for the preferences people set per category.',
  });

const KeyParams = z.object({ key: CategoryKeySchema.openapi({ param: { name: 'key', in: 'path' } }) });
const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const tags = ['Categories'];
const security = allowKeys('full');

export const createCategory = createRoute({
  method: 'post',
  path: '/v1/categories',
  tags,
  security,
  summary: 'Create a category of campaigns',
  request: { body: { required: true, content: { 'application/json': { schema: CategoryCreateSchema } } } },
  responses: {
    201: json(CategorySchema, 'The new category'),
    400: problemContent('Invalid category'),
    ...v1Responses,
    409: problemContent('A category with this key exists'),
    413: problemContent('Body too large'),
  },
});

export const listCategories = createRoute({
  method: 'get',
  path: '/v1/categories',
  tags,
  security,
  summary: 'List the categories, by key',
  responses: { 200: json(z.object({ items: z.array(CategorySchema) }).openapi('CategoryList'), 'Every category'), ...v1Responses },
});

export const getCategory = createRoute({
  method: 'get',
  path: '/v1/categories/{key}',
  tags,
  security,
  summary: 'Get a category',
  request: { params: KeyParams },
  responses: { 200: json(CategorySchema, 'The category'), 400: problemContent('Invalid key'), ...v1Responses, 404: problemContent('Unknown category') },
});

export const patchCategory = createRoute({
  method: 'patch',
  path: '/v1/categories/{key}',
  tags,
  security,
  summary: 'Edit a category',
  description: 'Takes effect at the next send of every campaign that carries it. The key cannot change.',
  request: { params: KeyParams, body: { required: true, content: { 'application/json': { schema: CategoryPatchSchema } } } },
  responses: {
    200: json(CategorySchema, 'The edited category'),
    400: problemContent('Invalid edit'),
    ...v1Responses,
    404: problemContent('Unknown category'),
    413: problemContent('Body too large'),
  },
});

export const deleteCategory = createRoute({
  method: 'delete',
  path: '/v1/categories/{key}',
  tags,
  security,
  summary: 'Delete a category no campaign carries',
  description: "People's settings for it stay stored but are no longer shown or used; a category made again with the same key finds them.",
  request: { params: KeyParams },
  responses: {
    204: { description: 'Deleted' },
    400: problemContent('Invalid key'),
    ...v1Responses,
    404: problemContent('Unknown category'),
    409: problemContent('A campaign carries it (`category-in-use`): give the campaign another category first'),
  },
});
