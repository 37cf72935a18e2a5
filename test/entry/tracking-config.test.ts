import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/env';
import { loadOrCreateTrackingSecretFile } from '../../src/entry/tracking-secret-file';

describe('engagement tracking configuration', () => {
  it('HERALD_PUBLIC_URL defaults to the API on loopback and is validated', () => {
    expect(loadConfig({}).publicUrl).toBe('http://127.0.0.1:3000');
    expect(loadConfig({ HOST: '0.0.0.0', PORT: '8080' }).publicUrl).toBe('http://127.0.0.1:8080');
    expect(loadConfig({ HOST: '::1' }).publicUrl).toBe('http://[::1]:3000');
    expect(loadConfig({ HERALD_PUBLIC_URL: 'https://mail.example.com/herald/' }).publicUrl).toBe('https://mail.example.com/herald');
    expect(loadConfig({ HERALD_PUBLIC_URL: 'https://mail.example.com' }).publicUrl).toBe('https://mail.example.com');
    for (const bad of [
      'mail.example.com',
      'ftp://example.com',
      'https://u:p@example.com',
      'https://example.com/?x=1',
      'https://example.com/#f',
      'javascript:alert(1)',
    ]) {
      expect(() => loadConfig({ HERALD_PUBLIC_URL: bad }), bad).toThrow(/HERALD_PUBLIC_URL/);
    }
  });

  it('HERALD_TRACKING_SECRET needs 32 characters per key and never echoes one', () => {
    expect(loadConfig({}).tracking).toEqual({ secrets: [], perSecond: 100 });
    expect(loadConfig({ HERALD_TRACKING_SECRET: `${'a'.repeat(32)}, ${'b'.repeat(40)}`, HERALD_TRACKING_RATE_LIMIT: '7' }).tracking).toEqual({
      secrets: ['a'.repeat(32), 'b'.repeat(40)],
      perSecond: 7,
    });
    const error = (() => {
      try {
        loadConfig({ HERALD_TRACKING_SECRET: 'short-secret-value' });
      } catch (caught) {
        return caught as Error;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.message).toMatch(/HERALD_TRACKING_SECRET must be at least 32 characters/);
    expect(error!.message).not.toContain('short-secret-value');
  });
});

describe('the tracking secret file of npm start', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-tracking-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('creates one secret once, mode 0600, and reads the same one later', () => {
    const dir = dataDir();
    const first = loadOrCreateTrackingSecretFile(dir);
    expect(first.created).toBe(true);
    expect(first.path).toBe(join(dir, 'tracking-secret'));
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
    expect(loadConfig({ HERALD_TRACKING_SECRET: first.value }).tracking.secrets).toEqual([first.value]);
    expect(loadOrCreateTrackingSecretFile(dir)).toEqual({ path: first.path, value: first.value, created: false });
    expect(readFileSync(first.path, 'utf8')).toBe(`${first.value}\n`);
  });

  it('refuses a broken file without printing its content', () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'tracking-secret'), 'too-short-to-sign\n');
    expect(() => loadOrCreateTrackingSecretFile(dir)).toThrow(/is not a valid tracking secret: .*at least 32 characters/);
    try {
      loadOrCreateTrackingSecretFile(dir);
    } catch (error) {
      expect((error as Error).message).not.toContain('too-short-to-sign');
    }
  });
});
