/**
 * The SGD experiment of Allen-Zhu, Li, Song (ICML 2019), docs/papers.md §4, run by the claim
 * allenzhu-sgd-100 (src/claims/allen-zhu.ts) and by `dltheory converge sgd` with the user's sizes.
 *
 * Their network (`mlp:784-m-…-m-10:init=allenzhu`: L hidden ReLU layers of width m, N(0, 2/m) hidden
 * weights, N(0, 1/10) output weights, no biases) on MNIST subsets of n digits, each image scaled to
 * unit norm as their analysis assumes; minibatch SGD (batch 32, one fixed step for every run) on the
 * cross-entropy until the full training loss is ≤ ε with every point correctly classified, checked
 * after every epoch. T(n, L) = epochs × ⌈n/32⌉ iterations. `powerLawFit` summarises the growth by
 * the least-squares fit log T = a + b·log n + c·log L over all runs (b, c the exponents).
 *
 * `growthComparison` asks the theorem's question — does T grow polynomially or exponentially along n
 * (or L)? — by comparing two models of log T, each with its own intercept for every line of the grid
 * (every depth when the variable is n, every n when it is L) and a common slope in the variable x:
 *   polynomial   log T = a_line + b·log x        exponential   log T = a_line + b·x
 * Each run's log T is predicted by each model fitted to the other runs (leave-one-out), and
 * D = mean over runs of (e_exp² − e_poly²), e the leave-one-out errors, is > 0 when the power law
 * predicts better. Its 95% percentile interval comes from a bootstrap over runs (the runs' paired
 * error differences resampled with replacement, 2000 times, seeded): a crude interval, since
 * leave-one-out errors of one grid are not independent, and with 3–5 points a line the only
 * distinction it can draw is between curvatures as different as log x and x over a doubling grid.
 */
import { scope } from '../engine/memory.js';
import { manualSeed } from '../engine/creation.js';
import { loadMnist } from '../data/sources.js';
import { subset } from '../data/dataset.js';
import { buildModel } from '../nn/models/spec.js';
import { fitLinear, predictLinear } from '../measures/regression.js';
import { bootstrapResamples, mean, percentileInterval, type Interval } from '../measures/bootstrap.js';
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

/** One line of the grid (a depth when the variable is n, an n when it is the depth) in a GrowthComparison. */
export interface GrowthLine {
  /** The depth or n that the line holds fixed. */
  line: number;
  /** Its own slope under each model: the exponent of x, and the rate per unit of x. */
  exponent: number;
  rate: number;
  /** Mean of e_exp² − e_poly² over its runs (> 0: the power law predicts them better). */
  difference: number;
}

/** How T grows along one variable: see the module comment. */
export interface GrowthComparison {
  along: 'n' | 'depth';
  /** Mean squared leave-one-out error of log T under the power law and under the exponential. */
  polynomialError: number;
  exponentialError: number;
  /** D = exponentialError − polynomialError with its 95% bootstrap interval over runs. */
  difference: Interval;
  lines: GrowthLine[];
  /**
   * 'polynomial' when the interval of D lies above 0, or lies below 0 with every line's rate ≤ 0 (T
   * does not grow along x, so a polynomial bounds it); 'exponential' when it lies below 0 otherwise;
   * 'indistinguishable' when it holds 0.
   */
  growth: 'polynomial' | 'exponential' | 'indistinguishable';
}

/**
 * Leave-one-out comparison of polynomial and exponential growth of T along n or along the depth, over
 * the runs that converged, each line with its own intercept and slope (at least two lines of at
 * least three points each, else NaN errors and 'indistinguishable'); `seed` seeds the bootstrap.
 */
export function growthComparison(runs: SgdRun[], along: 'n' | 'depth', seed: number, resamples = 2000): GrowthComparison {
  const ok = runs.filter((r) => r.iterations !== null);
  const x = ok.map((r) => (along === 'n' ? r.n : r.depth));
  const line = ok.map((r) => (along === 'n' ? r.depth : r.n));
  const lines = [...new Set(line)];
  const y = Float64Array.from(ok, (r) => Math.log(r.iterations!));
  const members = lines.map((l) => ok.map((_, i) => i).filter((i) => line[i] === l));
  if (lines.length < 2 || members.some((m) => new Set(m.map((i) => x[i])).size < 3)) {
    const none = { estimate: NaN, lower: NaN, upper: NaN };
    return { along, polynomialError: NaN, exponentialError: NaN, difference: none, lines: [], growth: 'indistinguishable' };
  }
  // An indicator column for each line but the first (the first's intercept is the fit's), then x within each line.
  const rows = (f: (v: number) => number) =>
    ok.map((_, i) => Float64Array.from([...lines.slice(1).map((l) => (line[i] === l ? 1 : 0)), ...lines.map((l) => (line[i] === l ? f(x[i]) : 0))]));
  const models = [rows(Math.log), rows((v) => v)];
  const squaredErrors = models.map((r) =>
    Float64Array.from(ok, (_, i) => {
      const rest = ok.map((_, j) => j).filter((j) => j !== i);
      const fit = fitLinear(rest.map((j) => r[j]), Float64Array.from(rest, (j) => y[j]));
      return (y[i] - predictLinear(fit.coefficients, [r[i]])[0]) ** 2;
    })
  );
  const d = squaredErrors[1].map((v, i) => v - squaredErrors[0][i]);
  const draws = bootstrapResamples(d.length, resamples, seed).map((idx) => mean(Array.from(idx, (i) => d[i])));
  const difference = percentileInterval(mean(d), draws);
  const [exponents, rates] = models.map((r) => fitLinear(r, y).coefficients.slice(lines.length));
  const perLine = lines.map((l, k) => ({ line: l, exponent: exponents[k], rate: rates[k], difference: mean(members[k].map((i) => d[i])) }));
  const growth = difference.lower > 0 || (difference.upper < 0 && perLine.every((g) => g.rate <= 0))
    ? 'polynomial'
    : difference.upper < 0
    ? 'exponential'
    : 'indistinguishable';
  return { along, polynomialError: mean(squaredErrors[0]), exponentialError: mean(squaredErrors[1]), difference, lines: perLine, growth };
}
