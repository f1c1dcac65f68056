// Synthetic run stores for the dashboard's tests and its paging bench (bench/serve.ts): many runs,
// written fast, whose hyper-parameters and metrics follow from the index, so a test can compute what a query must return.
import type { RunRecord, RunStore } from '../src/store/runs.js';

/** Run i: width, depth and lr cycle through a grid, the seed counts repeats of a cell; run 50k + 7 has a NaN test loss. */
export function syntheticRun(i: number): RunRecord {
  const width = [64, 128, 256, 512][i % 4];
  const depth = 1 + (Math.floor(i / 4) % 3);
  const lr = [1e-3, 1e-2][Math.floor(i / 12) % 2];
  const seed = Math.floor(i / 24);
  // A smooth function of the cell plus a seed-dependent wobble: groups have a spread.
  const gap = 0.01 * depth + 1e-4 * width + 0.002 * Math.sin(7 * seed + i % 24);
  return {
    id: `syn-${String(i).padStart(6, '0')}`,
    kind: 'zoo',
    created: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
    spec: `mlp:20-${Array(depth).fill(width).join('-')}-3`,
    data: 'synthetic',
    hparams: { width, depth, lr, seed, grid: 'synthetic' },
    seed,
    final: { trainAccuracy: 1, testAccuracy: 1 - gap, gap, testLoss: i % 50 === 7 ? Number.NaN : 10 * gap },
    weights: null,
    seconds: 0.1,
    tag: `zoo/synthetic-${i % 3}`,
  };
}

/** Writes runs `from` … `to − 1` into `store` in one transaction (one fsync, not one a run). */
export function fillStore(store: RunStore, to: number, from = 0): RunRecord[] {
  const runs = Array.from({ length: to - from }, (_, k) => syntheticRun(from + k));
  store.db.transaction(() => {
    for (const r of runs) store.saveRun(r, [1, 2, 3].map((epoch) => ({ epoch, metrics: { trainLoss: r.final.gap / epoch, lr: r.hparams.lr as number } })));
  })();
  return runs;
}
