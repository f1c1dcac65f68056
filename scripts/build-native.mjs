// Configures and builds the libtorch addon with CMake into build/native/, then copies it to
// build/dltheory.node. Nothing is downloaded: Node's headers come with Node, node-addon-api from npm.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const nodeInclude = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node'].find((d) => existsSync(join(d, 'node_api.h')));
if (!nodeInclude) {
  console.error('build-native: cannot find node_api.h next to the node binary or in /usr/include/node');
  process.exit(1);
}
const addonApi = require('node-addon-api').include_dir.replace(/^"|"$/g, '');
const out = join(root, 'build', 'native');
mkdirSync(out, { recursive: true });
const run = (args) => execFileSync('cmake', args, { stdio: 'inherit', cwd: root });
try {
  run(['-S', join(root, 'native'), '-B', out, '-DCMAKE_BUILD_TYPE=Release', `-DNODE_INCLUDE_DIR=${nodeInclude}`,
    `-DNODE_ADDON_API_DIR=${resolve(root, addonApi)}`]);
  run(['--build', out, '--parallel', String(cpus().length)]);
} catch {
  console.error('build-native: the addon did not build. It needs cmake, g++ and libtorch: on Debian/Ubuntu ' +
    '`apt-get install libtorch-dev libopenblas0-pthread`, or set LIBTORCH to an official libtorch folder.');
  process.exit(1);
}
// Copy, then rename over the old file: a process that has the old addon loaded keeps its inode.
const tmp = join(root, 'build', `dltheory.node.${process.pid}.tmp`);
copyFileSync(join(out, 'dltheory.node'), tmp);
renameSync(tmp, join(root, 'build', 'dltheory.node'));
