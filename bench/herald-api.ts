// The few calls the bench makes to Herald's HTTP API to set a measurement up (the load generator
// makes the measured ones): JSON in, JSON out, any status from 300 up is an error.
import type { CampaignStep } from '../src/domain/campaign-steps';
import type { Stack } from './stack';

export async function api<T = any>(port: number, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/**
 * An active transactional email campaign that creates missing profiles: what every trigger run
 * hits. With `steps` (docs/steps.md), its triggers run the steps workflow instead of the one send.
 */
export async function liveCampaign(stack: Stack, name: string, steps?: readonly CampaignStep[]): Promise<string> {
  const port = stack.apiPorts[0]!;
  const created = await api<{ id: string }>(port, 'POST', '/v1/campaigns', {
    name,
    type: 'transactional',
    channel: 'email',
    content: {
      subject: 'Hello {{ profile.firstName }}',
      html: '<p>Hi {{ profile.firstName }}, your code is <b>{{ context.code }}</b>.</p>',
      text: 'Code {{ context.code }}',
    },
    audience: { namespace: 'email', createMissingProfiles: true },
    ...(steps && { steps }),
  });
  await api(port, 'POST', `/v1/campaigns/${created.id}/activate`);
  return created.id;
}
