import type { FieldIssue } from './errors';

/**
 * Provider failover (docs/failover.md, ADR 0009): a channel configuration may name fallback
 * configurations of the same channel, tried in order when it cannot take a message now, and each
 * configuration has a circuit breaker that stops calling a provider that keeps failing. Pure
 * rules only; the chain is read in src/repositories/channel-configurations.ts and the breaker's
 * shared state lives in src/repositories/provider-circuits.ts.
 */

/** At most this many fallbacks a configuration: a longer chain only delays the retry that would follow. */
export const MAX_FALLBACKS = 5;

export interface CircuitBreakerSettings {
  /** Consecutive retryable failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit sends straight to the fallback before one trial send decides. */
  openSeconds: number;
}

export const DEFAULT_CIRCUIT_BREAKER: Readonly<CircuitBreakerSettings> = { failureThreshold: 5, openSeconds: 30 };

export type CircuitState = 'closed' | 'open' | 'half-open';

/** The part of a configuration the chain's review needs. */
export interface ChainMember {
  id: string;
  channel: string;
  fallback: readonly string[];
}

/**
 * Why a configuration's fallback list cannot stand, as field issues on `fallback`: an unknown id,
 * another channel, itself, a repeat, or a cycle through the others' fallbacks (A → B → A). A cycle
 * is refused even though the send loop would stop at a configuration it already tried: a cycle
 * is always a mistake, and refusing it keeps every chain a plain list.
 *
 * `lookup` answers the stored configurations by id; `self` is the configuration as it would be
 * after the change (its id, channel and the proposed fallback).
 */
export function fallbackProblems(self: ChainMember, lookup: (id: string) => ChainMember | undefined): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (self.fallback.length > MAX_FALLBACKS) issues.push({ field: 'fallback', message: `at most ${MAX_FALLBACKS} fallback configurations` });
  const seen = new Set<string>();
  self.fallback.forEach((id, index) => {
    const message = entryProblem(self, id, seen, lookup);
    seen.add(id);
    if (message) issues.push({ field: `fallback.${index}`, message });
  });
  return issues;
}

/** Why one fallback entry cannot stand, or undefined; `seen` holds the entries before it. */
function entryProblem(self: ChainMember, id: string, seen: ReadonlySet<string>, lookup: (id: string) => ChainMember | undefined): string | undefined {
  if (id === self.id) return 'a configuration cannot be its own fallback';
  if (seen.has(id)) return `${id} is listed twice`;
  const member = lookup(id);
  if (!member) return `no channel configuration ${id}`;
  if (member.channel !== self.channel) return `${id} is a ${member.channel} configuration; a fallback must be ${self.channel} too`;
  const cycle = cycleThrough(self, member, lookup);
  return cycle ? `a cycle: ${cycle.join(' → ')}` : undefined;
}

/** The path back to `self` through `start`'s fallbacks, if there is one (depth-first, each id once). */
function cycleThrough(self: ChainMember, start: ChainMember, lookup: (id: string) => ChainMember | undefined): string[] | undefined {
  const visited = new Set<string>();
  const walk = (member: ChainMember, path: string[]): string[] | undefined => {
    if (visited.has(member.id)) return undefined;
    visited.add(member.id);
    for (const next of member.fallback) {
      if (next === self.id) return [...path, member.id, self.id];
      const nextMember = lookup(next);
      if (nextMember) {
        const found = walk(nextMember, [...path, member.id]);
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(start, [self.id]);
}

/**
 * The configurations to try for one message, in order: the campaign's own, then its fallbacks as
 * listed, each once and of the same channel. A fallback's own fallbacks are not followed: the
 * campaign's configuration says the whole order, so what a message may go through is read in one
 * place. Safe on a stored list review would now refuse (a fallback deleted or changed since).
 */
export function failoverOrder<T extends ChainMember>(primary: T, lookup: (id: string) => T | undefined): T[] {
  const order: T[] = [primary];
  const seen = new Set([primary.id]);
  for (const id of primary.fallback.slice(0, MAX_FALLBACKS)) {
    const member = lookup(id);
    if (!member || seen.has(id) || member.channel !== primary.channel) continue;
    seen.add(id);
    order.push(member);
  }
  return order;
}

/**
 * How long a half-open circuit's trial may stay claimed before another worker may claim it: the
 * worker holding it died, or its send hangs past any provider timeout.
 */
export const TRIAL_CLAIM_MS = 60_000;
