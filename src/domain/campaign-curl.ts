import type { Campaign } from './campaign';
import { exampleObject, exampleValue } from './context-schema';
import { contentVariables, type TemplateVariables } from './template-variables';

export interface CampaignCurl {
  /** A shell command that triggers the campaign; the API key stays in `$HERALD_API_KEY`. */
  curl: string;
  /** Every variable the content reads, as dotted names (`profile.firstName`, `context.order.id`). */
  variables: TemplateVariables;
}

/** A userId a developer can recognise as a placeholder, in the namespace's own form. */
function exampleUserId(namespace: string): string {
  if (namespace === 'email') return 'user@example.com';
  // A number libphonenumber's full metadata accepts (555-01xx numbers are fictional, hence invalid), so an SMS trigger built from it sends.
  if (namespace === 'phone') return '+14155552671';
  return 'user-123';
}

/** Sets a nested value (`['order', 'id']`), leaving what is already there (a schema example) in place. */
function setDefault(target: Record<string, unknown>, path: readonly string[], value: () => unknown): void {
  let node = target;
  for (const [i, part] of path.entries()) {
    if (i === path.length - 1) {
      if (!Object.hasOwn(node, part)) node[part] = value();
      return;
    }
    const next = node[part];
    if (next === undefined) node[part] = {};
    else if (next === null || typeof next !== 'object' || Array.isArray(next)) return;
    node = node[part] as Record<string, unknown>;
  }
}

/** The `context` of an example call: what the schema requires, plus a placeholder for every `context.*` the content reads. */
export function exampleContext(campaign: Pick<Campaign, 'contextSchema'>, variables: TemplateVariables): Record<string, unknown> {
  const schema = campaign.contextSchema;
  const context: Record<string, unknown> = schema ? exampleObject(schema, []) : {};
  for (const name of variables.context) {
    const path = name.split('.').slice(1);
    if (path[0] === 'system') continue; // reserved: a call may not send it
    setDefault(context, path, () => exampleValue(schema, path));
  }
  return context;
}

/** Single-quotes a word for a POSIX shell. */
const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * A ready cURL request for the trigger API, as AJO's UI shows after activation: one recipient in
 * the campaign's audience namespace, a fresh requestId, and a context with a value for every
 * context variable the content reads. The key is a shell reference, never a real key. Pure.
 */
export function campaignCurl(campaign: Pick<Campaign, 'id' | 'content' | 'audience' | 'contextSchema'>, baseUrl: string, requestId: string): CampaignCurl {
  const variables = contentVariables(campaign.content);
  const context = exampleContext(campaign, variables);
  const body = {
    requestId,
    campaignId: campaign.id,
    recipients: [{ userId: exampleUserId(campaign.audience.namespace), namespace: campaign.audience.namespace }],
    ...(Object.keys(context).length > 0 && { context }),
  };
  const url = `${baseUrl.replace(/\/+$/, '')}/v1/executions/unitary`;
  const curl = [
    `curl -sS -X POST ${shellQuote(url)}`,
    `  -H "Authorization: Bearer $HERALD_API_KEY"`,
    `  -H 'Content-Type: application/json'`,
    `  -d ${shellQuote(JSON.stringify(body, null, 2))}`,
  ].join(' \\\n');
  return { curl, variables };
}
