import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/env';
import { OpenApiRefusedError, serveApi } from '../../src/entry/serve-api';
import { startHerald, type Herald } from '../support/herald-harness';

describe('API keys', () => {
  let herald: Herald;
  beforeAll(async () => {
    herald = await startHerald({ withoutWorker: true, env: { HERALD_API_KEYS: 'key-one, key-two' } });
  });
  afterAll(() => herald.stop());

  it('requires a Bearer key on /v1 routes', async () => {
    const missing = await herald.request('GET', '/v1/campaigns');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toContain('Bearer');
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    expect((await herald.request('GET', '/v1/campaigns', undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await herald.request('GET', '/v1/campaigns', undefined, { authorization: 'Bearer key-two' })).status).toBe(200);
  });

  it('keeps /health and /openapi.json public', async () => {
    expect((await herald.request('GET', '/health')).status).toBe(200);
    expect((await herald.request('GET', '/openapi.json')).status).toBe(200);
  });
});

describe('configuration', () => {
  it('fails fast with a message naming each bad variable and how to fix it', () => {
    expect(() => loadConfig({ PORT: 'abc', TEMPORAL_TLS: 'maybe', RESEND_BASE_URL: 'not a url' })).toThrow(ConfigError);
    try {
      loadConfig({ PORT: '70000', TEMPORAL_TLS_CERT_PATH: '/x.pem' });
    } catch (error) {
      expect((error as Error).message).toMatch(/PORT: PORT must be between 1 and 65535/);
      expect((error as Error).message).toMatch(/TEMPORAL_TLS_KEY_PATH/);
    }
  });

  it('selects PostgreSQL with a postgres:// DATABASE_URL, SQLite without, and never echoes a bad URL', () => {
    expect(loadConfig({}).database).toMatchObject({ dialect: 'sqlite' });
    expect(loadConfig({ DATABASE_URL: 'postgresql://herald:s3cret@db.internal:5432/herald' }).database).toEqual({
      dialect: 'postgres',
      url: 'postgresql://herald:s3cret@db.internal:5432/herald',
    });
    for (const bad of ['mysql://herald:s3cret@db/herald', 'postgres://', 'herald:s3cret@db']) {
      let message = '';
      try {
        loadConfig({ DATABASE_URL: bad });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/DATABASE_URL must be a PostgreSQL connection URL/);
      expect(message).not.toContain('s3cret');
    }
  });

  it('refuses to serve an open API on a non-loopback interface', async () => {
    const config = loadConfig({ HOST: '0.0.0.0' });
    await expect(serveApi(config, undefined as never, undefined as never, () => {})).rejects.toThrow(OpenApiRefusedError);
  });
});
