/**
 * Nguyen, Mukkamala, Hein (ICLR 2019), docs/papers.md §2: a network with M ≥ N hidden units
 * connected straight to the output (softplus activations, cross-entropy) has no bad local valleys —
 * from every starting point a non-increasing path leads to zero loss — because the N×M matrix of
 * skip features has rank N and the loss is convex in the skip weights.
 *
 * `nguyen-no-bad-valleys`: N MNIST digits (standardised) with random labels (balanced within each
 * true class, as in random-labels.ts), the narrow trunk `mlp:784-W-10:softplus` with and without
 * M = N skip units (`skip:784-W-10:m=N`), from ≥ 10 random initialisations each, full-batch Adam
 * with the same budget. The trunk alone is too small to memorise N random labels, so whatever the
 * skip net reaches is owed to the skip units. The skip-feature rank is checked at every
 * initialisation, and one run of each net on the true labels reports train and test accuracy.
 *
 * `landscape-path`: for the first skip net, the loss along the straight line from its
 * initialisation to its solution, L((1 − α)θ₀ + αθ₁) for α in [−0.25, 1.25], and a filter-normalised
 * 2-D slice around the solution (src/measures/landscape.ts); the trunk alone for comparison.
 */
import { manualSeed } from '../engine/creation.js';
import { dispose } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { loadMnist, standardiseSplits, type Splits } from '../data/sources.js';
import { disposeDataset, subset, type Dataset } from '../data/dataset.js';
import { buildModel } from '../nn/models/spec.js';
import { SkipToOutput, skipFeatureRank } from '../nn/models/skip.js';
import type { Module } from '../nn/module.js';
import { evaluate, train } from '../train/train.js';
import { filterNormalizedDirection, linePath, lossSurface, snapshot } from '../measures/landscape.js';
import { quantile } from '../measures/quantiles.js';
import { heatmapChart, lineChart } from '../report/chart.js';
import { balancedRandomLabels } from './random-labels.js';
import { verdictOf, type Claim, type ClaimContext, type Mode, type Outcome } from './claim.js';

const PAPER = 'Nguyen, Mukkamala, Hein. On the loss landscape of a class of deep neural networks with no bad local valleys. ICLR 2019';
/** "Near-zero" mean cross-entropy: an average probability ≥ 0.99 on the assigned label. */
const NEAR_ZERO = 0.01;

export interface ValleyPlan {
  n: number;
  trunkWidth: number;
  inits: number;
  epochs: number;
  lr: number;
}
const PLANS: Record<Mode, ValleyPlan> = {
  quick: { n: 300, trunkWidth: 4, inits: 10, epochs: 300, lr: 0.01 },
  full: { n: 1000, trunkWidth: 8, inits: 10, epochs: 600, lr: 0.01 },
};

const specs = (p: ValleyPlan) => ({ skip: `skip:784-${p.trunkWidth}-10:m=${p.n}`, trunk: `mlp:784-${p.trunkWidth}-10:softplus` });

/** N standardised digits with random labels, and the true-label splits of the same digits. */
function data(p: ValleyPlan, seed: number): { random: Dataset; truth: Splits } {
  const { train: train_, test } = standardiseSplits(loadMnist({ seed }));
  const sub = subset(train_, p.n, seed);
  disposeDataset(train_);
  return { random: balancedRandomLabels(sub, seed + 1), truth: { train: sub, test } };
}

/** Trains spec on ds from seed; also returns the initial weights and, for a skip net, the skip-feature rank at initialisation. */
function fit(spec: string, ds: Dataset, p: ValleyPlan, seed: number): { model: Module; initial: Tensor[]; rank?: number } {
  manualSeed(seed);
  const model = buildModel(spec);
  const initial = snapshot(model);
  try {
    const rank = model instanceof SkipToOutput ? skipFeatureRank(model, ds.x).rank : undefined;
    train(model, ds, undefined, { epochs: p.epochs, batchSize: p.n, lr: p.lr, optimizer: 'adam', seed });
    return { model, initial, rank };
  } catch (e) {
    model.dispose();
    dispose(initial);
    throw e;
  }
}

export interface ValleyRun {
  seed: number;
  loss: number;
  accuracy: number;
  /** Rank of the skip-feature matrix at initialisation (skip nets only). */
  rank?: number;
}

/**
 * The skip net and the trunk alone on N random labels from `inits` seeds (seed, seed + 1, …), and
 * each once on the true labels (train and test accuracy).
 */
export function randomLabelFits(p: ValleyPlan, seed: number, log: (m: string) => void = () => {}): {
  runs: Record<'skip' | 'trunk', ValleyRun[]>;
  trueAccuracy: Record<'skip' | 'trunk', { train: number; test: number }>;
} {
  const { skip, trunk } = specs(p);
  const { random, truth } = data(p, seed);
  const runs: Record<'skip' | 'trunk', ValleyRun[]> = { skip: [], trunk: [] };
  const trueAccuracy = {} as Record<'skip' | 'trunk', { train: number; test: number }>;
  try {
    for (let k = 0; k < p.inits; k++)
      for (const [kind, spec] of [['skip', skip], ['trunk', trunk]] as const) {
        log(`nguyen-no-bad-valleys: ${spec}, random labels, initialisation ${k + 1} of ${p.inits}`);
        const { model, initial, rank } = fit(spec, random, p, seed + k);
        const ev = evaluate(model, random);
        runs[kind].push({ seed: seed + k, loss: ev.loss, accuracy: ev.accuracy, ...(rank === undefined ? {} : { rank }) });
        model.dispose();
        dispose(initial);
      }
    for (const [kind, spec] of [['skip', skip], ['trunk', trunk]] as const) {
      log(`nguyen-no-bad-valleys: ${spec}, true labels`);
      const { model, initial } = fit(spec, truth.train, p, seed);
      trueAccuracy[kind] = { train: evaluate(model, truth.train).accuracy, test: evaluate(model, truth.test).accuracy };
      model.dispose();
      dispose(initial);
    }
  } finally {
    disposeDataset(random);
    disposeDataset(truth.train);
    disposeDataset(truth.test);
  }
  return { runs, trueAccuracy };
}

export const nguyenNoBadValleys: Claim = {
  id: 'nguyen-no-bad-valleys',
  group: 'converge',
  statement:
    'With at least N hidden units connected straight to the output (N training points, softplus), training reaches near-zero loss from every initialisation, even on random labels; the same trunk without them does not.',
  paper: PAPER,
  rule:
    `Holds when the skip-feature matrix has rank N at every initialisation, every skip-net run on random labels ends with mean ` +
    `cross-entropy ≤ ${NEAR_ZERO}, and the trunk alone ends above ${NEAR_ZERO} in most runs with a median loss ≥ 10× the skip net's. ` +
    'Does not hold otherwise.',

  async run(ctx: ClaimContext): Promise<Outcome> {
    const p = PLANS[ctx.mode];
    const { runs, trueAccuracy: trueAcc } = randomLabelFits(p, ctx.seed, ctx.log);
    const median = (v: number[]) => quantile(Float64Array.from(v).sort(), 0.5);
    const [skipMed, trunkMed] = [median(runs.skip.map((r) => r.loss)), median(runs.trunk.map((r) => r.loss))];
    const fullRank = runs.skip.every((r) => r.rank === p.n);
    const allReach = runs.skip.every((r) => r.loss <= NEAR_ZERO);
    const trunkFails = runs.trunk.filter((r) => r.loss > NEAR_ZERO).length > p.inits / 2 && trunkMed >= 10 * skipMed;
    const holds = fullRank && allReach && trunkFails;
    const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
    const list = (rs: ValleyRun[]) => rs.map((r) => r.loss.toExponential(1)).join(', ');
    const reason =
      `N = ${p.n} random labels, ${p.inits} initialisations, ${p.epochs} full-batch Adam steps: skip net (M = ${p.n}, skip-feature rank ` +
      `${[...new Set(runs.skip.map((r) => r.rank))].join('/')}) final loss ${list(runs.skip)} (median ${skipMed.toExponential(1)}); trunk alone ${list(runs.trunk)} ` +
      `(median ${trunkMed.toExponential(1)}); true labels: skip net train ${pct(trueAcc.skip.train)} / test ${pct(trueAcc.skip.test)}, ` +
      `trunk alone ${pct(trueAcc.trunk.train)} / ${pct(trueAcc.trunk.test)}`;
    const rows = (['skip', 'trunk'] as const).flatMap((kind) => runs[kind].map((r) => ({ init: r.seed - ctx.seed + 1, loss: r.loss, net: kind === 'skip' ? `with ${p.n} skip units` : 'trunk alone' })));
    return {
      verdict: verdictOf(holds),
      reason,
      runs: [],
      figures: [
        { name: 'skip-feature rank at initialisation (min over runs)', value: Math.min(...runs.skip.map((r) => r.rank!)), paper: p.n },
        { name: 'largest final loss of the skip net, random labels', value: Math.max(...runs.skip.map((r) => r.loss)), paper: '→ 0' },
        { name: 'median final loss of the trunk alone, random labels', value: trunkMed },
        { name: 'lowest train accuracy of the skip net, random labels', value: Math.min(...runs.skip.map((r) => r.accuracy)), paper: 1 },
        { name: 'skip net, true labels: train accuracy', value: trueAcc.skip.train },
        { name: 'skip net, true labels: test accuracy', value: trueAcc.skip.test },
        { name: 'trunk alone, true labels: test accuracy', value: trueAcc.trunk.test },
      ],
      charts: [
        { name: 'nguyen-final-loss', title: 'Final training loss on random labels, by initialisation', spec: lineChart({ title: `Cross-entropy after ${p.epochs} steps, N = ${p.n} random labels`, data: rows, x: 'init', y: 'loss', series: 'net', logY: true }) },
      ],
    };
  },
};

const ALPHAS = Array.from({ length: 31 }, (_, i) => -0.25 + (1.5 * i) / 30);
const GRID = Array.from({ length: 21 }, (_, i) => -1 + i / 10);

/**
 * For the skip net and the trunk alone trained on N random labels (seed `seed`): the loss on the
 * straight path from initialisation to solution at ALPHAS, and for the skip net the loss on the
 * filter-normalised slice GRID × GRID around its solution.
 */
export function landscapes(p: ValleyPlan, seed: number, log: (m: string) => void = () => {}): {
  paths: Record<'skip' | 'trunk', { alpha: number; loss: number }[]>;
  surface: number[][];
} {
  const { skip, trunk } = specs(p);
  const { random, truth } = data(p, seed);
  disposeDataset(truth.test);
  disposeDataset(truth.train);
  const paths = {} as Record<'skip' | 'trunk', { alpha: number; loss: number }[]>;
  let surface: number[][] = [];
  try {
    for (const [kind, spec] of [['skip', skip], ['trunk', trunk]] as const) {
      log(`landscape-path: ${spec}, random labels`);
      const { model, initial } = fit(spec, random, p, seed);
      const loss = () => evaluate(model, random).loss;
      const solution = snapshot(model);
      paths[kind] = linePath(model, initial, solution, ALPHAS, loss);
      if (kind === 'skip') {
        const [d1, d2] = [filterNormalizedDirection(solution, seed + 101), filterNormalizedDirection(solution, seed + 102)];
        surface = lossSurface(model, solution, d1, d2, GRID, GRID, loss);
        dispose([d1, d2]);
      }
      dispose([initial, solution]);
      model.dispose();
    }
  } finally {
    disposeDataset(random);
  }
  return { paths, surface };
}

export const landscapePath: Claim = {
  id: 'landscape-path',
  group: 'converge',
  statement:
    'On the straight line from its initialisation to the solution gradient descent finds, the loss of a skip-to-output network never rises above its starting value, and the solution is the lowest point of a filter-normalised 2-D slice around it.',
  paper: `${PAPER}; slices after Li, Xu, Taylor, Studer, Goldstein, NeurIPS 2018`,
  rule:
    'Holds when, for the skip net on random labels, L(α) ≤ L(0) for every α in [0, 1] on a grid of step 0.05 and the centre of the ' +
    '21 × 21 slice over [−1, 1]² has the lowest loss of the slice. Does not hold otherwise.',

  async run(ctx: ClaimContext): Promise<Outcome> {
    const p = PLANS[ctx.mode];
    const { paths, surface } = landscapes(p, ctx.seed, ctx.log);
    const inside = paths.skip.filter((r) => r.alpha >= -1e-9 && r.alpha <= 1 + 1e-9);
    const start = inside[0].loss;
    const peak = Math.max(...inside.map((r) => r.loss));
    const centre = surface[10][10];
    const lowest = Math.min(...surface.flat());
    const holds = peak <= start * (1 + 1e-9) && centre <= lowest;
    const trunkInside = paths.trunk.filter((r) => r.alpha >= -1e-9 && r.alpha <= 1 + 1e-9);
    const reason =
      `skip net (M = ${p.n}, N = ${p.n} random labels): L(0) ${start.toFixed(3)}, max on [0, 1] ${peak.toFixed(3)}, L(1) ${inside[inside.length - 1].loss.toExponential(2)}; ` +
      `slice centre ${centre.toExponential(2)} vs lowest ${lowest.toExponential(2)}; trunk alone: L(0) ${trunkInside[0].loss.toFixed(3)}, L(1) ${trunkInside[trunkInside.length - 1].loss.toFixed(3)}`;
    const rows = Object.entries(paths).flatMap(([kind, ps]) => ps.map((r) => ({ alpha: r.alpha, loss: r.loss, net: kind === 'skip' ? `with ${p.n} skip units` : 'trunk alone' })));
    // Numbers, not strings, so that the ordinal axes sort numerically.
    const cells = surface.flatMap((row, i) => row.map((v, j) => ({ a: Number(GRID[i].toFixed(1)), b: Number(GRID[j].toFixed(1)), logLoss: Math.log10(v) })));
    return {
      verdict: verdictOf(holds),
      reason,
      runs: [],
      figures: [
        { name: 'loss at initialisation (α = 0)', value: start },
        { name: 'largest loss on the path, α in [0, 1]', value: peak, paper: '≤ L(0): a non-increasing path exists' },
        { name: 'loss at the solution (α = 1)', value: inside[inside.length - 1].loss },
        { name: 'slice centre minus slice minimum', value: centre - lowest, paper: 0 },
      ],
      charts: [
        { name: 'landscape-path', title: 'Loss on the straight line from initialisation to solution', spec: lineChart({ title: 'L((1 − α)θ₀ + αθ₁), random labels', data: rows, x: 'alpha', y: 'loss', series: 'net', logY: true }) },
        { name: 'landscape-slice', title: 'Filter-normalised 2-D slice around the solution', spec: heatmapChart({ title: 'log10 loss at θ* + aδ + bη (skip net)', data: cells, x: 'a', y: 'b', value: 'logLoss' }) },
      ],
    };
  },
};

export const NGUYEN_CLAIMS: readonly Claim[] = [nguyenNoBadValleys, landscapePath];
