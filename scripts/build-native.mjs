#!/usr/bin/env node
// Builds the native addon (build/Release/stagewise.node) with node-gyp from binding.gyp, against
// the running Node's own headers when they are installed, so that no header download happens.
// No CUDA library is linked: the addon opens libcuda and NVRTC with dlopen at run time.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function nodeGyp() {
  const local = path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(local)) return local;
  // Installed as a dependency there are no devDependencies: npm hands its own node-gyp to install
  // scripts in npm_config_node_gyp (its node may not be this one, e.g. a Node from a tarball).
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  // npm ships its own node-gyp beside its cli: <prefix>/lib/node_modules/npm/node_modules/node-gyp
  const npmBundled = path.resolve(process.execPath, '../../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
  if (existsSync(npmBundled)) return npmBundled;
  return null;
}

const gyp = nodeGyp();
if (!gyp) {
  console.error('stagewise: cannot build the native addon: node-gyp not found (install devDependencies, or use an npm that bundles node-gyp)');
  process.exit(1);
}

const args = [gyp, 'rebuild'];
const prefix = path.resolve(process.execPath, '../..');
if (existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
if (process.env.STAGEWISE_DEBUG_BUILD === '1') args.push('--debug');

const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.error(
    [
      '',
      'stagewise: building the native addon failed (see the compiler output above).',
      'It needs python3, make and a C++17 compiler (g++ or clang++), and Node headers: either',
      `${prefix}/include/node (the running Node's own) or a node-gyp download of them.`,
      'No CUDA toolkit is needed to build.',
    ].join('\n'),
  );
  process.exit(result.status ?? 1);
}
