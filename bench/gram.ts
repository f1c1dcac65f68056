/**
 * Gram/NTK benchmark: the empirical NTK of a two-layer network of width 4096
 * (`mlp:100-4096-1:init=ntk`, ReLU, seed 0, float64) on 1,000 points uniform on the unit sphere in
 * 100 dimensions, dltheory against PyTorch per-sample gradients in one run.
 *
 * - dltheory: `empiricalGram` (src/measures/gram.ts): one forward pass, one backward pass, and per
 *   layer (X Xᵀ) ∘ (Δ Δᵀ) plus the bias term; one warm-up on a tenth of the points, then `reps`
 *   timed runs; the figure is the median.
 * - PyTorch: bench/gram_torch.py under /usr/bin/python3 (Debian python3-torch 1.13, whose functorch
 *   gives vmap(jacrev)) on the same weights (safetensors) and points (.npy): the [n, parameters]
 *   Jacobian of every layer, then J Jᵀ, float64, `torch.set_num_threads` = dltheory's
 *   `getNumThreads()`; one warm-up on 100 points, then one timed run (a run takes about a minute on
 *   2 cores, the J Jᵀ of 418,000 parameters).
 * - check: the largest difference over the layers' Grams and the NTK, relative to each matrix's
 *   largest entry (target ≤ 1e-6); the time ratio target is ≥ 3.
 *
 * node -e "import('./dist/bench/gram.js').then(async m => console.log(m.formatGramBench(await m.runGramBench())))"
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, runPython } from './python.js';
import { manualSeed, randn } from '../src/engine/creation.js';
import { dispose, scope } from '../src/engine/memory.js';
import { getNumThreads } from '../src/engine/runtime.js';
import { readNpy, writeNpy } from '../src/data/npy.js';
import { buildModel } from '../src/nn/models/spec.js';
import { saveModel, toRaw } from '../src/nn/serialize.js';
import { empiricalGram, type GramResult } from '../src/measures/gram.js';

export interface GramBenchReport {
  n: number;
  dims: number;
  width: number;
  spec: string;
  threads: number;
  reps: number;
  cpuModel: string;
  dltheorySeconds: number;
  torchSeconds: number | null;
  /** torch seconds / dltheory seconds: > 1 means dltheory is faster. */
  ratio: number | null;
  /** max |ours − torch| / max |torch| over the layers' Grams and the NTK. */
  maxRelativeDifference: number | null;
  torchVersion: string | null;
  note?: string;
}

interface TorchOut {
  torchVersion: string;
  medianSeconds: number;
}

/** max |a − b| / max |b|. */
function relativeDifference(a: Float64Array, b: Float64Array): number {
  let [worst, scale] = [0, 0];
  b.forEach((v, i) => {
    worst = Math.max(worst, Math.abs(a[i] - v));
    scale = Math.max(scale, Math.abs(v));
  });
  return worst / scale;
}

/** Times both sides on the same weights and points; see the module comment. */
export async function runGramBench(opts: { n?: number; dims?: number; width?: number; reps?: number } = {}): Promise<GramBenchReport> {
  const { n = 1000, dims = 100, width = 4096, reps = 3 } = opts;
  const spec = `mlp:${dims}-${width}-1:init=ntk`;
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-gram-bench-'));
  manualSeed(0);
  const model = buildModel(spec).double();
  const x = scope(() => {
    const g = randn([n, dims], 'float64');
    return g.div(g.norm(2, 1, true));
  });
  try {
    saveModel(model, join(dir, 'model.safetensors'));
    writeNpy(join(dir, 'x.npy'), toRaw(x));
    dispose(scope(() => empiricalGram(model, x.narrow(0, 0, Math.ceil(n / 10)))));
    const times: number[] = [];
    let ours: GramResult | undefined;
    for (let r = 0; r < reps; r++) {
      dispose(ours);
      const t0 = performance.now();
      ours = empiricalGram(model, x);
      times.push((performance.now() - t0) / 1000);
    }
    const torch = await runPython<TorchOut>('gram_torch.py', ['--model', join(dir, 'model.safetensors'), '--input', join(dir, 'x.npy'), '--threads',
      String(getNumThreads()), '--reps', '1', '--out', join(dir, 'grams.npy')], 'python3-torch');
    const t = 'medianSeconds' in torch ? torch : null;
    let diff: number | null = null;
    if (t && ours) {
      const theirs = readNpy(join(dir, 'grams.npy')).data as Float64Array;
      diff = Math.max(
        ...[...ours.layers.map((l) => l.gram), ours.ntk].map((g, l) =>
          relativeDifference(g.toArray() as Float64Array, theirs.subarray(l * n * n, (l + 1) * n * n))
        ),
      );
    }
    dispose(ours);
    const seconds = median(times);
    return {
      n,
      dims,
      width,
      spec,
      threads: getNumThreads(),
      reps,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      dltheorySeconds: seconds,
      torchSeconds: t?.medianSeconds ?? null,
      ratio: t ? t.medianSeconds / seconds : null,
      maxRelativeDifference: diff,
      torchVersion: t?.torchVersion ?? null,
      ...(t ? {} : { note: (torch as { error: string }).error }),
    };
  } finally {
    model.dispose();
    x.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A few lines of text for the report. */
export function formatGramBench(r: GramBenchReport): string {
  const s = (v: number | null) => (v === null ? '—' : `${v.toFixed(2)} s`);
  return [
    `empirical NTK of ${r.spec} (float64) on ${r.n} points, ${r.threads} thread(s), ${r.cpuModel}; dltheory median of ${r.reps} runs, PyTorch one run`,
    `dltheory  ${s(r.dltheorySeconds)}  (X Xᵀ ∘ Δ Δᵀ per layer)`,
    `PyTorch   ${s(r.torchSeconds)}  (functorch vmap(jacrev) per-sample Jacobians, J Jᵀ)${r.torchVersion ? ` (torch ${r.torchVersion})` : ''}`,
    `PyTorch/dltheory time ${r.ratio === null ? '—' : `${r.ratio.toFixed(1)}×`} (target ≥ 3×); largest difference ${
      r.maxRelativeDifference === null ? '—' : r.maxRelativeDifference.toExponential(1)
    } relative (target ≤ 1e-6)`,
    ...(r.note ? [`Note: ${r.note}`] : []),
  ].join('\n');
}
