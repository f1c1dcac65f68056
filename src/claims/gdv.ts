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
import { closedFormCases, invarianceCases } from '../experiments/gdv.js';
import { kendallTauB } from '../measures/regression.js';
import { barChart, lineChart } from '../report/chart.js';
import { verdictOf, type Claim, type ClaimContext, type Outcome } from './claim.js';

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

/** How much the deepest layer must be worse than the best one to count as worsening: 5% of |best GDV|. */
const WORSENING = 0.05;

/**
 * The rule of gdv-dbn-depth on one curve (layer 0 the input): where the GDV is lowest, whether it
 * improves to there and worsens after.
 */
export function judgeDbnCurve<T extends { layer: number; gdv: number }>(layers: T[]) {
  const best = lowest(layers);
  const last = layers[layers.length - 1];
  const improves = best.layer >= 2 && best.gdv < layers[1].gdv;
  const worsening = (last.gdv - best.gdv) / Math.abs(best.gdv);
  return { best, input: layers[0].gdv, first: layers[1].gdv, last: last.gdv, improves, worsens: worsening >= WORSENING, worsening };
}

const DBN_PLANS = {
  quick: { widths: [100], layers: 40, epochs: 3, trainSize: 4000, samplePoints: 1000 },
  full: { widths: [100, 250, 500], layers: 40, epochs: 10, trainSize: 8000, samplePoints: 2000 },
} as const;

export const gdvDbnDepth: Claim = {
  id: 'gdv-dbn-depth',
  group: 'gdv',
  statement: 'In a deep belief network trained unsupervised on MNIST, the GDV improves over the first layers and worsens again past some depth ' +
    '(the paper: past about layer 30), which points to an optimal depth.',
  paper: gdvClosedForms.paper,
  rule: 'For each width run (40 binary RBM layers, CD-1, GDV of the hidden probabilities of held-out digits): ' +
    `the lowest GDV must lie at layer ≥ 2 and below ` +
    `layer 1's (improves), and the deepest layer's GDV must exceed the lowest by ≥ ${100 * WORSENING}% of |lowest| (worsens). Holds when every width ` +
    'improves and worsens; does not hold otherwise (the reason says which part failed).',

  async run(ctx: ClaimContext): Promise<Outcome> {
    const plan = DBN_PLANS[ctx.mode];
    const data = { name: 'mnist', seed: ctx.seed, trainSize: plan.trainSize };
    const rbm = { layers: plan.layers, epochs: plan.epochs, batchSize: 100, lr: 0.05, momentum: 0.9, weightDecay: 2e-4, k: 1, seed: ctx.seed };
    const { source, curves } = dbnDepthCurves(data, plan.samplePoints, [...plan.widths], rbm, ctx.log);
    const n = source.samplePoints;
    const judged = curves.map(({ width, layers }) => ({ width, ...judgeDbnCurve(layers) }));
    const holds = judged.every((j) => j.improves && j.worsens);
    const reason = judged
      .map((j) =>
        `width ${j.width}: lowest GDV ${j.best.gdv.toFixed(4)} at layer ${j.best.layer} (input ${j.input.toFixed(4)}, layer 1 ${j.first.toFixed(4)}, ` +
        `layer ${plan.layers} ${j.last.toFixed(4)}, ${(100 * j.worsening).toFixed(1)}% worse than the lowest` +
        `${j.improves ? '' : '; does not improve past layer 1'}${j.worsens ? '' : `; does not worsen by ${100 * WORSENING}% within ${plan.layers} layers`})`
      )
      .join('; ');
    return {
      verdict: verdictOf(holds),
      reason,
      figures: judged.flatMap((j) => [
        { name: `width ${j.width}: layer with the lowest GDV`, value: j.best.layer, paper: 'about 30 (GDV worsens past it)' },
        { name: `width ${j.width}: lowest GDV`, value: j.best.gdv },
        { name: `width ${j.width}: GDV of the input`, value: j.input },
        { name: `width ${j.width}: GDV at layer ${plan.layers}`, value: j.last, paper: 'worse than at the best layer' },
      ]),
      charts: [
        {
          name: 'gdv-dbn-depth',
          title: 'GDV per layer of a DBN trained unsupervised on MNIST',
          spec: lineChart({
            title: `GDV per layer, DBN on MNIST (${plan.trainSize} train, GDV of ${n} test digits)`,
            x: 'layer',
            y: 'GDV',
            series: 'width',
            data: curves.flatMap(({ width, layers }) => layers.map((l) => ({ layer: l.layer, GDV: l.gdv, width }))),
          }),
        },
      ],
      runs: [],
    };
  },
};

/** Kendall τ between layer index and GDV at or below which a curve counts as falling toward the output. */
const FALLING = -0.6;

/** The rule of gdv-backprop on one curve, input to logits: the logits below the input and Kendall τ(layer, GDV) ≤ FALLING. */
export function judgeBackpropCurve(layers: { layer: number; gdv: number }[]) {
  const tau = kendallTauB(layers.map((l) => l.layer), layers.map((l) => l.gdv));
  const [input, logits] = [layers[0].gdv, layers[layers.length - 1].gdv];
  return { tau, input, logits, passes: logits < input && tau <= FALLING };
}

/** Test accuracy an MLP must reach for its curve to count. */
const TRAINED = 0.9;

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
    'logits of held-out digits): ' +
    `the logits' GDV is below the input's and Kendall τ between layer index and GDV is ≤ ${FALLING}. ` +
    'Holds when every depth passes; does not hold otherwise; ' +
    `inconclusive when an MLP reaches less than ${100 * TRAINED}% test accuracy (not trained well enough to speak for trained networks).`,

  async run(ctx: ClaimContext): Promise<Outcome> {
    const plan = MLP_PLANS[ctx.mode];
    const data = { name: 'mnist', seed: ctx.seed, trainSize: plan.trainSize };
    const options = { ...plan, depths: [...plan.depths], batchSize: 128, lr: 1e-3, seed: ctx.seed, progress: ctx.progress };
    const { curves } = mlpDepthCurves(ctx.store, data, options, 'claim', ctx.log);
    const judged = curves.map((c) => ({ ...c, ...judgeBackpropCurve(c.layers) }));
    const trained = judged.every((j) => j.testAccuracy >= TRAINED);
    return {
      verdict: !trained ? 'inconclusive' : judged.every((j) => j.passes) ? 'holds' : 'does not hold',
      reason: judged
        .map((j) => `depth ${j.depth}: GDV ${j.input.toFixed(3)} → ${j.logits.toFixed(3)}, τ ${j.tau.toFixed(2)}, test ${(100 * j.testAccuracy).toFixed(1)}%`)
        .join('; '),
      figures: judged.flatMap((j) => [
        { name: `depth ${j.depth}: GDV of the logits`, value: j.logits, paper: 'lowest toward the output' },
        { name: `depth ${j.depth}: Kendall τ (layer, GDV)`, value: j.tau, paper: 'negative: falls with depth' },
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
