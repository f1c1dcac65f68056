/**
 * ONNX benchmark: forward + backward of an imported torchvision ResNet-18 (num_classes 10, 3×32×32,
 * batch 64), dltheory's graph interpreter (src/nn/onnx/) against PyTorch eager on the same model in
 * one run.
 *
 * bench/onnx_torch.py (under /usr/bin/python3, Debian python3-torch and python3-torchvision) builds
 * the model as the ONNX tests do (seed 0, random BatchNorm statistics), exports it with BatchNorm
 * kept as nodes (TrainingMode.PRESERVE) and a dynamic batch axis, and writes a batch and labels;
 * dltheory loads the file with `loadModel` (timed once). A step, on both sides: gradients dropped,
 * forward in eval mode (BatchNorm on its running statistics), cross-entropy, backward to every
 * parameter. Both sides run with `getNumThreads()` intra-op threads, PyTorch in this process's
 * environment (so the same OpenMP/OpenBLAS settings on both sides, as in the margins bench), and
 * warm up; then `reps` times, `iters` steps of dltheory's, each timed on its own, then `iters` of
 * PyTorch's (a resident process, startPython in bench/python.ts), so that each pair of passes sees
 * the same machine load. The times are each side's median step; the ratio is the median over the
 * pairs of PyTorch's median step over dltheory's (> 1: dltheory faster). Every step computes the same
 * loss (eval mode, no update): the two sides' losses are compared as a check that they did the same
 * work.
 *
 * node -e "import('./dist/bench/onnx.js').then(async m => console.log(m.formatOnnxBench(await m.runOnnxBench())))"
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, startPython } from './python.js';
import { scope } from '../src/engine/memory.js';
import { getNumThreads } from '../src/engine/runtime.js';
import { readNpy } from '../src/data/npy.js';
import { fromRaw, loadModel } from '../src/nn/serialize.js';
import * as F from '../src/nn/functional.js';

export interface OnnxBenchReport {
  batch: number;
  threads: number;
  /** Pairs of passes. */
  reps: number;
  /** Timed steps per pass. */
  iters: number;
  cpuModel: string;
  /** loadModel of the exported file. */
  loadMs: number;
  dltheoryStepMs: number;
  torchStepMs: number | null;
  /** Median over the pairs of torch's median step / dltheory's: > 1 means dltheory is faster. */
  ratio: number | null;
  /** |dltheory loss − PyTorch loss|. */
  lossDifference: number | null;
  torchVersion: string | null;
  note?: string;
}

interface TorchPass {
  torchVersion: string;
  ms: number[];
  loss: number;
}

/** Times both sides on the same exported model and batch; see the module comment. */
export async function runOnnxBench(opts: { batch?: number; reps?: number; iters?: number } = {}): Promise<OnnxBenchReport> {
  const { batch = 64, reps = 20, iters = 1 } = opts;
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-onnx-bench-'));
  const threads = getNumThreads();
  const torch = startPython<TorchPass>('onnx_torch.py', ['--out', dir, '--threads', String(threads), '--batch', String(batch), '--iters', String(iters)],
    'python3-torch python3-torchvision');
  try {
    // Without PyTorch there is no model file to time, so its absence is an error, not a note.
    if ('error' in torch) throw new Error(`bench onnx: ${torch.error}`);
    await torch.ready();
    const t0 = performance.now();
    const { model } = loadModel(join(dir, 'model.onnx'));
    const loadMs = performance.now() - t0;
    const x = fromRaw(readNpy(join(dir, 'x.npy')));
    const y = fromRaw(readNpy(join(dir, 'y.npy')));
    const step = (): number =>
      scope(() => {
        model.zeroGrad();
        const loss = F.crossEntropy(model.forward(x), y);
        loss.backward();
        return loss.item();
      });
    try {
      const loss = step();
      for (let i = 0; i < 2; i++) step();
      const [mine, theirs, ratios]: number[][] = [[], [], []];
      let last: TorchPass | undefined;
      let note: string | undefined;
      for (let r = 0; r < reps; r++) {
        const times: number[] = [];
        for (let i = 0; i < iters; i++) {
          const s = performance.now();
          step();
          times.push(performance.now() - s);
        }
        mine.push(...times);
        if (note) continue;
        try {
          last = await torch.pass();
          theirs.push(...last.ms);
          ratios.push(median(last.ms) / median(times));
        } catch (e) {
          note = (e as Error).message;
        }
      }
      const ok = last && !note;
      return {
        batch,
        threads,
        reps,
        iters,
        cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
        loadMs,
        dltheoryStepMs: median(mine),
        torchStepMs: ok ? median(theirs) : null,
        ratio: ok ? median(ratios) : null,
        lossDifference: ok ? Math.abs(loss - last!.loss) : null,
        torchVersion: ok ? last!.torchVersion : null,
        ...(note ? { note } : {}),
      };
    } finally {
      model.zeroGrad();
      model.dispose();
      x.dispose();
      y.dispose();
    }
  } finally {
    if (!('error' in torch)) torch.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A few lines of text for the report. */
export function formatOnnxBench(r: OnnxBenchReport): string {
  const ms = (v: number | null) => (v === null ? '—' : `${v.toFixed(1)} ms`);
  return [
    `imported torchvision ResNet-18 (ONNX, BatchNorm kept), 3x32x32, batch ${r.batch}: forward + cross-entropy + backward in eval mode, median of ${r.reps} alternating pairs of passes of ${r.iters} step${
      r.iters === 1 ? '' : 's'
    }; ${r.threads} thread(s), ${r.cpuModel}`,
    `dltheory  ${ms(r.dltheoryStepMs)}  (loadModel ${ms(r.loadMs)})`,
    `PyTorch   ${ms(r.torchStepMs)}${r.torchVersion ? ` (torch ${r.torchVersion}, eager)` : ''}`,
    `PyTorch/dltheory time (median of the pairs) ${
      r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`
    } (> 1: dltheory faster; target ≥ 0.9×); losses agree to 1e-4: ${
      r.lossDifference === null ? '—' : r.lossDifference <= 1e-4 ? 'yes' : `NO (${r.lossDifference.toExponential(1)})`
    }`,
    ...(r.note ? [`Note: ${r.note}`] : []),
  ].join('\n');
}
