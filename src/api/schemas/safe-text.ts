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
