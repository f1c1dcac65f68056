/**
 * Shape autoencoder training benchmark: voxels per second of Adam steps of the 3-D convolutional
 * autoencoder (src/nn/models/shape-ae.ts; docs/papers.md §6) on synthetic shapes, dltheory against
 * PyTorch with the same architecture (bench/shape_ae_torch.py), in one run.
 *
 * Both sides start from the same weights (a safetensors file) on the same batch (an .npy file), take
 * one untimed warm-up step and then `steps` timed ones (forward, soft Dice loss, backward, Adam lr
 * 1e-3) with the same number of intra-op threads; the figure is the median step. Their losses must
 * agree step by step (to 1e-3 absolute: float32 sums in different orders), as a check that the two
 * sides do the same work. Voxels per second = batch · size³ / median step seconds.
 *
 * node -e "import('./dist/bench/shape-ae.js').then(async m => console.log(m.formatShapeAeBench(await m.runShapeAeBench())))"
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, runPython } from './python.js';
import { manualSeed } from '../src/engine/creation.js';
import { getNumThreads } from '../src/engine/runtime.js';
import { generateShapes, shapeBatch } from '../src/data/shapes.js';
import { writeNpy } from '../src/data/npy.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { toRaw } from '../src/nn/serialize.js';
import { ShapeAutoencoder } from '../src/nn/models/shape-ae.js';
import { Adam } from '../src/nn/optim/adam.js';
import { autoencoderStep } from '../src/train/shapes.js';

export interface ShapeAeBenchOptions {
  size?: number;
  width?: number;
  latent?: number;
  batch?: number;
  steps?: number;
  seed?: number;
}

export interface ShapeAeBenchReport extends Required<ShapeAeBenchOptions> {
  threads: number;
  cpuModel: string;
  dltheoryStepSeconds: number;
  torchStepSeconds: number | null;
  dltheoryVoxelsPerSecond: number;
  torchVoxelsPerSecond: number | null;
  /** torch step seconds / dltheory step seconds: > 1 means dltheory is faster. */
  ratio: number | null;
  /** Largest |loss difference| over the steps. */
  lossDifference: number | null;
  torchVersion: string | null;
  note?: string;
}

interface TorchOut {
  stepSeconds: number[];
  losses: number[];
  torchVersion: string;
}

/** Times both sides from the same weights on the same shapes; see the module comment. */
export async function runShapeAeBench(opts: ShapeAeBenchOptions = {}): Promise<ShapeAeBenchReport> {
  const { size = 32, width = 16, latent = 64, batch = 4, steps = 5, seed = 0 } = opts;
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-shape-ae-bench-'));
  manualSeed(seed);
  const model = new ShapeAutoencoder({ size, latent, width });
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const x = shapeBatch(generateShapes({ seed, subjects: Math.ceil(batch / 4), scans: 1, size }).slice(0, batch));
  try {
    writeSafetensors(join(dir, 'ae.safetensors'), Object.fromEntries([...model.stateDict()].map(([k, v]) => [k, toRaw(v)])), { 'dltheory.model': 'shape-ae' });
    writeNpy(join(dir, 'x.npy'), toRaw(x));
    const threads = getNumThreads();
    const losses: number[] = [];
    const times: number[] = [];
    for (let step = 0; step <= steps; step++) {
      const t0 = performance.now();
      losses.push(autoencoderStep(model, opt, x));
      if (step > 0) times.push((performance.now() - t0) / 1000);
    }
    const torch = await runPython<TorchOut>('shape_ae_torch.py', ['--model', join(dir, 'ae.safetensors'), '--input', join(dir, 'x.npy'), '--steps',
      String(steps), '--threads', String(threads)], 'python3-torch');
    const ref = 'stepSeconds' in torch ? torch : null;
    const ours = median(times);
    const theirs = ref ? median(ref.stepSeconds) : null;
    const voxels = batch * size ** 3;
    return {
      size,
      width,
      latent,
      batch,
      steps,
      seed,
      threads,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      dltheoryStepSeconds: ours,
      torchStepSeconds: theirs,
      dltheoryVoxelsPerSecond: voxels / ours,
      torchVoxelsPerSecond: theirs === null ? null : voxels / theirs,
      ratio: theirs === null ? null : theirs / ours,
      lossDifference: ref ? Math.max(...ref.losses.map((l, i) => Math.abs(l - losses[i]))) : null,
      torchVersion: ref?.torchVersion ?? null,
      ...(ref ? {} : { note: (torch as { error: string }).error }),
    };
  } finally {
    opt.dispose();
    model.dispose();
    x.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A few lines of text for the report. */
export function formatShapeAeBench(r: ShapeAeBenchReport): string {
  const rate = (v: number | null) => (v === null ? '—' : `${(v / 1e3).toFixed(1)} k voxels/s`);
  const ms = (v: number | null) => (v === null ? '—' : `${(v * 1e3).toFixed(0)} ms`);
  return [
    `shape autoencoder ${r.size}³, width ${r.width}, latent ${r.latent}, batch ${r.batch}: Adam step, median of ${r.steps}; ${r.threads} thread(s), ${r.cpuModel}`,
    `dltheory  ${ms(r.dltheoryStepSeconds)}  ${rate(r.dltheoryVoxelsPerSecond)}`,
    `PyTorch   ${ms(r.torchStepSeconds)}  ${rate(r.torchVoxelsPerSecond)}${r.torchVersion ? ` (torch ${r.torchVersion})` : ''}`,
    `PyTorch/dltheory time ${r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`} (> 1: dltheory faster); losses agree to 1e-3: ${
      r.lossDifference === null ? '—' : r.lossDifference <= 1e-3 ? 'yes' : `NO (${r.lossDifference.toExponential(1)})`
    }`,
    ...(r.note ? [`Note: ${r.note}`] : []),
  ].join('\n');
}
