import { z } from 'zod';

// The shapes every concern's variables share, each with the message that says how to fix a bad
// value; the messages name the variable, so they are built per variable.

export const port = (name: string, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be a TCP port number, e.g. ${name}=${fallback}` })
    .int(`${name} must be a whole number, e.g. ${name}=${fallback}`)
    .min(1, `${name} must be between 1 and 65535`)
    .max(65535, `${name} must be between 1 and 65535`)
    .default(fallback);

export const flag = z
  .enum(['true', 'false', '1', '0', ''], { error: 'use true or false' })
  .optional()
  .transform((value) => value === 'true' || value === '1');

export const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

export const wholeNumber = (name: string, example: number, min: number, max: number, unit: string) =>
  z.coerce
    .number({ error: `${name} must be a number of ${unit}, e.g. ${name}=${example}` })
    .int(`${name} must be a whole number of ${unit}, e.g. ${name}=${example}`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`)
    .default(example);
