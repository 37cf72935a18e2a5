import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/env';
import { loadOrCreatePayloadKeyFile } from '../../src/entry/payload-key-file';

describe('the payload key file of npm start', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-keys-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('creates one key once, mode 0600, in HERALD_PAYLOAD_KEYS format, and reads the same key later', () => {
    const dir = dataDir();
    const first = loadOrCreatePayloadKeyFile(dir, new Date('2026-03-01T00:00:00Z'));
    expect(first.created).toBe(true);
    expect(first.path).toBe(join(dir, 'payload-keys'));
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
    expect(first.value).toMatch(/^local-2026-03-01:[A-Za-z0-9+/]{43}=$/);
    expect(loadConfig({ HERALD_PAYLOAD_KEYS: first.value }).payloadKeys).toEqual([{ id: 'local-2026-03-01', key: expect.any(Buffer) }]);
    const second = loadOrCreatePayloadKeyFile(dir);
    expect(second).toEqual({ path: first.path, value: first.value, created: false });
    expect(readFileSync(first.path, 'utf8')).toBe(`${first.value}\n`);
  });

  it('keeps a rotated list as written and tightens a file others can read', () => {
    const dir = dataDir();
    const path = join(dir, 'payload-keys');
    const rotated = `new:${Buffer.alloc(32, 1).toString('base64')},old:${Buffer.alloc(32, 2).toString('base64')}`;
    writeFileSync(path, `${rotated}\n`);
    chmodSync(path, 0o644);
    expect(loadOrCreatePayloadKeyFile(dir).value).toBe(rotated);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('refuses a broken or empty file without printing its content', () => {
    const dir = dataDir();
    const path = join(dir, 'payload-keys');
    writeFileSync(path, 'oops:not-a-key-SECRETISH\n', { mode: 0o600 });
    expect(() => loadOrCreatePayloadKeyFile(dir)).toThrow(/is not a valid payload key list/);
    try {
      loadOrCreatePayloadKeyFile(dir);
    } catch (error) {
      expect((error as Error).message).not.toContain('SECRETISH');
    }
    writeFileSync(path, '\n');
    expect(() => loadOrCreatePayloadKeyFile(dir)).toThrow(/empty/);
  });
});
