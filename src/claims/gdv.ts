/**
 * Schilling et al. (2018), docs/papers.md §5: the generalised discrimination value (src/measures/gdv.ts).
 *
 * gdv-closed-forms: the GDV has closed forms on point-like classes and is invariant to translation,
 * scaling and duplicated features; the cases are those of src/experiments/gdv.ts.
 *
 * gdv-dbn-depth: a DBN of 40 binary RBM layers (src/nn/dbn.ts; CD-1, lr 0.05, momentum 0.9, weight
 * decay 2e-4, batch 100) trained without labels on MNIST digits; the GDV of the hidden probabilities
 * of held-out digits after every layer (src/experiments/depth.ts). Quick: width 100, 3 epochs a
 * layer, 4,000 digits; full: widths 100, 250 and 500, 10 epochs, 8,000 digits — the paper's width
 * is not in docs/papers.md §5, so the full run shows whether the turn depends on it.
 *
 * gdv-backprop: MLPs of 2, 4, 8 (full: also 16) hidden layers of width 256, He init, trained by
 * backprop (Adam, lr 1e-3, batch 128) on standardised MNIST; the GDV at the input, every hidden
 * pre-activation and the logits, over relative depth layer/(hidden layers + 1).
 */
import { dbnDepthCurves, lowest, mlpDepthCurves } from '../experiments/depth.js';
import { check } from '../errors.js';
import type { Interval } from '../measures/bootstrap.js';
import { closedFormCases, invarianceCases } from '../experiments/gdv.js';
import { kendallTauB } from '../measures/regression.js';
import { barChart, lineChart } from '../report/chart.js';
import { verdictOf, type Claim, type ClaimContext, type Outcome, type Verdict } from './claim.js';

const TOLERANCE = 1e-9;

export const gdvClosedForms: Claim = {
  id: 'gdv-closed-forms',
  group: 'gdv',
  statement: 'The generalised discrimination value takes its closed forms on point-like classes (−1, −1/(2√(p(1−p))), −√(2/3)) and is invariant ' +
    'to translation, scaling and duplicated features.',
  paper: 'Schilling, Metzner, Rietsch, Gerum, Schulze, Krauss. How deep is deep enough? Quantifying class separability in the hidden layers ' +
    'of deep neural networks. 2018',
  rule: `Holds when every closed-form case and every transformed Gaussian mixture gives its expected GDV to within ${TOLERANCE} (absolute); ` +
    'does not hold otherwise.',

  async run(ctx: ClaimContext): Promise<Outcome> {
    const cases = [...closedFormCases(), ...invarianceCases(ctx.seed)];
    const worst = Math.max(...cases.map((c) => Math.abs(c.measured - c.expected)));
    const holds = worst <= TOLERANCE;
    const mixture = cases.find((c) => c.name === 'mixture')!.measured;
    return {
      verdict: verdictOf(holds),
      reason: `${cases.length} cases, largest deviation ${worst.toExponential(1)} (tolerance ${TOLERANCE}); ` +
        `90/10 → ${cases[1].measured.toFixed(4)}, mixture GDV ${mixture.toFixed(4)} under 4 transformations`,
      figures: cases.map((c) => ({ name: c.name, value: c.measured, paper: c.expected })),
      charts: [
        {
          name: 'gdv-closed-forms',
          title: 'GDV: closed-form cases and invariances',
          spec: barChart({
            title: 'GDV per case (expected value in the figures table)',
            x: 'case',
            y: 'GDV',
            data: cases.map((c) => ({ case: c.label, GDV: c.measured })),
          }),
        },
      ],
      runs: [],
    };
  },
};

/** 95% quantile of Student's t with 4 degrees of freedom: the interval of a mean over 5 blocks. */
const T975_DF4 = 2.7764451051977987;

/** Disjoint blocks of the held-out digits the GDV is also measured on (Sample.blocks, src/experiments/depth.ts). */
const DBN_BLOCKS = 10;

/** A mean of 5 block values with its 95% t-interval (the blocks are independent samples of digits). */
export function blockMean(values: number[]): Interval {
  check(values.length === 5, () => `a t-interval over ${values.length} blocks: the rule uses 5`);
  const mean = values.reduce((a, b) => a + b, 0) / 5;
  const half = (T975_DF4 * Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / 4)) / Math.sqrt(5);
  return { estimate: mean, lower: mean - half, upper: mean + half };
}

/** The sign of a difference that must be > 0: 'above' when its interval lies above 0, 'below' when below, 'within' otherwise. */
const sideOf = (d: Interval) => (d.lower > 0 ? 'above' : d.upper < 0 ? 'below' : 'within');

/**
 * The rule of gdv-dbn-depth on one curve (layer 0 the input, layers 1 … L with L even), each layer
 * with its GDV on 10 disjoint blocks of the held-out digits. Pair m is the mean of layers 2m − 1 and
 * 2m, which cancels the odd/even zig-zag; blocks 0–4 choose the best interior pair (2 … L/2 − 1),
 * blocks 5–9 measure, with 95% t-intervals over those 5 blocks,
 *   improvement I = pair 1 − best pair   and   worsening W = last pair − best pair,
 * both > 0 when the curve improves to the best pair and the deepest layers are worse than it.
 */
export function judgeDbnCurve<T extends { layer: number; gdv: number; blockGdv: number[] }>(layers: T[]) {
  const L = layers.length - 1;
  check(L >= 6 && L % 2 === 0 && layers.every((l) => l.blockGdv.length === DBN_BLOCKS),
    () => `gdv-dbn-depth judges an even number ≥ 6 of layers with ${DBN_BLOCKS} blocks each, got ${L} layers`);
  const pairs = Array.from({ length: L / 2 }, (_, m) => layers[2 * m + 1].blockGdv.map((g, b) => (g + layers[2 * m + 2].blockGdv[b]) / 2));
  const chooser = (pair: number[]) => pair.slice(0, 5).reduce((a, b) => a + b, 0);
  let best = 1;
  for (let m = 2; m < pairs.length - 1; m++) if (chooser(pairs[m]) < chooser(pairs[best])) best = m;
  const against = (m: number) => blockMean(pairs[m].slice(5).map((g, b) => g - pairs[best][5 + b]));
  const [improvement, worsening] = [against(0), against(pairs.length - 1)];
  const sides = [sideOf(improvement), sideOf(worsening)];
  const verdict: Verdict = sides.includes('below') ? 'does not hold' : sides.every((x) => x === 'above') ? 'holds' : 'inconclusive';
  // Layers of the best pair, numbered from 1.
  return { bestPair: [2 * best + 1, 2 * best + 2], lowest: lowest(layers), improvement, worsening, verdict };
}

/** The verdict of several parts: does not hold if one does not, holds if all hold, inconclusive otherwise. */
const combined = (verdicts: Verdict[]): Verdict =>
  verdicts.includes('does not hold') ? 'does not hold' : verdicts.every((v) => v === 'holds') ? 'holds' : 'inconclusive';

const DBN_PLANS = {
  quick: { runs: [{ width: 100, epochs: 3 }], layers: 40, trainSize: 4000, samplePoints: 1000 },
  full: {
    runs: [{ width: 100, epochs: 3 }, { width: 100, epochs: 10 }, { width: 100, epochs: 30 }, { width: 250, epochs: 10 }, { width: 500, epochs: 10 }],
    layers: 40,
    trainSize: 8000,
    samplePoints: 2000,
  },
} as const;

const fmtI = (d: Interval) => `${d.estimate.toFixed(4)} [${d.lower.toFixed(4)}, ${d.upper.toFixed(4)}]`;

export const gdvDbnDepth: Claim = {
  id: 'gdv-dbn-depth',
  group: 'gdv',
  statement: 'In a deep belief network trained unsupervised on MNIST, the GDV improves over the first layers and worsens again past some depth ' +
    '(the paper: past about layer 30), which points to an optimal depth.',
  paper: gdvClosedForms.paper,
  rule: 'For each run (40 binary RBM layers, CD-1, GDV of the hidden probabilities of held-out digits, also on 10 disjoint blocks of them): ' +
    'pair m is the mean GDV of layers 2m − 1 and 2m (the odd/even zig-zag cancels); blocks 1–5 choose the best pair among pairs 2–19 ' +
    '(layers 3–38), blocks 6–10 measure the improvement (pair 1 − best) and the worsening (pair 20, layers 39–40, − best), each a mean ' +
    'over the 5 blocks with its 95% t-interval. A run holds when both intervals lie above 0, does not hold when one lies below 0 (no ' +
    'improvement past layers 1–2, or the deepest layers better than every earlier pair), and is inconclusive otherwise. The claim holds ' +
    'when every run holds, does not hold when one does not, and is inconclusive otherwise. Full mode: widths 100, 250, 500 at 10 epochs ' +
    'a layer, and the budget study, width 100 at 3 and 30 epochs.',

  async run(ctx: ClaimContext): Promise<Outcome> {
    const plan = DBN_PLANS[ctx.mode];
    const data = { name: 'mnist', seed: ctx.seed, trainSize: plan.trainSize };
    const rbm = { layers: plan.layers, batchSize: 100, lr: 0.05, momentum: 0.9, weightDecay: 2e-4, k: 1, seed: ctx.seed };
    const sample = { points: plan.samplePoints, blocks: DBN_BLOCKS };
    const { source, curves } = dbnDepthCurves(data, sample, [...plan.runs], rbm, ctx.log);
    const n = source.samplePoints;
    const judged = curves.map(({ width, epochs, layers }) => ({ label: `width ${width}, ${epochs} epochs`, layers, ...judgeDbnCurve(layers) }));
    const reason = judged
      .map((j) =>
        `${j.label}: ${j.verdict}; lowest GDV ${j.lowest.gdv.toFixed(4)} at layer ${j.lowest.layer} (input ${j.layers[0].gdv.toFixed(4)}, ` +
        `layer ${plan.layers} ${j.layers[plan.layers].gdv.toFixed(4)}); best pair layers ${j.bestPair.join('–')}, ` +
        `improvement ${fmtI(j.improvement)}, worsening ${fmtI(j.worsening)}`
      )
      .join('; ');
    const series = (j: (typeof judged)[number]) => j.label;
    return {
      verdict: combined(judged.map((j) => j.verdict)),
      reason,
      figures: judged.flatMap((j) => [
        { name: `${j.label}: layer with the lowest GDV`, value: j.lowest.layer, paper: 'about 30 (GDV worsens past it)' },
        { name: `${j.label}: lowest GDV`, value: j.lowest.gdv },
        { name: `${j.label}: best pair (first layer)`, value: j.bestPair[0] },
        { name: `${j.label}: improvement, pair 1 − best`, value: j.improvement.estimate, paper: '> 0' },
        { name: `${j.label}: worsening, layers 39–40 − best`, value: j.worsening.estimate, paper: '> 0' },
      ]),
      charts: [
        {
          name: 'gdv-dbn-depth',
          title: 'GDV per layer of a DBN trained unsupervised on MNIST',
          spec: lineChart({
            title: `GDV per layer, DBN on MNIST (${plan.trainSize} train, GDV of ${n} test digits)`,
            x: 'layer',
            y: 'GDV',
            series: 'run',
            data: judged.flatMap((j) => j.layers.map((l) => ({ layer: l.layer, GDV: l.gdv, run: series(j) }))),
          }),
        },
        {
          name: 'gdv-dbn-saturation',
          title: 'Saturation of the hidden probabilities per layer',
          spec: lineChart({
            title: `Fraction of hidden probabilities below 0.01 or above 0.99, ${n} test digits`,
            x: 'layer',
            y: 'saturated',
            series: 'run',
            data: judged.flatMap((j) => j.layers.slice(1).map((l) => ({ layer: l.layer, saturated: l.saturation!.saturated, run: series(j) }))),
          }),
        },
      ],
      runs: [],
    };
  },
};

/** Kendall τ between layer index and GDV at or below which a curve counts as falling toward the output. */
const FALLING = -0.6;

/** Disjoint blocks of the held-out digits for gdv-backprop's intervals. */
const MLP_BLOCKS = 5;

/**
 * The rule of gdv-backprop on one curve, input to logits, each layer with its GDV on 5 disjoint
 * blocks of the held-out digits: on each block, Kendall τ(layer, GDV) and the logits' GDV minus the
 * input's, each a mean over the blocks with its 95% t-interval. Passes when τ's interval lies at or
 * below FALLING and the difference's below 0; fails when τ's lies above FALLING or the difference's
 * above 0; inconclusive otherwise. τ on a block of a fifth of the digits is noisier than on all of
 * them, so its mean sits nearer 0 than τ of the whole sample: the rule errs toward not passing.
 */
export function judgeBackpropCurve(layers: { layer: number; gdv: number; blockGdv: number[] }[]) {
  check(layers.every((l) => l.blockGdv.length === MLP_BLOCKS), () => `gdv-backprop judges ${MLP_BLOCKS} blocks per layer`);
  const block = (b: number) => layers.map((l) => l.blockGdv[b]);
  const blocks = Array.from({ length: MLP_BLOCKS }, (_, b) => block(b));
  const tau = blockMean(blocks.map((g) => kendallTauB(layers.map((l) => l.layer), g)));
  const drop = blockMean(blocks.map((g) => g[g.length - 1] - g[0]));
  const [input, logits] = [layers[0].gdv, layers[layers.length - 1].gdv];
  const wholeTau = kendallTauB(layers.map((l) => l.layer), layers.map((l) => l.gdv));
  const passes = tau.upper <= FALLING && drop.upper < 0;
  const fails = tau.lower > FALLING || drop.lower > 0;
  return { tau, drop, wholeTau, input, logits, verdict: (passes ? 'holds' : fails ? 'does not hold' : 'inconclusive') as Verdict };
}

/** Test accuracy an MLP must reach for its curve to count. */
const TRAINED = 0.9;

/** The 95% Wilson score interval of a proportion p measured on n trials (Wilson 1927). */
export function wilsonInterval(p: number, n: number): Interval {
  const z = 1.959963985;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = ((z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n)));
  return { estimate: p, lower: centre - half, upper: centre + half };
}

const MLP_PLANS = {
  quick: { depths: [2, 4, 8], width: 256, epochs: 5, trainSize: 8000, samplePoints: 1000 },
  full: { depths: [2, 4, 8, 16], width: 256, epochs: 10, trainSize: 8000, samplePoints: 2000 },
} as const;

export const gdvBackprop: Claim = {
  id: 'gdv-backprop',
  group: 'gdv',
  statement: 'In MLPs trained by backprop, the GDV falls toward the output layer (the journal version adds: along a common curve over relative ' +
    'depth, which the chart shows and the rule does not judge).',
  paper: gdvClosedForms.paper,
  rule: 'For every depth run (MLPs of width 256, He init, on standardised MNIST, Adam; GDV at the input, each hidden pre-activation and the ' +
    `logits of held-out digits, on ${MLP_BLOCKS} disjoint blocks of them): on each block Kendall τ between layer index and GDV, and the ` +
    "logits' GDV minus the input's, each a mean over the blocks with its 95% t-interval. A depth passes when τ's interval lies at or below " +
    `${FALLING} and the difference's below 0, fails when τ's lies above ${FALLING} or the difference's above 0. Holds when every depth ` +
    'passes; does not hold when one fails; inconclusive otherwise, and whenever an MLP\'s test accuracy is not above ' +
    `${100 * TRAINED}% by its 95% Wilson interval (not trained well enough to speak for trained networks).`,

  async run(ctx: ClaimContext): Promise<Outcome> {
    const plan = MLP_PLANS[ctx.mode];
    const data = { name: 'mnist', seed: ctx.seed, trainSize: plan.trainSize };
    const options = { ...plan, depths: [...plan.depths], batchSize: 128, lr: 1e-3, seed: ctx.seed, blocks: MLP_BLOCKS, progress: ctx.progress };
    const { curves } = mlpDepthCurves(ctx.store, data, options, 'claim', ctx.log);
    const judged = curves.map((c) => ({ ...c, ...judgeBackpropCurve(c.layers), accuracy: wilsonInterval(c.testAccuracy, c.testPoints) }));
    const trained = judged.every((j) => j.accuracy.lower > TRAINED);
    const pct = (x: number) => (100 * x).toFixed(1);
    return {
      verdict: trained ? combined(judged.map((j) => j.verdict)) : 'inconclusive',
      reason: judged
        .map((j) =>
          `depth ${j.depth}: ${j.verdict}; GDV ${j.input.toFixed(3)} → ${j.logits.toFixed(3)}, logits − input on blocks ${fmtI(j.drop)}, ` +
          `τ ${j.wholeTau.toFixed(2)} (on blocks ${fmtI(j.tau)}), test ${pct(j.accuracy.estimate)}% [${pct(j.accuracy.lower)}, ${pct(j.accuracy.upper)}]`
        )
        .join('; '),
      figures: judged.flatMap((j) => [
        { name: `depth ${j.depth}: GDV of the logits`, value: j.logits, paper: 'lowest toward the output' },
        { name: `depth ${j.depth}: Kendall τ (layer, GDV)`, value: j.wholeTau, paper: 'negative: falls with depth' },
        { name: `depth ${j.depth}: Kendall τ, mean over blocks`, value: j.tau.estimate, paper: `≤ ${FALLING}` },
        { name: `depth ${j.depth}: test accuracy`, value: j.testAccuracy },
      ]),
      charts: [
        {
          name: 'gdv-backprop',
          title: 'GDV over relative depth of MLPs trained by backprop',
          spec: lineChart({
            title: `GDV over relative depth, MLPs of width ${plan.width} on MNIST (input 0, logits 1)`,
            x: 'relative depth',
            y: 'GDV',
            series: 'hidden layers',
            data: judged.flatMap((j) => j.layers.map((l) => ({ 'relative depth': l.relativeDepth, GDV: l.gdv, 'hidden layers': j.depth }))),
          }),
        },
      ],
      runs: judged.map((j) => j.runId),
    };
  },
};
