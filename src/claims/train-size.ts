/**
 * The training-set size, a finding of this reproduction beside Jiang et al. (2019; docs/papers.md §1):
 * their populations hold the training set fixed, so their regression never has to carry the size
 * n. On a population that varies n (quick: the `quick` grid's 1,000/2,000/4,000 digits; full: the
 * `train-size` grid's 1,000–8,000), does the margin signature carry it? The claim compares the
 * regression on the 20 signature features with the same regression given log n as a 21st feature,
 * by the paired bootstrap of src/measures/bootstrap.ts on the same folds, and reports log n alone.
 */
import { bootstrapResamples, bootstrapScores, pairedDifference, percentileInterval } from '../measures/bootstrap.js';
import { crossValidatedR2, foldAssignment, type Rows } from '../measures/regression.js';
import type { EvaluatedPopulation } from '../experiments/margins.js';
import type { Claim, Mode } from './claim.js';
import { FOLDS, fmtI, intervalFigures, PAPER, predictedVsTrue, RESAMPLES, signed, withPopulation } from './margins.js';

/** An improvement in CV R² smaller than this is negligible: the signature is taken to carry the size. */
const MARGIN = 0.05;

const GRID: Record<Mode, string> = { quick: 'quick', full: 'train-size' };

/** The three feature sets compared: the signature, log n, and both. */
function featureSets(e: EvaluatedPopulation): Record<string, Rows> {
  const logN = e.population.runs.map((r) => Math.log(Number(r.hparams.trainSize)));
  const signature = e.population.features.signature;
  return {
    signature,
    'log n': logN.map((v) => Float64Array.of(v)),
    'signature + log n': signature.map((row, i) => Float64Array.of(...row, logN[i])),
  };
}

export const marginsTrainSize: Claim = {
  id: 'margins-train-size',
  group: 'train-size',
  statement: 'On a population that varies the training-set size n, the margin signature carries n: adding log n to its 20 features ' +
    'does not improve the cross-validated prediction of the gap by 0.05 or more.',
  paper: `${PAPER} (a population unlike theirs, which hold n fixed)`,
  rule: `Holds when the upper end of the 95% interval (paired bootstrap over the models, ${RESAMPLES} resamples, percentile ` +
    `interval, same ${FOLDS} folds) of CV R²(signature + log n) − CV R²(signature) is below ${MARGIN}; does not hold when its ` +
    `lower end is above ${MARGIN}; inconclusive otherwise, or when n does not vary.`,
  async run(ctx) {
    return withPopulation(ctx, (e) => {
      const n = e.population.runs.length;
      const sizes = new Set(e.population.runs.map((r) => r.hparams.trainSize));
      if (sizes.size < 2) return { verdict: 'inconclusive', reason: 'the population holds the training-set size fixed', figures: [], charts: [] };
      const sets = featureSets(e);
      const folds = foldAssignment(n, FOLDS, ctx.seed);
      // The population's own resamples (seed + 1, as many as its draws), so this claim rests on the same bootstrap populations.
      const resamples = bootstrapResamples(n, e.draws.signature.cvR2.length, ctx.seed + 1);
      const scored = Object.fromEntries(Object.entries(sets).map(([name, rows]) => {
        const draws = bootstrapScores(rows, e.population.gaps, folds, resamples);
        return [name, { cv: percentileInterval(crossValidatedR2(rows, e.population.gaps, folds).r2, draws.cvR2), draws: draws.cvR2 }];
      }));
      const both = scored['signature + log n'];
      const sig = scored.signature;
      const d = percentileInterval(both.cv.estimate - sig.cv.estimate, pairedDifference(both.draws, sig.draws));
      return {
        verdict: d.upper < MARGIN ? 'holds' : d.lower > MARGIN ? 'does not hold' : 'inconclusive',
        reason: `CV R² (95% intervals) on ${n} models with n ∈ {${[...sizes].join(', ')}}: signature ${fmtI(sig.cv)}, log n alone ` +
          `${fmtI(scored['log n'].cv)}, signature + log n ${fmtI(both.cv)}; adding log n ${signed(d)}`,
        figures: [
          ...Object.entries(scored).flatMap(([name, s]) => intervalFigures(`${name}: CV R²`, s.cv)),
          ...intervalFigures('CV R² gained by adding log n', d),
          { name: 'models', value: n },
        ],
        charts: [predictedVsTrue(e, ctx.seed), predictedVsTrue(e, ctx.seed, 'signature + log n', sets['signature + log n'])],
      };
    }, GRID[ctx.mode]);
  },
};
