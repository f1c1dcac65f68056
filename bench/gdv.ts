/**
 * GDV benchmark: the generalised discrimination value of 10,000 × 512 float64 points in 10 classes
 * (a seeded Gaussian mixture), dltheory against numpy in one run, and against the matmul floor.
 *
 * - dltheory: `gdv(x, y)` (src/measures/gdv.ts) on the float64 points, one warm-up run on a tenth
 *   of them, then `reps` timed runs; the figure is the median.
 * - numpy: bench/gdv_numpy.py under /usr/bin/python3 (Debian python3-numpy) does the same
 *   computation (blocked Gram identity, each unordered pair once) on the same points written as
 *   .npy, in this process's environment (same OpenBLAS settings); same warm-up and reps.
 * - floor: the N²·D multiply-adds of the full Gram matrix at the engine's float64 matmul rate,
 *   measured here on a 2048 × 2048 product (median of 5 after a warm-up). Using symmetry the
 *   measure needs only N(N−1)/2·D, so its time can beat the N²·D floor; both fractions are given.
 * - check: the two sides' GDVs agree to 1e-9.
 *
 * node -e "import('./dist/bench/gdv.js').then(async m => console.log(m.formatGdvBench(await m.runGdvBench())))"
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, runPython } from './python.js';
import { manualSeed, randn } from '../src/engine/creation.js';
import { scope } from '../src/engine/memory.js';
import { getNumThreads } from '../src/engine/runtime.js';
import { gaussianMixture } from '../src/data/synthetic.js';
import { disposeDataset } from '../src/data/dataset.js';
import { writeNpy } from '../src/data/npy.js';
import { gdv } from '../src/measures/gdv.js';

export interface GdvBenchReport {
  n: number;
  dims: number;
  classes: number;
  threads: number;
  reps: number;
  cpuModel: string;
  gdv: number;
  dltheorySeconds: number;
  numpySeconds: number | null;
  /** numpy seconds / dltheory seconds: > 1 means dltheory is faster. */
  ratio: number | null;
  numpyGdv: number | null;
  /** |dltheory GDV − numpy GDV| ≤ 1e-9. */
  agree: boolean | null;
  matmulGflops: number;
  /** N²·D multiply-adds at the measured matmul rate. */
  floorSeconds: number;
  /** floorSeconds / dltheorySeconds. */
  fractionOfFloor: number;
  /** The same against the N(N−1)/2·D multiply-adds the symmetric computation needs. */
  fractionOfSymmetricFloor: number;
  numpyVersion: string | null;
  note?: string;
}

interface NumpyOut {
  numpyVersion: string;
  medianSeconds: number;
  gdv: number;
}

const runNumpy = (args: string[]) => runPython<NumpyOut>('gdv_numpy.py', args, 'python3-numpy');

function timed(f: () => void): number {
  const t0 = performance.now();
  f();
  return (performance.now() - t0) / 1000;
}

/** Float64 GFLOP/s (2n³ per product) of a 2048 × 2048 matmul in the engine. */
export function matmulGflops(size = 2048, reps = 5): number {
  manualSeed(0);
  return scope(() => {
    const [a, b] = [randn([size, size], 'float64'), randn([size, size], 'float64')];
    scope(() => a.matmul(b));
    const times = Array.from({ length: reps }, () => timed(() => scope(() => a.matmul(b).sum().item())));
    return (2 * size ** 3) / median(times) / 1e9;
  });
}

/** Times both sides on the same points; see the module comment. */
export async function runGdvBench(opts: { n?: number; dims?: number; classes?: number; reps?: number; seed?: number } = {}): Promise<GdvBenchReport> {
  const { n = 10_000, dims = 512, classes = 10, reps = 3, seed = 0 } = opts;
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-gdv-bench-'));
  const ds = gaussianMixture({ n, dim: dims, classes, separation: 3, seed });
  const x = ds.x.double();
  const y = ds.y.toNumbers();
  try {
    writeNpy(join(dir, 'x.npy'), { dtype: 'float64', shape: [n, dims], data: x.toArray() });
    writeNpy(join(dir, 'y.npy'), { dtype: 'int64', shape: [n], data: BigInt64Array.from(y, BigInt) });
    scope(() => gdv(x.narrow(0, 0, Math.floor(n / 10)), y.slice(0, Math.floor(n / 10))));
    let ours = NaN;
    const times = Array.from({ length: reps }, () => timed(() => (ours = gdv(x, y).gdv)));
    const numpy = await runNumpy(['--input', join(dir, 'x.npy'), '--labels', join(dir, 'y.npy'), '--reps', String(reps)]);
    const np = 'medianSeconds' in numpy ? numpy : null;
    const gflops = matmulGflops();
    const seconds = median(times);
    const floor = (n * n * dims * 2) / (gflops * 1e9);
    return {
      n,
      dims,
      classes,
      threads: getNumThreads(),
      reps,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      gdv: ours,
      dltheorySeconds: seconds,
      numpySeconds: np?.medianSeconds ?? null,
      ratio: np ? np.medianSeconds / seconds : null,
      numpyGdv: np?.gdv ?? null,
      agree: np ? Math.abs(np.gdv - ours) <= 1e-9 : null,
      matmulGflops: gflops,
      floorSeconds: floor,
      fractionOfFloor: floor / seconds,
      fractionOfSymmetricFloor: (floor * (n - 1)) / (2 * n) / seconds,
      numpyVersion: np?.numpyVersion ?? null,
      ...(np ? {} : { note: (numpy as { error: string }).error }),
    };
  } finally {
    x.dispose();
    disposeDataset(ds);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A few lines of text for the report. */
export function formatGdvBench(r: GdvBenchReport): string {
  const s = (v: number | null) => (v === null ? '—' : `${v.toFixed(2)} s`);
  return [
    `GDV of ${r.n} × ${r.dims} float64 points in ${r.classes} classes, ${r.threads} thread(s), ${r.cpuModel}; median of ${r.reps} runs`,
    `dltheory  ${s(r.dltheorySeconds)}  GDV ${r.gdv.toFixed(6)}`,
    `numpy     ${s(r.numpySeconds)}  GDV ${r.numpyGdv === null ? '—' : r.numpyGdv.toFixed(6)}${r.numpyVersion ? ` (numpy ${r.numpyVersion})` : ''}`,
    `numpy/dltheory time ${r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`} (> 1: dltheory faster); GDVs agree to 1e-9: ${
      r.agree === null ? '—' : r.agree ? 'yes' : 'NO'
    }`,
    `floor: N²·D multiply-adds at ${r.matmulGflops.toFixed(1)} GFLOP/s (2048² float64 matmul) = ${s(r.floorSeconds)}; ` +
    `achieved ${(100 * r.fractionOfFloor).toFixed(0)}% of it (${
      (100 * r.fractionOfSymmetricFloor).toFixed(0)
    }% of the N(N−1)/2·D the symmetric computation needs)`,
    ...(r.note ? [`Note: ${r.note}`] : []),
  ].join('\n');
}
