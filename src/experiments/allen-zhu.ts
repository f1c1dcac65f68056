/**
 * The SGD experiment of Allen-Zhu, Li, Song (ICML 2019), docs/papers.md §4, run by the claim
 * allenzhu-sgd-100 (src/claims/allen-zhu.ts) and by `dltheory converge sgd` with the user's sizes.
 *
 * Their network (`mlp:784-m-…-m-10:init=allenzhu`: L hidden ReLU layers of width m, N(0, 2/m) hidden
 * weights, N(0, 1/10) output weights, no biases) on MNIST subsets of n digits, each image scaled to
 * unit norm as their analysis assumes; minibatch SGD (batch 32, one fixed step for every run) on the
 * cross-entropy until the full training loss is ≤ ε with every point correctly classified, checked
 * after every epoch. T(n, L) = epochs × ⌈n/32⌉ iterations. The growth is read off the least-squares
 * fit log T = a + b·log n + c·log L over all runs: b and c are the polynomial exponents, and the
 * fit's R² says whether a power law describes the growth.
 */
import { scope } from '../engine/memory.js';
import { manualSeed } from '../engine/creation.js';
import { loadMnist } from '../data/sources.js';
import { subset } from '../data/dataset.js';
import { buildModel } from '../nn/models/spec.js';
import { fitLinear } from '../measures/regression.js';
import { descend } from '../train/gd.js';

export interface SgdRun {
  n: number;
  depth: number;
  /** SGD iterations until loss ≤ ε and 100% accuracy; null when the budget ran out first. */
  iterations: number | null;
  finalLoss: number;
  finalAccuracy: number;
}

export interface SgdPlan {
  ns: number[];
  depths: number[];
  width: number;
  lr: number;
  epsilon: number;
  maxEpochs: number;
}

const BATCH = 32;

/** Trains every (n, L) of the plan and counts the iterations to loss ε at 100% training accuracy. */
export function sgdIterations(plan: SgdPlan, seed: number, log?: (m: string) => void): SgdRun[] {
  const splits = loadMnist({ seed });
  splits.test[Symbol.dispose]();
  using train = splits.train;
  const runs: SgdRun[] = [];
  for (const n of plan.ns) {
    using sub = subset(train, n, seed);
    // Unit-norm inputs, as the analysis assumes (‖x_i‖ = 1).
    using x = scope(() => {
      const flat = sub.x.flatten(1);
      return flat.div(flat.norm(2, 1, true));
    });
    for (const depth of plan.depths) {
      log?.(`allenzhu-sgd-100: n = ${n}, L = ${depth}, m = ${plan.width}`);
      manualSeed(seed);
      using model = buildModel(`mlp:784-${Array(depth).fill(plan.width).join('-')}-10:init=allenzhu`);
      let last = { epoch: -1, loss: NaN, accuracy: NaN };
      descend(model, x, sub.y, {
        lr: plan.lr,
        steps: plan.maxEpochs,
        loss: 'cross-entropy',
        batchSize: BATCH,
        seed,
        onStep: (epoch, loss, accuracy) => {
          last = { epoch, loss, accuracy: accuracy! };
          return loss <= plan.epsilon && accuracy === 1;
        },
      });
      const reached = last.loss <= plan.epsilon && last.accuracy === 1;
      runs.push({ n, depth, iterations: reached ? (last.epoch + 1) * Math.ceil(n / BATCH) : null, finalLoss: last.loss, finalAccuracy: last.accuracy });
    }
  }
  return runs;
}

/** log T = a + b·log n + c·log L over the runs that converged (NaN when fewer than four did). */
export function powerLawFit(runs: SgdRun[]): { nExponent: number; depthExponent: number; r2: number } {
  const ok = runs.filter((r) => r.iterations !== null);
  if (ok.length < 4) return { nExponent: NaN, depthExponent: NaN, r2: NaN };
  const fit = fitLinear(ok.map((r) => Float64Array.of(Math.log(r.n), Math.log(r.depth))), Float64Array.from(ok, (r) => Math.log(r.iterations!)));
  return { nExponent: fit.coefficients[1], depthExponent: fit.coefficients[2], r2: fit.r2 };
}
