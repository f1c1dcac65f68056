/**
 * The experiments of Nguyen, Mukkamala, Hein (ICLR 2019), docs/papers.md §2, run by the claims
 * nguyen-no-bad-valleys and landscape-path (src/claims/nguyen.ts) and by `dltheory converge
 * skip|landscape` with the user's sizes.
 *
 * Data: N MNIST digits (standardised) with random labels (balanced within each true class, as in
 * src/experiments/random-labels.ts). Nets: the narrow trunk `mlp:784-W-10:softplus` with and without
 * M = N skip units (`skip:784-W-10:m=N`), trained by full-batch Adam with the same budget. The trunk
 * alone is too small to memorise N random labels, so whatever the skip net reaches is owed to the
 * skip units.
 *
 * randomLabelFits: both nets on the random labels from `inits` random initialisations, the
 * skip-feature rank checked at every initialisation, and each net once on the true labels (train
 * and test accuracy). At every initialisation, before training, the theorem's mechanism directly:
 * the readout alone (the linear maps into the logits, src/train/readout.ts) optimised by L-BFGS in
 * float64 with everything else frozen — a convex problem, whose infimum is 0 when the skip features
 * have rank N; for the trunk alone the same problem has a positive minimum. And for every training
 * run the loss curve's tail (`descentTail`): whether it still falls, and when its power-law trend
 * would reach a target.
 *
 * landscapes: for the skip net and the trunk, the loss along the straight line from initialisation
 * to solution, L((1 − α)θ₀ + αθ₁) for α in [−0.25, 1.25]; for the skip net also a filter-normalised
 * 2-D slice around its solution (src/measures/landscape.ts).
 */
import { manualSeed } from '../engine/creation.js';
import { dispose, disposing } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { loadMnist, standardizeSplits, type Splits } from '../data/sources.js';
import { disposeDataset, subset, type Dataset } from '../data/dataset.js';
import { buildModel } from '../nn/models/spec.js';
import { SkipToOutput, skipFeatureRank } from '../nn/models/skip.js';
import type { Module } from '../nn/module.js';
import { evaluate, train } from '../train/train.js';
import { filterNormalizedDirection, linePath, lossSurface, snapshot } from '../measures/landscape.js';
import { fitReadout, type ReadoutFit } from '../train/readout.js';
import type { MLP } from '../nn/models/mlp.js';
import { fitLinear } from '../measures/regression.js';
import { check } from '../errors.js';
import { balancedRandomLabels } from './random-labels.js';

export interface ValleyPlan {
  n: number;
  trunkWidth: number;
  inits: number;
  epochs: number;
  lr: number;
  /** The readout's L-BFGS stops once the skip net's loss is ≤ this (randomLabelFits; default 0.01). */
  target?: number;
}

const specs = (p: ValleyPlan) => ({ skip: `skip:784-${p.trunkWidth}-10:m=${p.n}`, trunk: `mlp:784-${p.trunkWidth}-10:softplus` });

/** N standardised digits with random labels, and the true-label splits of the same digits. */
function data(p: ValleyPlan, seed: number): { random: Dataset; truth: Splits } {
  const { train: train_, test } = standardizeSplits(loadMnist({ seed }));
  const sub = subset(train_, p.n, seed);
  disposeDataset(train_);
  return { random: balancedRandomLabels(sub, seed + 1), truth: { train: sub, test } };
}

/** A trained model with its initial weights, its full-batch loss before each step, and for a skip net the skip-feature rank at initialisation; `using` frees both. */
interface Fitted extends Disposable {
  model: Module;
  initial: Tensor[];
  losses: Float64Array;
  rank?: number;
}

/** Trains spec on ds from seed (see Fitted). */
function fit(spec: string, ds: Dataset, p: ValleyPlan, seed: number): Fitted {
  manualSeed(seed);
  const model = buildModel(spec);
  const initial = snapshot(model);
  const fitted: Fitted = {
    model,
    initial,
    losses: new Float64Array(),
    [Symbol.dispose]: () => {
      model.dispose();
      dispose(initial);
    },
  };
  try {
    if (model instanceof SkipToOutput) fitted.rank = skipFeatureRank(model, ds.x).rank;
    // One batch an epoch, so each epoch's running train loss is the full loss before that step.
    fitted.losses = Float64Array.from(train(model, ds, undefined, { epochs: p.epochs, batchSize: p.n, lr: p.lr, optimizer: 'adam', seed }).epochs, (e) =>
      e.trainLoss);
    return fitted;
  } catch (e) {
    fitted[Symbol.dispose]();
    throw e;
  }
}

/**
 * The tail of a loss curve L_1 … L_T (the last half, t > T/2) and where its trend leads. The five
 * consecutive windows of T/10 steps: `falling` when each averages ≤ 1.01 × the one before (Adam's
 * step-to-step jitter averaged out). The curvature: the slopes of log L against t over the third and
 * the fourth quarter; when the decay is not slowing (the fourth's is at least as steep), the trend is
 * the line log L = a + b·t fitted to the tail (an exponential, which undershoots an accelerating
 * decay), else the line log L = a + b·log t (a power law, which undershoots a decay slowing as
 * fast as or more slowly than a power law's). `stepsToTarget` is the step at which the trend
 * reaches `target` (Infinity when b ≥ 0): conservative in either case, as long as the curvature of
 * the tail persists.
 */
export interface DescentTail {
  windows: number[];
  falling: boolean;
  trend: 'exponential' | 'power law';
  /** b of the trend: per step, or per unit of log t. */
  slope: number;
  stepsToTarget: number;
}

/** Least-squares slope and intercept of log L_i on x(i) over the steps i in [from, to). */
function logLine(losses: Float64Array, from: number, to: number, x: (i: number) => number): { a: number; b: number } {
  const steps = Array.from({ length: to - from }, (_, k) => from + k);
  const [a, b] = fitLinear(steps.map((i) => Float64Array.of(x(i))), Float64Array.from(steps, (i) => Math.log(losses[i]))).coefficients;
  return { a, b };
}

/** descentTail of losses [T] (T ≥ 20; losses[i] is L at step i + 1) for `target`. */
export function descentTail(losses: Float64Array, target: number): DescentTail {
  const t = losses.length;
  check(t >= 20, () => `descent tail: ${t} steps; need at least 20`);
  const width = Math.floor(t / 10);
  const windows = Array.from({ length: 5 }, (_, k) => {
    const w = losses.subarray(t - (5 - k) * width, t - (4 - k) * width);
    return w.reduce((s, v) => s + v, 0) / w.length;
  });
  const falling = windows.every((v, k) => k === 0 || v <= 1.01 * windows[k - 1]);
  const [half, threeQuarters] = [Math.floor(t / 2), Math.floor((3 * t) / 4)];
  const step = (i: number) => i + 1;
  const accelerating = logLine(losses, threeQuarters, t, step).b <= logLine(losses, half, threeQuarters, step).b;
  const x = accelerating ? step : (i: number) => Math.log(i + 1);
  const { a, b } = logLine(losses, half, t, x);
  const at = (Math.log(target) - a) / b;
  return { windows, falling, trend: accelerating ? 'exponential' : 'power law', slope: b,
    stepsToTarget: b < 0 ? (accelerating ? at : Math.exp(at)) : Infinity };
}

/**
 * The readout alone of `spec` as initialised from `seed` (the same weights `fit` starts from), by
 * L-BFGS on ds: to loss ≤ target, or (target 0) to the convex minimum, ‖∇L‖∞ ≤ 1e-8.
 */
function readoutAtInitialisation(spec: string, ds: Dataset, seed: number, target: number): ReadoutFit {
  manualSeed(seed);
  using model = buildModel(spec);
  return fitReadout(model as MLP | SkipToOutput, ds.x, ds.y, { target, gradientTolerance: 1e-8 });
}

export interface ValleyRun {
  seed: number;
  loss: number;
  accuracy: number;
  /** Rank of the skip-feature matrix at initialisation (skip nets only). */
  rank?: number;
  /** The readout alone at this initialisation, by L-BFGS (randomLabelFits). */
  readout?: ReadoutFit;
  /** The full-batch loss before each training step, and the curve's tail (randomLabelFits). */
  losses?: Float64Array;
  tail?: DescentTail;
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
  const target = p.target ?? 0.01;
  const d = data(p, seed);
  using random = d.random, train = d.truth.train, test = d.truth.test;
  const runs: Record<'skip' | 'trunk', ValleyRun[]> = { skip: [], trunk: [] };
  const trueAccuracy = {} as Record<'skip' | 'trunk', { train: number; test: number }>;
  for (let k = 0; k < p.inits; k++)
    for (const [kind, spec] of [['skip', skip], ['trunk', trunk]] as const) {
      log(`nguyen-no-bad-valleys: ${spec}, random labels, initialisation ${k + 1} of ${p.inits}`);
      using fitted = fit(spec, random, p, seed + k);
      const ev = evaluate(fitted.model, random);
      const readout = readoutAtInitialisation(spec, random, seed + k, kind === 'skip' ? target : 0);
      // A tail needs windows of at least two steps.
      const tail = p.epochs >= 20 ? { tail: descentTail(fitted.losses, target) } : {};
      runs[kind].push({ seed: seed + k, loss: ev.loss, accuracy: ev.accuracy, ...(fitted.rank === undefined ? {} : { rank: fitted.rank }), readout,
        losses: fitted.losses, ...tail });
    }
  for (const [kind, spec] of [['skip', skip], ['trunk', trunk]] as const) {
    log(`nguyen-no-bad-valleys: ${spec}, true labels`);
    using fitted = fit(spec, train, p, seed);
    trueAccuracy[kind] = { train: evaluate(fitted.model, train).accuracy, test: evaluate(fitted.model, test).accuracy };
  }
  return { runs, trueAccuracy };
}

/** α of the straight path, −0.25 to 1.25 in steps of 0.05. */
const ALPHAS = Array.from({ length: 31 }, (_, i) => -0.25 + (1.5 * i) / 30);
/** Both coordinates of the 2-D slice, −1 to 1 in steps of 0.1: the solution is at [10][10]. */
export const SLICE_GRID = Array.from({ length: 21 }, (_, i) => -1 + i / 10);

/**
 * For the skip net and the trunk alone trained on N random labels (seed `seed`): the loss on the
 * straight path from initialisation to solution at ALPHAS, and for the skip net the loss on the
 * filter-normalised slice SLICE_GRID × SLICE_GRID around its solution.
 */
export function landscapes(p: ValleyPlan, seed: number, log: (m: string) => void = () => {}): {
  paths: Record<'skip' | 'trunk', { alpha: number; loss: number }[]>;
  surface: number[][];
} {
  const { skip, trunk } = specs(p);
  const d = data(p, seed);
  d.truth.train[Symbol.dispose]();
  d.truth.test[Symbol.dispose]();
  using random = d.random;
  const paths = {} as Record<'skip' | 'trunk', { alpha: number; loss: number }[]>;
  let surface: number[][] = [];
  for (const [kind, spec] of [['skip', skip], ['trunk', trunk]] as const) {
    log(`landscape-path: ${spec}, random labels`);
    using fitted = fit(spec, random, p, seed);
    const loss = () => evaluate(fitted.model, random).loss;
    const solution = snapshot(fitted.model);
    using _solution = disposing(solution);
    paths[kind] = linePath(fitted.model, fitted.initial, solution, ALPHAS, loss);
    if (kind === 'skip') {
      const directions = [filterNormalizedDirection(solution, seed + 101), filterNormalizedDirection(solution, seed + 102)];
      using _directions = disposing(directions);
      surface = lossSurface(fitted.model, solution, directions[0], directions[1], SLICE_GRID, SLICE_GRID, loss);
    }
  }
  return { paths, surface };
}
