/**
 * Margins benchmark: margin distributions per second, dltheory against PyTorch in one run.
 *
 * The work: all 10,000 MNIST digits of the `mnist` package (its 8,000 training + 2,000 test points),
 * the small CNN `cnn:1x28x28-10` (w = 32, untrained, seed 0), four probe points (input, conv1,
 * conv2, fc1), float32, batch 256: per batch one forward pass and one backward pass to all four
 * probes, plus the streaming total variations, then the signatures (src/measures/margins.ts).
 * bench/margins_torch.py runs the same algorithm on the same weights and inputs under
 * /usr/bin/python3 (Debian python3-torch) with `torch.set_num_threads` = dltheory's
 * `getNumThreads()`, in this process's environment (so the same OpenMP/OpenBLAS settings on both
 * sides). Each side makes one warm-up batch, then the two sides take turns: `reps` pairs of timed
 * passes over all points, dltheory's then PyTorch's, so each pair runs under the same machine load
 * (startPython in bench/python.ts). The times are each side's median pass; the ratio is the median
 * of the pairs' ratios. The two sides' signatures are compared as a check that they did the same work.
 *
 * node -e "import('./dist/bench/margins.js').then(async m => console.log(m.formatMarginsBench(await m.runMarginsBench())))"
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, startPython } from './python.js';
import { manualSeed } from '../src/engine/creation.js';
import { cat } from '../src/engine/ops.js';
import { getNumThreads } from '../src/engine/runtime.js';
import { loadMnist } from '../src/data/sources.js';
import { disposeDataset } from '../src/data/dataset.js';
import { writeNpy } from '../src/data/npy.js';
import { buildModel } from '../src/nn/models/spec.js';
import { saveModel, toRaw } from '../src/nn/serialize.js';
import { marginDistribution, type MarginResult } from '../src/measures/margins.js';

const SPEC = 'cnn:1x28x28-10';
const PROBES = ['input', 'conv1', 'conv2', 'fc1'];

export interface MarginsBenchReport {
  points: number;
  spec: string;
  probes: string[];
  batch: number;
  threads: number;
  reps: number;
  cpuModel: string;
  dltheorySeconds: number;
  dltheoryPointsPerSecond: number;
  torchSeconds: number | null;
  torchPointsPerSecond: number | null;
  /** Median over the pairs of torch seconds / dltheory seconds: > 1 means dltheory is faster. */
  ratio: number | null;
  /** Largest relative difference between the two sides' signature numbers (float32 work). */
  signatureRelDiff: number | null;
  torchVersion: string | null;
  /** Why the PyTorch side is missing, when it is. */
  note?: string;
}

interface TorchPass {
  torchVersion: string;
  seconds: number;
  probes: { name: string; signature: Record<string, number> }[];
}

/** Times both sides on the same 10,000 points and weights; see the module comment. */
export async function runMarginsBench(opts: { batch?: number; reps?: number } = {}): Promise<MarginsBenchReport> {
  const batch = opts.batch ?? 256;
  const reps = opts.reps ?? 5;
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-margins-bench-'));
  const { train, test } = loadMnist();
  const x = cat([train.x, test.x]);
  const y = cat([train.y, test.y]);
  disposeDataset(train);
  disposeDataset(test);
  manualSeed(0);
  const model = buildModel(SPEC).eval();
  try {
    saveModel(model, join(dir, 'model.safetensors'));
    writeNpy(join(dir, 'x.npy'), toRaw(x));
    writeNpy(join(dir, 'y.npy'), toRaw(y));
    const n = x.size(0);
    const threads = getNumThreads();
    const torch = startPython<TorchPass>('margins_torch.py', [
      '--model',
      join(dir, 'model.safetensors'),
      '--input',
      join(dir, 'x.npy'),
      '--labels',
      join(dir, 'y.npy'),
      '--threads',
      String(threads),
      '--batch',
      String(batch),
      '--probes',
      PROBES.join(','),
    ], 'python3-torch');
    const [mine, theirs]: number[][] = [[], []];
    let ours: MarginResult | undefined;
    let last: TorchPass | undefined;
    let note: string | undefined = 'error' in torch ? torch.error : undefined;
    try {
      marginDistribution(model, x, y, { probes: PROBES, batchSize: batch, limit: batch });
      // PyTorch's start-up (import, data, warm-up) must not overlap a timed pass of ours.
      if (!('error' in torch)) await torch.ready().catch((e: Error) => (note = e.message));
      for (let r = 0; r < reps; r++) {
        const t0 = performance.now();
        ours = marginDistribution(model, x, y, { probes: PROBES, batchSize: batch });
        mine.push((performance.now() - t0) / 1000);
        if ('error' in torch || note) continue;
        try {
          last = await torch.pass();
          theirs.push(last.seconds);
        } catch (e) {
          note = (e as Error).message;
        }
      }
    } finally {
      if (!('error' in torch)) torch.close();
    }
    const t = last && !note ? last : null;
    let diff: number | null = null;
    if (t && ours) {
      diff = 0;
      for (const [l, p] of ours.probes.entries())
        for (const [k, v] of Object.entries(p.signature)) diff = Math.max(diff, Math.abs(v - t.probes[l].signature[k]) / Math.abs(t.probes[l].signature[k]));
    }
    return {
      points: n,
      spec: SPEC,
      probes: PROBES,
      batch,
      threads,
      reps,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      dltheorySeconds: median(mine),
      dltheoryPointsPerSecond: n / median(mine),
      torchSeconds: t ? median(theirs) : null,
      torchPointsPerSecond: t ? n / median(theirs) : null,
      ratio: t ? median(theirs.map((s, i) => s / mine[i])) : null,
      signatureRelDiff: diff,
      torchVersion: t?.torchVersion ?? null,
      ...(note ? { note } : {}),
    };
  } finally {
    model.dispose();
    x.dispose();
    y.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A few lines of text for the report. */
export function formatMarginsBench(r: MarginsBenchReport): string {
  const pps = (v: number | null) => (v === null ? '—' : `${v.toFixed(0)} points/s`);
  return [
    `margins of ${r.points} MNIST points, ${r.spec}, probes ${
      r.probes.join(', ')
    }, batch ${r.batch}, ${r.threads} thread(s), ${r.cpuModel}; median of ${r.reps} alternating pairs of passes`,
    `dltheory  ${r.dltheorySeconds.toFixed(2)} s  ${pps(r.dltheoryPointsPerSecond)}`,
    `PyTorch   ${r.torchSeconds === null ? '—' : `${r.torchSeconds.toFixed(2)} s`}  ${pps(r.torchPointsPerSecond)}${
      r.torchVersion ? ` (torch ${r.torchVersion})` : ''
    }`,
    `PyTorch/dltheory time (median of the pairs) ${r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`} (> 1: dltheory faster); signatures agree to ${
      r.signatureRelDiff === null ? '—' : r.signatureRelDiff.toExponential(1)
    } relative`,
    ...(r.note ? [`Note: ${r.note}`] : []),
  ].join('\n');
}
