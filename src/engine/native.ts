/**
 * Loads the libtorch addon (build/dltheory.node) once and sets the process-wide options:
 * intra-op threads (DLTHEORY_THREADS, else every core: the Debian libtorch starts with one) and the
 * default device (DLTHEORY_DEVICE, e.g. `cuda`; `cpu` by default).
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeApi } from './native-api.js';

function packageRoot(): string {
  // dist/src/engine/native.js → three levels up; src/engine/native.ts (ts-node style) → two.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    dir = dirname(dir);
    try {
      createRequire(join(dir, 'package.json')).resolve(join(dir, 'build', 'dltheory.node'));
      return dir;
    } catch {
      /* keep climbing */
    }
  }
  throw new Error('dltheory: build/dltheory.node not found; run `npm run build` (needs libtorch-dev)');
}

/** The environment as the process started, before dltheory set anything (for child processes). */
export const launchEnvironment: Readonly<NodeJS.ProcessEnv> = Object.freeze({ ...process.env });

function load(): NativeApi {
  // libtorch's OpenMP threads otherwise spin-wait after every parallel region, and on a few cores
  // they take the CPU from OpenBLAS's own threads and from the next op: measured on 2 cores, a tiny
  // MLP step is 8× slower (1.2 ms vs 0.14 ms) and a 784-1024-1024-10 step 3× slower. libgomp reads
  // this once, when the addon loads it, so it must be set before the require below; a value the
  // user set wins.
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  // OpenBLAS (Debian's pthreads build) does the matrix products on threads of its own, which after
  // each GEMM spin calling sched_yield for 2^28 cycles (~0.1 s) and so compete with the OpenMP
  // threads running the next ops: measured on 2 cores, the small CNN's training step (batch 128)
  // spent ~38 ms of system time per step in them, ~1 ms with this. 2^4 cycles: they sleep at once
  // and the next GEMM wakes them. Read once, when the library loads; a value the user set wins.
  process.env.OPENBLAS_THREAD_TIMEOUT ??= '4';
  const root = packageRoot();
  const addon = createRequire(join(root, 'package.json'))(join(root, 'build', 'dltheory.node')) as NativeApi;
  const threads = Number(process.env.DLTHEORY_THREADS ?? availableParallelism());
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`DLTHEORY_THREADS must be a positive integer, got '${process.env.DLTHEORY_THREADS}'`);
  addon.setNumThreads(threads);
  if (process.env.DLTHEORY_DEVICE) addon.setDefaultDevice(process.env.DLTHEORY_DEVICE);
  return addon;
}

/** The addon's bindings (see native-api.ts; test/native.test.ts checks the names against the addon's exports). */
export const N: NativeApi = load();
