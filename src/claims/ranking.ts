/**
 * The ranking of generalisation measures, two findings on one population:
 * - Jiang, Krishnan, Mobahi, Bengio (ICLR 2019; docs/papers.md §1): the margin-signature regression
 *   predicts the gap better than the classic measures (norms, sharpness, output margin);
 * - Jiang, Neyshabur, Mobahi, Krishnan, Bengio, "Fantastic Generalization Measures and Where to Find
 *   Them" (ICLR 2020): by the granulated Kendall coefficient Ψ, the flatness measures — PAC-Bayes
 *   flatness and its magnitude-aware variant — rank above the norm and spectral measures.
 * Population: quick, the `quick` MLP zoo; full, the `paper` zoo of network-in-network CNNs on one
 * fixed Fashion-MNIST training set (src/experiments/zoo.ts), every model measured with the benchmark
 * (src/measures/benchmark.ts). Ψ is taken of each measure as Jiang et al. orient it, a complexity
 * that grows with the gap (a margin enters negated), not of a fitted sign, so a measure that moves
 * against the gap scores below zero. Every compared number comes with a 95% percentile interval of a
 * paired bootstrap over the models (src/measures/bootstrap.ts); Ψ is taken on each resample's
 * distinct models (a subsample of about 63%, so its interval is conservative), since copies of a model
 * tie with each other and would pull every draw of Ψ towards 0.
 */
import { bootstrapResamples, percentileInterval, type Interval } from '../measures/bootstrap.js';
import { granulatedKendall } from '../measures/ranking.js';
import type { EvaluatedPopulation } from '../experiments/margins.js';
import { dotChart } from '../report/chart.js';
import type { Claim, Figure } from './claim.js';
import { fmt, fmtI, intervalFigures, POPULATION, RESAMPLES, signed, withPopulation } from './margins.js';

const PAPERS = 'Jiang, Krishnan, Mobahi, Bengio, ICLR 2019; Jiang, Neyshabur, Mobahi, Krishnan, Bengio. Fantastic Generalization Measures and ' +
  'Where to Find Them. ICLR 2020';

const CLASSIC = ['baseline: spectral', 'baseline: frobenius', 'baseline: distInit', 'baseline: pathNorm', 'baseline: sharpness', 'baseline: outputMargin'];
const FLATNESS = ['pac-bayes: flatness', 'pac-bayes: magnitude-aware flatness'];
const NORMS = ['baseline: spectral', 'baseline: frobenius', 'baseline: distInit', 'baseline: pathNorm', 'spectra: alpha', 'spectra: alpha-weighted',
  'spectra: log spectral norm', 'spectra: log norm'];
/** Measures that shrink as the gap grows (margins), negated to orient them as complexities. */
const MARGIN_LIKE = new Set(['baseline: spectral', 'baseline: outputMargin']);

/** Ψ of every one-feature measure of the population, oriented, on the models `idx` (all when omitted). */
function psiOf(e: EvaluatedPopulation, name: string, idx?: Int32Array): number {
  const p = e.population;
  const sign = MARGIN_LIKE.has(name) ? -1 : 1;
  // A resample's distinct models: a copy of a model ties with it in measure and gap, which τ (eq. (3)) scores 0 in its
  // denominator, so copies would pull every draw towards 0; without them a draw is a subsample of about 63% of the models.
  const at = idx ? [...new Set(idx)] : Array.from(p.gaps, (_, i) => i);
  const measure = Float64Array.from(at, (i) => sign * p.features[name][i][0]);
  return granulatedKendall(measure, Float64Array.from(at, (i) => p.gaps[i]), at.map((i) => p.hparams[i])).psi;
}

/** The largest of `names`' values in one draw. */
const best = (values: Record<string, number>, names: string[]): number => Math.max(...names.map((n) => values[n]));

/** max over `a` minus max over `b` of a score, with its paired bootstrap interval. */
function bestDifference(estimates: Record<string, number>, draws: Record<string, number>[], a: string[], b: string[]): Interval {
  return percentileInterval(best(estimates, a) - best(estimates, b), draws.map((d) => best(d, a) - best(d, b)));
}

export const measuresRanking: Claim = {
  id: 'measures-ranking',
  group: 'margins',
  statement: 'The margin signature predicts the gap better than the classic measures (2019), and the PAC-Bayes flatness measures rank above ' +
    'the norm and spectral measures by the granulated Kendall Ψ (2020).',
  paper: PAPERS,
  rule: `Two differences, each with the 95% interval of a paired bootstrap over the models (${RESAMPLES} resamples, percentile): (a) the ` +
    "signature's 10-fold CV R² minus the best classic measure's (spectral margin, Frobenius product, distance from initialisation, path norm, " +
    'sharpness, output margin); (b) the better PAC-Bayes flatness Ψ minus the best Ψ of the norm and spectral measures (the four norm ' +
    'baselines and WeightWatcher’s α, α-weighted, log spectral norm, log norm), each measure oriented to grow with the gap, the best taken ' +
    'within each resample, Ψ on the resample’s distinct models. Holds when both intervals lie above 0, does not hold when one lies below 0, inconclusive otherwise or when a ' +
    'measure is missing from the population.',
  async run(ctx) {
    return withPopulation(ctx, (e) => {
      const missing = [...CLASSIC, ...FLATNESS, ...NORMS].filter((n) => !(n in e.population.features));
      if (missing.length) return { verdict: 'inconclusive', reason: `the population lacks ${missing.join(', ')}`, figures: [], charts: [] };
      const n = e.population.runs.length;
      const r2 = Object.fromEntries(e.rows.map((r) => [r.measure, r.cvR2]));
      const resamplesDrawn = e.draws.signature.cvR2.length;
      const r2Draws = Array.from({ length: resamplesDrawn }, (_, b) => Object.fromEntries(Object.entries(e.draws).map(([m, d]) => [m, d.cvR2[b]])));
      const a = bestDifference(r2, r2Draws, ['signature'], CLASSIC);
      const ranked = [
        ...new Set([...FLATNESS, ...NORMS, ...CLASSIC, ...Object.keys(e.population.features).filter((m) => e.population.features[m][0]?.length === 1)]),
      ];
      const psi = Object.fromEntries(ranked.map((m) => [m, psiOf(e, m)]));
      // The same resamples as the CV R² draws (seed + 1), so (a) and (b) rest on the same bootstrap populations.
      const resamples = bootstrapResamples(n, resamplesDrawn, ctx.seed + 1);
      const psiDraws = resamples.map((idx) => Object.fromEntries([...FLATNESS, ...NORMS].map((m) => [m, psiOf(e, m, idx)])));
      const b = bestDifference(psi, psiDraws, FLATNESS, NORMS);
      const topNorm = NORMS.reduce((x, y) => (psi[y] > psi[x] ? y : x));
      const topFlat = FLATNESS.reduce((x, y) => (psi[y] > psi[x] ? y : x));
      const verdict = a.lower > 0 && b.lower > 0 ? 'holds' : a.upper < 0 || b.upper < 0 ? 'does not hold' : 'inconclusive';
      const table = ranked.map((m) => ({ measure: m, psi: psi[m], r2: r2[m] })).sort((x, y) => y.psi - x.psi);
      const figures: Figure[] = [
        ...intervalFigures('(a) signature CV R² − best classic CV R²', a),
        ...intervalFigures('(b) best PAC-Bayes flatness Ψ − best norm/spectral Ψ', b),
        ...table.flatMap((t) => [{ name: `${t.measure}: Ψ`, value: t.psi }, { name: `${t.measure}: CV R²`, value: t.r2 }]),
        { name: 'models', value: n },
      ];
      const data = table.flatMap((t) => [{ measure: t.measure, score: 'Ψ (oriented)', value: t.psi }, { measure: t.measure, score: 'CV R²', value: t.r2 }]);
      return {
        verdict,
        reason: `${n} models (${POPULATION[ctx.mode]} zoo). (a) signature CV R² ${fmt(r2.signature)} − best classic ${signed(a)}; (b) ` +
          `${topFlat} Ψ ${fmt(psi[topFlat])} − ${topNorm} Ψ ${fmt(psi[topNorm])}: ${fmtI(b)} (95% intervals)`,
        figures,
        charts: [{
          name: 'measures-ranking',
          title: 'Generalisation measures ranked by granulated Kendall Ψ, with their CV R²',
          spec: dotChart({ title: `Measures on ${n} models: Ψ (oriented) and CV R² of the gap`, category: 'measure', value: 'value', series: 'score', data }),
        }],
      };
    }, POPULATION[ctx.mode], true);
  },
};
