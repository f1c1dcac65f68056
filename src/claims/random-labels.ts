/**
 * Zhang et al. (ICLR 2017), the seed's starting point and paper 1's motivation: a network that fits
 * random labels perfectly generalises at chance, so training loss alone says nothing about the gap.
 *
 * The claim judges the random-label experiment of src/experiments/random-labels.ts: the same MLP on
 * MNIST digits with the true labels and with several random labelings, tested on the true labels.
 */
import { randomLabelRuns, type RandomLabelPlan, type TrainedRun } from '../experiments/random-labels.js';
import { lineChart } from '../report/chart.js';
import type { Claim, ClaimContext, Outcome } from './claim.js';

const CHANCE = 0.1;

// The test accuracy of one memorised random labeling scatters around 10% with a standard deviation
// of about 1.3 points (measured: 8.7%, 11.4%, 11.4% for three labelings of 4,000 digits), because
// similar test digits inherit the labels of the same few training digits; the mean of several
// labelings estimates the expected accuracy the claim is about.
const PLANS: Record<'quick' | 'full', RandomLabelPlan> = {
  quick: { trueSize: 8000, randomSize: 4000, labelings: 2, trueEpochs: 12, randomEpochs: 150 },
  full: { trueSize: 8000, randomSize: 8000, labelings: 4, trueEpochs: 30, randomEpochs: 300 },
};

export const randomLabels: Claim = {
  id: 'random-labels',
  group: 'random-labels',
  statement: 'A network that fits random labels perfectly generalises at chance: training accuracy alone says nothing about test accuracy.',
  paper: 'Zhang, Bengio, Hardt, Recht, Vinyals. Understanding deep learning requires rethinking generalization. ICLR 2017',
  rule: 'Holds when the MLP reaches ≥ 99% training accuracy with the true labels and with every random labeling, ≥ 95% test ' +
    'accuracy with true labels, and a mean test accuracy over the random labelings within 2 points of 10%. Does not hold when ' +
    'all runs reach 99% training accuracy but a test condition fails. Inconclusive when a run stays below 99% training accuracy ' +
    'within its epoch budget.',

  async run(ctx: ClaimContext): Promise<Outcome> {
    const plan = PLANS[ctx.mode];
    const { truth, random } = randomLabelRuns(plan, ctx);
    const runs = [truth, ...random];
    const t = truth.final;
    const mean = (f: (r: TrainedRun) => number): number => random.reduce((a, r) => a + f(r), 0) / random.length;
    const randomTrain = Math.min(...random.map((r) => r.final.trainAccuracy));
    const randomTest = mean((r) => r.final.testAccuracy);
    const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
    const fitted = t.trainAccuracy >= 0.99 && randomTrain >= 0.99;
    const generalises = t.testAccuracy >= 0.95;
    const chance = Math.abs(randomTest - CHANCE) <= 0.02;
    const verdict = !fitted ? 'inconclusive' : generalises && chance ? 'holds' : 'does not hold';
    const reason = `true labels: train ${pct(t.trainAccuracy)}, test ${pct(t.testAccuracy)}; ` +
      `random labels (${random.length} labelings of ${plan.randomSize} digits): train ≥ ${pct(randomTrain)}, ` +
      `test ${random.map((r) => pct(r.final.testAccuracy)).join(', ')}, mean ${pct(randomTest)} (chance 10%)`;
    const curve = (r: TrainedRun, labels: string) =>
      r.epochs.flatMap((e) => [
        { epoch: e.epoch, series: `${labels}, train (running)`, accuracy: e.trainAccuracy },
        { epoch: e.epoch, series: `${labels}, test`, accuracy: e.testAccuracy ?? NaN },
      ]);
    const rows = [...curve(truth, 'true labels'), ...random.flatMap((r, k) => curve(r, `random labeling ${k + 1}`))];
    return {
      verdict,
      reason,
      runs: runs.map((r) => r.id),
      figures: [
        { name: 'train accuracy, true labels', value: t.trainAccuracy, paper: 1.0 },
        { name: 'test accuracy, true labels', value: t.testAccuracy },
        { name: 'lowest train accuracy, random labels', value: randomTrain, paper: 1.0 },
        { name: 'mean test accuracy, random labels', value: randomTest, paper: CHANCE },
        { name: 'mean epochs to fit random labels', value: mean((r) => r.final.epochs) },
        { name: 'training seconds, all runs', value: runs.reduce((a, r) => a + r.final.seconds, 0), unit: 's' },
      ],
      charts: [
        {
          name: 'random-labels-accuracy',
          title: 'Accuracy per epoch, true vs random labels',
          spec: lineChart({ title: 'MNIST MLP: accuracy per epoch', x: 'epoch', y: 'accuracy', series: 'series', data: rows }),
        },
      ],
    };
  },
};
