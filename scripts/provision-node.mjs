// Provisions a supported Node LTS (24 or 26) for CI and the Node scripts, and prints its bin
// directory, so that `PATH="$(node scripts/provision-node.mjs):$PATH" npm test` runs the suite on
// it. Kept dependency-free on purpose: it runs before anything is installed, on any Node >= 20.
//
// Node ships its official Linux release binaries (bin/node and the headers in include/node, which
// node-gyp needs to build better-sqlite3 for it) as the npm package node-<platform>-<arch>. The
// tarball is fetched with `npm pack`, checked against the sha512 pinned below, unpacked and cached
// in ~/.cache/herald/ (or under $XDG_CACHE_HOME), so every clone reuses it.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// The LTS lines Herald supports, each pinned to one release and its tarballs' sha512
// (`npm view node-<platform>-<arch>@<version> dist.integrity`; the registry serves these).
// `node scripts/provision-node.mjs [24|26]` provisions one (24 when none is named).
const RELEASES = {
  24: {
    version: '24.22.3',
    integrity: {
      'linux-x64': 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
      'linux-arm64': 'sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==',
    },
  },
  26: {
    version: '26.12.1',
    integrity: {
      'linux-x64': 'sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A==',
      'linux-arm64': 'sha512-8Oxs6Y7rDcKufVIM/zYRSwytj46WOrZk7yFCLTKDcs17bBjAeD9HMAqo97hMfMyxozIud0S4vZCs5WB/3iavNQ==',
    },
  },
};

const major = process.argv[2] ?? '24';
const release = RELEASES[major];
if (!release) {
  console.error(`[herald] usage: node scripts/provision-node.mjs [${Object.keys(RELEASES).join('|')}]`);
  process.exit(2);
}
const NODE_LTS_VERSION = release.version;
const INTEGRITY = release.integrity;

function fail(message) {
  console.error(`[herald] ${message}`);
  process.exit(1);
}

class ProvisioningError extends Error {}

function reportsVersion(nodeBinary) {
  const run = spawnSync(nodeBinary, ['--version'], { encoding: 'utf8' });
  return run.status === 0 && run.stdout.trim() === `v${NODE_LTS_VERSION}`;
}

const platform = `${process.platform}-${process.arch}`;
const integrity = INTEGRITY[platform];
if (!integrity) fail(`no pinned Node ${NODE_LTS_VERSION} package for ${platform}; install Node ${major} yourself and put it first on PATH`);

const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'herald');
const home = join(cache, `node-v${NODE_LTS_VERSION}-${platform}`);
const bin = join(home, 'bin');

if (!reportsVersion(join(bin, 'node'))) {
  mkdirSync(cache, { recursive: true });
  // Unpacked next to its final place and renamed into it, so an interrupted run leaves nothing
  // half-written behind.
  const staging = mkdtempSync(join(cache, `.node-v${NODE_LTS_VERSION}-`));
  try {
    console.error(`[herald] provisioning Node ${NODE_LTS_VERSION} from the npm package node-${platform} ...`);
    const pack = spawnSync('npm', ['pack', '--silent', '--pack-destination', staging, `node-${platform}@${NODE_LTS_VERSION}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const tarball = pack.stdout?.trim().split('\n').pop();
    if (pack.status !== 0 || !tarball) throw new ProvisioningError(`npm pack node-${platform}@${NODE_LTS_VERSION} failed`);
    const digest = `sha512-${createHash('sha512')
      .update(readFileSync(join(staging, tarball)))
      .digest('base64')}`;
    if (digest !== integrity) throw new ProvisioningError(`node-${platform}@${NODE_LTS_VERSION}: sha512 mismatch (got ${digest})`);
    const untar = spawnSync('tar', ['-xzf', join(staging, tarball), '-C', staging], { stdio: 'inherit' });
    if (untar.status !== 0) throw new ProvisioningError(`could not unpack ${tarball}`);
    chmodSync(join(staging, 'package', 'bin', 'node'), 0o755);
    if (!reportsVersion(join(staging, 'package', 'bin', 'node'))) throw new ProvisioningError(`the unpacked node does not report v${NODE_LTS_VERSION}`);
    rmSync(home, { recursive: true, force: true });
    renameSync(join(staging, 'package'), home);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (error instanceof ProvisioningError) fail(error.message);
    throw error;
  }
  rmSync(staging, { recursive: true, force: true });
  if (!existsSync(join(home, 'include', 'node', 'node.h'))) fail(`node-${platform}@${NODE_LTS_VERSION} carries no headers`);
  console.error(`[herald] Node ${NODE_LTS_VERSION} ready in ${home}`);
}

console.log(bin);
