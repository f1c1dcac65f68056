/**
 * Zhang et al. (ICLR 2017), the seed's starting point and paper 1's motivation: a network that fits
 * random labels perfectly generalises at chance, so training loss alone says nothing about the gap.
 *
 * The claim judges the random-label experiment of src/experiments/random-labels.ts: the same MLP on
 * MNIST digits with the true labels and with several random labelings, tested on the true labels.
 *
 * Each test accuracy the rule compares carries its 95% interval (src/measures/bootstrap.ts):
 * - true labels: the Wilson interval of the test accuracy on the test set's size (2,000 digits): the
 *   uncertainty from which digits were drawn for testing, about ±0.9 points at 96%. It does not hold
 *   the training's own noise, which one run cannot measure: with OPENBLAS_CORETYPE=Nehalem
 *   ATEN_CPU_CAPABILITY=default the quick true-label run ended at 99.4% train, 94.6% test (interval
 *   [93.5%, 95.5%], inconclusive) where the default kernels gave 99.96%, 96.15% (holds);
 * - random labels: the mean over the labelings with a two-stage bootstrap (labelings drawn with
 *   replacement, then the test digits of each, as a binomial draw from its accuracy and test size):
 *   one labeling's accuracy scatters by more than its binomial spread, because similar test digits
 *   inherit the labels of the same few training digits, so the spread between labelings must enter.
 * Rule change (before: point estimates, holds when test ≥ 95% and |mean − 10%| ≤ 2 points; the last
 * quick run held with test 96.2% and random-label test 8.9%, 11.0%, mean 10.0%): on those numbers the
 * intervals are [95.2%, 96.9%] (96.15% = 1,923 of 2,000) and [8.3%, 11.6%] and the claim still holds; on the last full run's
 * (test 95.8%; 9.6%, 9.4%, 10.4%, 9.6%) the true-label interval [94.8%, 96.6%] straddles 95% and the
 * claim would be inconclusive.
 */
import { randomLabelRuns, type RandomLabelPlan, type TrainedRun } from '../experiments/random-labels.js';
import { percentileInterval, twoStageDraws, verdictOfBands, wilsonInterval, type Interval } from '../measures/bootstrap.js';
import { lineChart } from '../report/chart.js';
import type { Claim, ClaimContext, Outcome } from './claim.js';

const CHANCE = 0.1;
/** Test accuracy with the true labels must be at least this; the mean with random labels within CHANCE ± TOLERANCE. */
const GENERALISES = 0.95;
const TOLERANCE = 0.02;
/** Resamples of the two-stage bootstrap: the ends of a 95% interval rest on the 25th draw from either end. */
const RESAMPLES = 1000;

// The test accuracy of one memorised random labeling scatters around 10% with a standard deviation
// of about 1.3 points (measured: 8.7%, 11.4%, 11.4% for three labelings of 4,000 digits), because
// similar test digits inherit the labels of the same few training digits; the mean of several
// labelings estimates the expected accuracy the claim is about. The quick plan's MLP is Zhang et
// al.'s 3×512 (their Table 1 has 1×512 and 3×512 MLPs), a third of the 1024-wide one's arithmetic,
// so that `reproduce --quick` fits in 10 minutes; it memorises 4,000 random labels in as many epochs.
// Random labels on 2,000 digits were tried and left: their test accuracy sat above chance (10.4%,
// 11.1%, 11.8%; mean interval [10.1%, 12.2%], inconclusive).
const PLANS: Record<'quick' | 'full', RandomLabelPlan> = {
  quick: { spec: 'mlp:784-512-512-10', trueSize: 8000, randomSize: 4000, labelings: 2, trueEpochs: 12, randomEpochs: 150 },
  full: { spec: 'mlp:784-1024-1024-10', trueSize: 8000, randomSize: 8000, labelings: 4, trueEpochs: 30, randomEpochs: 300 },
};

export const randomLabels: Claim = {
  id: 'random-labels',
  group: 'random-labels',
  statement: 'A network that fits random labels perfectly generalises at chance: training accuracy alone says nothing about test accuracy.',
  paper: 'Zhang, Bengio, Hardt, Recht, Vinyals. Understanding deep learning requires rethinking generalization. ICLR 2017',
  rule: 'Inconclusive when a run stays below 99% training accuracy within its epoch budget. Otherwise, with the 95% Wilson ' +
    'interval of the true-label test accuracy (on the test set size) and the 95% two-stage bootstrap interval of the mean ' +
    `random-label test accuracy (labelings with replacement, then test digits within each; ${RESAMPLES} resamples): holds when ` +
    'the first lies at or above 95% and the second inside [8%, 12%]; does not hold when the first lies wholly below 95% or the ' +
    'second wholly outside [8%, 12%]; inconclusive otherwise.',

  async run(ctx: ClaimContext): Promise<Outcome> {
    const plan = PLANS[ctx.mode];
    const { truth, random, testSize } = randomLabelRuns(plan, ctx);
    const runs = [truth, ...random];
    const t = truth.final;
    const mean = (f: (r: TrainedRun) => number): number => random.reduce((a, r) => a + f(r), 0) / random.length;
    const randomTrain = Math.min(...random.map((r) => r.final.trainAccuracy));
    const randomTest = mean((r) => r.final.testAccuracy);
    const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
    const correct = (r: TrainedRun) => Math.round(r.final.testAccuracy * testSize);
    const trueTest = wilsonInterval(correct(truth), testSize);
    const groups = random.map((r) => ({ successes: correct(r), trials: testSize }));
    const chance = percentileInterval(randomTest, twoStageDraws(groups, RESAMPLES, ctx.seed));
    const fitted = t.trainAccuracy >= 0.99 && randomTrain >= 0.99;
    const verdict = !fitted ? 'inconclusive' : verdictOfBands([
      [trueTest, { low: GENERALISES, high: Infinity }],
      [chance, { low: CHANCE - TOLERANCE, high: CHANCE + TOLERANCE }],
    ]);
    const withInterval = (i: Interval) => `${pct(i.estimate)} [${pct(i.lower)}, ${pct(i.upper)}]`;
    const reason = `true labels: train ${pct(t.trainAccuracy)}, test ${withInterval(trueTest)} (${testSize} test digits; rule ≥ 95%); ` +
      `random labels (${random.length} labelings of ${plan.randomSize} digits): train ≥ ${pct(randomTrain)}, ` +
      `test ${random.map((r) => pct(r.final.testAccuracy)).join(', ')}, mean ${withInterval(chance)} (rule inside [8%, 12%])`;
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
        { name: 'test accuracy, true labels, 95% lower (Wilson)', value: trueTest.lower },
        { name: 'test accuracy, true labels, 95% upper (Wilson)', value: trueTest.upper },
        { name: 'lowest train accuracy, random labels', value: randomTrain, paper: 1.0 },
        { name: 'mean test accuracy, random labels', value: randomTest, paper: CHANCE },
        { name: 'mean test accuracy, random labels, 95% lower (two-stage bootstrap)', value: chance.lower },
        { name: 'mean test accuracy, random labels, 95% upper (two-stage bootstrap)', value: chance.upper },
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
