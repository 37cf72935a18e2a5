/**
 * How a waitForEvent step's `match` pairs an event with a waiting run: the event's `data.<match>`
 * must equal the trigger's `context.<match>`. Both sides are reduced to the same string, which is
 * what Herald's database keeps for the waiting side (never Temporal's history).
 */
import stringify from 'safe-stable-stringify';
import { attributePath } from './audience-rule';
import { valueAt } from './step-condition';

/** The match string of `source.<path>`, or undefined when there is no value there (which then matches nothing). */
export function eventMatchValue(source: Record<string, unknown> | undefined, path: string): string | undefined {
  const value = valueAt(source, attributePath(path));
  if (value === undefined || value === null) return undefined;
  return stringify([path, value]) ?? undefined;
}

/** The path a stored match string was made for (its first element). */
export function eventMatchPath(matchValue: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(matchValue);
    return Array.isArray(parsed) && typeof parsed[0] === 'string' ? parsed[0] : undefined;
  } catch {
    return undefined;
  }
}
