import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import webpush from 'web-push';
import { ConfigError, loadConfig } from '../../src/config/env';
import { childEnvironment } from '../../src/entry/child-environments';

const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const vapidKeys = webpush.generateVAPIDKeys();
const VAPID = { VAPID_SUBJECT: 'mailto:ops@example.com', VAPID_PUBLIC_KEY: vapidKeys.publicKey, VAPID_PRIVATE_KEY: vapidKeys.privateKey };
const FCM = { FCM_PROJECT_ID: 'acme', FCM_SERVICE_ACCOUNT: JSON.stringify({ client_email: 'herald@acme.iam.gserviceaccount.com', private_key: pem }) };
const APNS = { APNS_TEAM_ID: 'TEAM123456', APNS_KEY_ID: 'KEY1234567', APNS_BUNDLE_ID: 'com.example.app', APNS_PRIVATE_KEY: pem };

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('push defaults in the configuration', () => {
  it('keeps every platform in the outbox without provider variables', () => {
    const { push } = loadConfig({});
    expect(push).toMatchObject({ outboxDefault: true });
    expect(push.webpush ?? push.fcm ?? push.apns).toBeUndefined();
  });

  it('builds each provider from its variables, and the outbox stays while one platform lacks them', () => {
    expect(loadConfig(VAPID).push).toMatchObject({
      webpush: { subject: 'mailto:ops@example.com', publicKey: vapidKeys.publicKey, privateKey: vapidKeys.privateKey },
      outboxDefault: true,
    });
    const all = loadConfig({ ...VAPID, ...FCM, ...APNS, APNS_PRODUCTION: 'true' }).push;
    expect(all).toMatchObject({
      fcm: { projectId: 'acme' },
      apns: { teamId: 'TEAM123456', keyId: 'KEY1234567', bundleId: 'com.example.app', production: true },
      outboxDefault: false,
    });
    expect(loadConfig({ ...VAPID, ...FCM, ...APNS, HERALD_PUSH_OUTBOX: 'true' }).push.outboxDefault).toBe(true);
    expect(loadConfig({ HERALD_PUSH_OUTBOX: 'false' }).push.outboxDefault).toBe(false);
  });

  it.each(Object.keys(VAPID))('refuses to start with %s missing of the three VAPID variables, naming it', (missing) => {
    const env: Record<string, string> = { ...VAPID };
    delete env[missing];
    const message = configError(env);
    expect(message).toContain(`${missing}: the webpush push default needs VAPID_SUBJECT, VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY together; ${missing} is missing`);
  });

  it('names every missing variable of a partial FCM or APNs default, and checks the service account and the key', () => {
    expect(configError({ FCM_PROJECT_ID: 'acme' })).toContain('FCM_SERVICE_ACCOUNT is missing');
    expect(configError({ APNS_TEAM_ID: 'TEAM123456', APNS_BUNDLE_ID: 'com.example.app' })).toContain('APNS_KEY_ID, APNS_PRIVATE_KEY are missing');
    const secretJson = '{"private_key":"s3cr3t"}';
    const badAccount = configError({ ...FCM, FCM_SERVICE_ACCOUNT: secretJson });
    expect(badAccount).toContain('FCM_SERVICE_ACCOUNT must be the service-account key file');
    expect(badAccount).not.toContain('s3cr3t');
    expect(configError({ ...APNS, APNS_PRIVATE_KEY: 'not-a-pem' })).toContain('APNS_PRIVATE_KEY must be the .p8 key');
    const badVapid = configError({ ...VAPID, VAPID_PRIVATE_KEY: 'short-secret' });
    expect(badVapid).toContain('VAPID_PRIVATE_KEY must be the URL-safe base64 private key');
    expect(badVapid).not.toContain('short-secret');
  });

  it('gives the push credentials to the worker only; the API gets HERALD_PUSH_OUTBOX', () => {
    const parent = { ...VAPID, ...FCM, ...APNS, APNS_PRODUCTION: 'true' };
    expect(childEnvironment('worker', parent)).toMatchObject(parent);
    const api = childEnvironment('api', parent, { HERALD_PUSH_OUTBOX: 'false' });
    expect(api).toEqual({ HERALD_PUSH_OUTBOX: 'false' });
    expect(() => childEnvironment('api', parent, { VAPID_PRIVATE_KEY: 'x' })).toThrow(/allow list/);
    expect(() => childEnvironment('worker', parent, { HERALD_PUSH_OUTBOX: 'true' })).toThrow(/allow list/);
  });
});
