import { LRUCache } from 'lru-cache';
import type { Campaign } from '../domain/campaign';
import { compileContextSchema, contextViolations, MAX_REPORTED_VIOLATIONS, type CompiledContextSchema } from '../domain/context-schema';
import { DomainError, invalidRequest, type FieldIssue } from '../domain/errors';
import { mergeContext, type Recipient } from '../domain/recipient';

/**
 * Compiled contextSchemas by campaign id and version: a version never changes, so its validator
 * is compiled once per API process (compiling costs milliseconds, validating microseconds).
 */
const validators = new LRUCache<string, CompiledContextSchema>({ max: 1000 });

export function compiledFor(campaign: Pick<Campaign, 'id' | 'version' | 'contextSchema'>): CompiledContextSchema | undefined {
  if (!campaign.contextSchema) return undefined;
  const key = `${campaign.id}@${campaign.version}`;
  let compiled = validators.get(key);
  if (!compiled) {
    compiled = compileContextSchema(campaign.contextSchema);
    validators.set(key, compiled);
  }
  return compiled;
}

/**
 * Checks each recipient's context (the call's shared context with the recipient's own keys on
 * top, as preparation merges them) against the campaign's contextSchema, and refuses the call
 * with every violation. A violation is reported where the offending value came from:
 * `recipients.<i>.context.<path>` when the recipient's own context set that key,
 * `context.<path>` otherwise (a shared value, or a key nobody sent); the same shared violation is
 * listed once, not once per recipient.
 */
export function checkTriggerContext(
  campaign: Pick<Campaign, 'id' | 'version' | 'contextSchema'>,
  recipients: readonly Recipient[],
  shared: Record<string, unknown> | undefined,
): void {
  const compiled = compiledFor(campaign);
  if (!compiled) return;
  if (!compiled.ok) {
    throw new DomainError(
      'unprocessable',
      'context-schema-invalid',
      'The campaign contextSchema cannot be used',
      `Campaign ${campaign.id} v${campaign.version} has a contextSchema that does not compile; fix it in a new version.`,
      compiled.issues,
    );
  }
  const issues: FieldIssue[] = [];
  const seen = new Set<string>();
  recipients.forEach((recipient, i) => {
    for (const { path, message } of contextViolations(compiled.validate, mergeContext(shared, recipient.context))) {
      const own = path.length > 0 && recipient.context !== undefined && Object.hasOwn(recipient.context, path[0]!);
      const field = [own ? `recipients.${i}.context` : 'context', ...path].join('.');
      const key = `${field}\u0000${message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      issues.push({ field, message });
    }
  });
  if (issues.length === 0) return;
  const listed = issues.slice(0, MAX_REPORTED_VIOLATIONS);
  const more = issues.length > listed.length ? ` (the first ${listed.length} are listed)` : '';
  throw invalidRequest(listed, `The context does not match the campaign's contextSchema: ${issues.length} violation(s)${more}; see errors.`);
}
