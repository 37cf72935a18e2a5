import { describe, expect, it } from 'vitest';
import { envSchema } from '../../src/config/env';
import { ALLOWED, DENIED, SUPERVISOR_ONLY, childEnvironment, senderVariables } from '../../src/entry/child-environments';

const parent: NodeJS.ProcessEnv = {
  PATH: '/usr/bin',
  HOME: '/home/herald',
  LC_ALL: 'C.UTF-8',
  NODE_OPTIONS: '--max-old-space-size=512',
  HERALD_DATA_DIR: '/srv/herald',
  HERALD_PAYLOAD_KEYS: 'k:secret-payload-key',
  HERALD_API_KEYS: 'api-key-one,api-key-two',
  HERALD_RATE_LIMITS: 'api-key-one=10',
  HERALD_RATE_LIMIT: '100',
  HERALD_CODEC_CORS_ORIGINS: 'https://temporal.example',
  RESEND_API_KEY: 're_secret',
  EMAIL_FROM: 'Herald <h@example.com>',
  TEMPORAL_NAMESPACE: 'herald',
  TEMPORAL_API_KEY: 'cluster-key',
  TEMPORAL_CLI_PATH: '/opt/temporal',
  PORT: '3000',
  AWS_SECRET_ACCESS_KEY: 'unrelated-secret',
  GITHUB_TOKEN: 'unrelated-token',
};

describe('child environments of npm start', () => {
  it('never gives the worker an API key, and keeps what it needs', () => {
    const env = childEnvironment('worker', parent, { TEMPORAL_ADDRESS: '127.0.0.1:7233' });
    expect(env).not.toHaveProperty('HERALD_API_KEYS');
    expect(env).not.toHaveProperty('HERALD_RATE_LIMITS');
    expect(Object.values(env).join('\n')).not.toContain('api-key-one');
    expect(env).toMatchObject({
      PATH: '/usr/bin',
      HOME: '/home/herald',
      LC_ALL: 'C.UTF-8',
      NODE_OPTIONS: '--max-old-space-size=512',
      HERALD_DATA_DIR: '/srv/herald',
      HERALD_PAYLOAD_KEYS: 'k:secret-payload-key',
      RESEND_API_KEY: 're_secret',
      EMAIL_FROM: 'Herald <h@example.com>',
      TEMPORAL_NAMESPACE: 'herald',
      TEMPORAL_API_KEY: 'cluster-key',
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
    });
    expect(env).not.toHaveProperty('PORT');
    expect(env).not.toHaveProperty('HERALD_CODEC_CORS_ORIGINS');
  });

  it('never gives the API the provider secret; it gets HERALD_EMAIL_PROVIDER instead', () => {
    const env = childEnvironment('api', parent, { HERALD_EMAIL_PROVIDER: 'resend' });
    expect(env).not.toHaveProperty('RESEND_API_KEY');
    expect(Object.values(env).join('\n')).not.toContain('re_secret');
    expect(env).toMatchObject({
      HERALD_EMAIL_PROVIDER: 'resend',
      HERALD_API_KEYS: 'api-key-one,api-key-two',
      HERALD_RATE_LIMITS: 'api-key-one=10',
      HERALD_PAYLOAD_KEYS: 'k:secret-payload-key',
      PORT: '3000',
      HERALD_CODEC_CORS_ORIGINS: 'https://temporal.example',
    });
    expect(env).not.toHaveProperty('EMAIL_FROM');
  });

  it('passes neither part a variable nobody listed, nor the supervisor-only ones', () => {
    for (const part of ['worker', 'api'] as const) {
      const env = childEnvironment(part, parent);
      expect(env).not.toHaveProperty('AWS_SECRET_ACCESS_KEY');
      expect(env).not.toHaveProperty('GITHUB_TOKEN');
      expect(env).not.toHaveProperty('TEMPORAL_CLI_PATH');
    }
  });

  it('refuses to set a denied variable, even on purpose', () => {
    expect(() => childEnvironment('worker', parent, { HERALD_API_KEYS: 'x' })).toThrow(/not in the worker's environment allow list/);
    expect(() => childEnvironment('api', parent, { RESEND_API_KEY: 'x' })).toThrow(/not in the api's environment allow list/);
  });

  it('passes the worker, and only the worker, the provider credentials HERALD_SENDER_ENV lists', () => {
    const withSenders = {
      ...parent,
      HERALD_SENDER_ENV: 'ACME_RESEND_KEY, TWILIO_AUTH_TOKEN,HERALD_API_KEYS,DATABASE_URL',
      ACME_RESEND_KEY: 're_acme',
      TWILIO_AUTH_TOKEN: 'tw_secret',
      DATABASE_URL: 'postgres://u:p@db/herald',
    };
    const worker = childEnvironment('worker', withSenders);
    expect(worker).toMatchObject({
      HERALD_SENDER_ENV: withSenders.HERALD_SENDER_ENV,
      ACME_RESEND_KEY: 're_acme',
      TWILIO_AUTH_TOKEN: 'tw_secret',
      RESEND_API_KEY: 're_secret',
    });
    // Listing one of Herald's own variables passes nothing new: API keys never reach the worker.
    expect(worker).not.toHaveProperty('HERALD_API_KEYS');
    const api = childEnvironment('api', withSenders, { HERALD_SENDER_ENV_PRESENT: 'ACME_RESEND_KEY,TWILIO_AUTH_TOKEN' });
    expect(api).not.toHaveProperty('ACME_RESEND_KEY');
    // TWILIO_AUTH_TOKEN is the one provider secret the API holds: it verifies Twilio's callbacks (/webhooks/twilio).
    expect(api.TWILIO_AUTH_TOKEN).toBe('tw_secret');
    expect(api).not.toHaveProperty('HERALD_SENDER_ENV');
    expect(api.HERALD_SENDER_ENV_PRESENT).toBe('ACME_RESEND_KEY,TWILIO_AUTH_TOKEN');
    expect(Object.values(api).join('\n')).not.toMatch(/re_acme|re_secret/);
    expect(() => childEnvironment('api', withSenders, { ACME_RESEND_KEY: 'x' })).toThrow(/not in the api's environment allow list/);
    expect(senderVariables(withSenders)).toEqual(['RESEND_API_KEY', 'ACME_RESEND_KEY', 'TWILIO_AUTH_TOKEN']);
  });

  it('gives both parts the tracking key and public URL (the worker signs links, the API verifies them), the API alone its rate', () => {
    const withTracking = { ...parent, HERALD_TRACKING_SECRET: 't'.repeat(40), HERALD_PUBLIC_URL: 'https://mail.example.com', HERALD_TRACKING_RATE_LIMIT: '50' };
    for (const part of ['worker', 'api'] as const) {
      expect(childEnvironment(part, withTracking)).toMatchObject({ HERALD_TRACKING_SECRET: 't'.repeat(40), HERALD_PUBLIC_URL: 'https://mail.example.com' });
    }
    expect(childEnvironment('api', withTracking).HERALD_TRACKING_RATE_LIMIT).toBe('50');
    expect(childEnvironment('worker', withTracking)).not.toHaveProperty('HERALD_TRACKING_RATE_LIMIT');
  });

  it('lets the supervisor override or remove a variable', () => {
    expect(childEnvironment('worker', parent, { HERALD_PAYLOAD_KEYS: 'k2:other' }).HERALD_PAYLOAD_KEYS).toBe('k2:other');
    expect(childEnvironment('worker', parent, { HERALD_PAYLOAD_KEYS: undefined })).not.toHaveProperty('HERALD_PAYLOAD_KEYS');
  });

  it('classifies every variable src/config/env.ts declares', () => {
    const declared = Object.keys(envSchema.shape);
    expect(declared.length).toBeGreaterThan(20);
    const classified = new Set([...ALLOWED.worker, ...ALLOWED.api, ...SUPERVISOR_ONLY]);
    expect(
      declared.filter((name) => !classified.has(name)),
      'add these to src/entry/child-environments.ts',
    ).toEqual([]);
    for (const part of ['worker', 'api'] as const) {
      expect(ALLOWED[part].filter((name) => DENIED[part].includes(name))).toEqual([]);
    }
  });
});
