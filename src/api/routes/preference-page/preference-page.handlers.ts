import type { RouteHandler } from '@hono/zod-openapi';
import { DomainError } from '../../../domain/errors';
import { changePreferences, PREFERENCE_ACTORS, preferenceChoices } from '../../../services/preferences';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { subscriberTokensOf } from '../../../services/subscriber-tokens';
import { Problem } from '../../problem';
import { PAGE_HEADERS } from '../unsubscribe/unsubscribe-page';
import { changesOf, decodeShown, preferencePage } from './preference-page';
import type * as routes from './preference-page.routes';

const unknownToken = () => new Problem(404, 'not-found', 'Not found', 'This preference link does not exist.', undefined, { 'cache-control': 'no-store' });

export function preferencePageHandlers(deps: ServiceDependencies) {
  // Without HERALD_TRACKING_SECRET this deployment made no link, so every token is unknown.
  const tokens = subscriberTokensOf(deps.config);

  /** The person a genuine page token names, with their choices; an erased person is as unknown as a forged token. */
  async function choicesOf(token: string) {
    const person = await tokens?.verifyPageToken(token);
    if (!person) throw unknownToken();
    try {
      return { person, ...(await preferenceChoices(deps, person)) };
    } catch (error) {
      if (error instanceof DomainError && error.kind === 'not-found') throw unknownToken();
      throw error;
    }
  }

  const page: RouteHandler<typeof routes.preferencePage> = async (c) => {
    const { preferences, categories } = await choicesOf(c.req.valid('param').token);
    return c.body(await preferencePage(preferences, categories, false), 200, PAGE_HEADERS);
  };

  const save: RouteHandler<typeof routes.savePreferencePage> = async (c) => {
    const { person, preferences, categories } = await choicesOf(c.req.valid('param').token);
    const form = await formOf(c.req.raw);
    const shownField = form.get('shown');
    const shown = decodeShown(typeof shownField === 'string' ? shownField : '');
    const checked = new Set([...form.keys()].filter((name) => name !== 'shown'));
    const changes = changesOf(shown, checked, categories);
    // A save that changes nothing writes nothing (and no audit entry).
    const unchanged = Object.keys(changes.channels).length === 0 && Object.keys(changes.categories).length === 0;
    const saved = unchanged ? preferences : await changePreferences(deps, person, changes, PREFERENCE_ACTORS.page);
    return c.body(await preferencePage(saved, categories, true), 200, PAGE_HEADERS);
  };

  return { page, save };
}

/** The posted form; anything that is not one (another content type, a garbled body) is an empty form. */
async function formOf(request: Request): Promise<FormData> {
  try {
    return await request.formData();
  } catch {
    return new FormData();
  }
}
