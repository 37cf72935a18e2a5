import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type Herald } from '../support/herald-harness';

describe('service routes', () => {
  let herald: Herald;
  beforeAll(async () => {
    herald = await startHerald({ withoutWorker: true });
  });
  afterAll(() => herald.stop());

  it('GET /health/live, /health/ready and /health answer only the status, never cached', async () => {
    for (const path of ['/health/live', '/health/ready', '/health']) {
      const res = await herald.request('GET', path);
      expect(res.status, path).toBe(200);
      expect(res.body, path).toEqual({ status: 'ok' });
      expect(res.headers.get('cache-control'), path).toBe('no-store');
    }
  });

  it('GET /health/ready answers 503 when Temporal answers but lacks the namespace', async () => {
    // The frontend is up (getSystemInfo answers), but this API could start no workflow.
    const lost = await startHerald({ withoutWorker: true, env: { TEMPORAL_NAMESPACE: `missing-${randomUUID()}` } });
    try {
      for (const path of ['/health/ready', '/health']) {
        const res = await lost.request('GET', path);
        expect(res.status, path).toBe(503);
        expect(res.body, path).toEqual({ type: 'not-ready', title: 'Not ready', status: 503 });
      }
      expect((await lost.request('GET', '/health/live')).status).toBe(200);
    } finally {
      await lost.stop();
    }
  });

  it('GET /openapi.json is an OpenAPI 3.1 document covering every route', async () => {
    const res = await herald.request('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/health',
        '/health/live',
        '/health/ready',
        '/v1/campaigns',
        '/v1/campaigns/{id}',
        '/v1/campaigns/{id}/activate',
        '/v1/campaigns/{id}/stop',
        '/v1/profiles/{namespace}/{userId}',
        '/v1/executions/unitary',
        '/v1/executions/{executionId}',
        '/v1/outbox',
        '/v1/api-keys',
        '/v1/api-keys/{id}',
        '/v1/audit-log',
      ]),
    );
    expect(res.body.components.securitySchemes.bearerAuth.scheme).toBe('bearer');
  });

  it('GET /docs serves the reference page with its assets from this server, not a CDN', async () => {
    const page = await herald.request('GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.body).toContain('/docs/assets/scalar.js');
    expect(page.body).not.toMatch(/https?:\/\/(cdn|unpkg|jsdelivr)/);
    const asset = await fetch(`${herald.baseUrl}/docs/assets/scalar.js`);
    expect(asset.status).toBe(200);
    expect((await asset.text()).length).toBeGreaterThan(100_000);
  });

  it('unknown routes answer a 404 problem', async () => {
    const res = await herald.request('GET', '/v1/nope');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });
});
