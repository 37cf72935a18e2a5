import { z } from '@hono/zod-openapi';

// Identifiers end up in workflow IDs, search attributes and mail headers: no control
// characters, and no lone UTF-16 surrogates, which would not survive UTF-8 round trips.
// The pattern is written with explicit ranges so it means the same in every JSON Schema engine.
const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001F\u007F-\u009F]*$/;

export const safeText = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .regex(NO_CONTROL_CHARACTERS, 'must not contain control characters')
    .refine((value) => value.isWellFormed(), 'must be well-formed Unicode (no lone surrogates)');

export const MAX_JSON_DEPTH = 32;

/** True when `value` nests deeper than `limit`; never descends more than `limit` levels. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (limit === 0) return true;
  return Object.values(value).some((child) => nestsDeeperThan(child, limit - 1));
}

/** A JSON object for personalisation data, nested at most MAX_JSON_DEPTH levels. */
export const jsonObject = () =>
  z.record(z.string(), z.unknown()).refine((value) => !nestsDeeperThan(value, MAX_JSON_DEPTH), `must not be nested more than ${MAX_JSON_DEPTH} levels deep`);

/** True when a key or string anywhere in `value` holds U+0000 or a lone surrogate; bounded by MAX_JSON_DEPTH. */
function holdsUnstorableText(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  const bad = (text: string) => text.includes('\u0000') || !text.isWellFormed();
  if (typeof value === 'string') return bad(value);
  if (value === null || typeof value !== 'object' || limit < 0) return false;
  return Object.entries(value).some(([key, child]) => bad(key) || holdsUnstorableText(child, limit - 1));
}

/**
 * A JSON object that is stored as queryable JSON (profile attributes): PostgreSQL's jsonb holds
 * no U+0000 and no lone surrogate, so neither dialect accepts them, and both answer the same 400.
 */
export const queryableJsonObject = () =>
  jsonObject().refine((value) => !holdsUnstorableText(value), 'must not contain the character U+0000 or lone UTF-16 surrogates in keys or strings');
