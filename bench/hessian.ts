/**
 * Hessian benchmark: one Hessian-vector product H v of the mean cross-entropy of the small CNN
 * `cnn:1x28x28-10` (421,642 parameters, seed 0, float32) on 256 MNIST-shaped points (uniform pixels in
 * [0, 1), labels uniform in 0…9, v standard normal; all seeded), over every parameter, dltheory against
 * PyTorch's double backward in one run.
 *
 * - dltheory: `hessianVectorProduct` (src/measures/hessian.ts), input checks included: a forward pass,
 *   a gradient with its graph recorded, and the backward of ⟨gradient, v⟩;
 * - PyTorch: bench/hessian_torch.py serve under /usr/bin/python3 (Debian python3-torch) on the same
 *   weights (safetensors), points and v (.npy): torch.autograd.grad with create_graph=True, then
 *   torch.autograd.grad of the gradient with grad_outputs v, in eval mode, a resident process.
 * Both sides run with `getNumThreads()` intra-op threads, warm up, then alternate `reps` times: one
 * product of dltheory's, timed, then one of PyTorch's, so that each pair sees the same machine load.
 * The times are each side's median; the ratio is the median over the pairs of PyTorch's time over
 * dltheory's (> 1: dltheory faster). Check: the largest difference of the two H v relative to the
 * largest entry (float32 sums in other orders: target ≤ 1e-4).
 *
 * node -e "import('./dist/bench/hessian.js').then(async m => console.log(m.formatHessianBench(await m.runHessianBench())))"
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, startPython } from './python.js';
import { manualSeed, rand, randint, randn } from '../src/engine/creation.js';
import { scope } from '../src/engine/memory.js';
import { getNumThreads } from '../src/engine/runtime.js';
import { readNpy, writeNpy } from '../src/data/npy.js';
import { buildModel } from '../src/nn/models/spec.js';
import { saveModel, toRaw } from '../src/nn/serialize.js';
import { hessianVectorProduct } from '../src/measures/hessian.js';

export interface HessianBenchReport {
  spec: string;
  parameters: number;
  n: number;
  threads: number;
  /** Pairs of products. */
  reps: number;
  cpuModel: string;
  dltheoryMs: number;
  torchMs: number | null;
  /** Median over the pairs of torch's time / dltheory's: > 1 means dltheory is faster. */
  ratio: number | null;
  /** max |ours − torch| / max |torch| over the entries of H v. */
  maxRelativeDifference: number | null;
  torchVersion: string | null;
  note?: string;
}

interface TorchPass {
  torchVersion: string;
  ms: number[];
}

/** Times both sides on the same model, points and vector; see the module comment. */
export async function runHessianBench(opts: { n?: number; reps?: number } = {}): Promise<HessianBenchReport> {
  const { n = 256, reps = 10 } = opts;
  const spec = 'cnn:1x28x28-10';
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-hessian-bench-'));
  const threads = getNumThreads();
  manualSeed(0);
  using model = buildModel(spec);
  using x = rand([n, 1, 28, 28]);
  using y = randint(0, 10, [n]);
  using v = randn([model.numParameters()], 'float64');
  saveModel(model, join(dir, 'model.safetensors'));
  for (const [name, t] of [['x', x], ['y', y], ['v', v]] as const) writeNpy(join(dir, `${name}.npy`), toRaw(t));
  const paths = ['--model', join(dir, 'model.safetensors'), '--input', join(dir, 'x.npy'), '--labels', join(dir, 'y.npy')];
  const torch = startPython<TorchPass>('hessian_torch.py', ['serve', ...paths, '--vector', join(dir, 'v.npy'), '--threads', String(threads), '--out',
    join(dir, 'hv.npy')], 'python3-torch');
  try {
    const product = (): Float32Array | Float64Array => scope(() => hessianVectorProduct(model, x, y, v).toArray() as Float64Array);
    const ours = product();
    const [mine, ratios, theirs]: number[][] = [[], [], []];
    let last: TorchPass | undefined;
    let note = 'error' in torch ? torch.error : undefined;
    if (!('error' in torch)) await torch.ready().catch((e: Error) => (note = e.message));
    for (let r = 0; r < reps; r++) {
      const s = performance.now();
      product();
      mine.push(performance.now() - s);
      if (note || 'error' in torch) continue;
      try {
        last = await torch.pass();
        theirs.push(...last.ms);
        ratios.push(median(last.ms) / mine[mine.length - 1]);
      } catch (e) {
        note = (e as Error).message;
      }
    }
    const ok = last !== undefined && !note;
    let diff: number | null = null;
    if (ok) {
      const ref = readNpy(join(dir, 'hv.npy')).data as Float64Array;
      let [worst, scale] = [0, 0];
      ref.forEach((r, i) => {
        worst = Math.max(worst, Math.abs(ours[i] - r));
        scale = Math.max(scale, Math.abs(r));
      });
      diff = worst / scale;
    }
    return {
      spec,
      parameters: model.numParameters(),
      n,
      threads,
      reps,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      dltheoryMs: median(mine),
      torchMs: ok ? median(theirs) : null,
      ratio: ok ? median(ratios) : null,
      maxRelativeDifference: diff,
      torchVersion: ok ? last!.torchVersion : null,
      ...(note ? { note } : {}),
    };
  } finally {
    if (!('error' in torch)) torch.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A few lines of text for the report. */
export function formatHessianBench(r: HessianBenchReport): string {
  const ms = (v: number | null) => (v === null ? '—' : `${v.toFixed(0)} ms`);
  return [
    `one Hessian-vector product of ${r.spec} (${r.parameters} parameters, float32) on ${r.n} points, every parameter; median of ${r.reps} alternating pairs; ${r.threads} thread(s), ${r.cpuModel}`,
    `dltheory  ${ms(r.dltheoryMs)}  (hessianVectorProduct, input checks included)`,
    `PyTorch   ${ms(r.torchMs)}  (autograd.grad with create_graph, then grad with grad_outputs v)${r.torchVersion ? ` (torch ${r.torchVersion})` : ''}`,
    `PyTorch/dltheory time (median of the pairs) ${r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`} (> 1: dltheory faster); largest difference of H v ${
      r.maxRelativeDifference === null ? '—' : r.maxRelativeDifference.toExponential(1)
    } relative (target ≤ 1e-4)`,
    ...(r.note ? [`Note: ${r.note}`] : []),
  ].join('\n');
}
