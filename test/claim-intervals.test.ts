/**
 * The intervals and the three-way verdict that claims judge thresholds with (src/measures/bootstrap.ts):
 * the Wilson and t intervals against scipy (Debian's /usr/bin/python3; skipped, saying why,
 * without it) and against closed forms that need no Python, the t interval on a hand example, the
 * two-stage bootstrap's spread, the verdict on intervals inside, across and outside their bands, and
 * the du sweeps' initialisation seed, which the du claims repeat over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { twoLayerWidthSweep } from '../src/experiments/du.js';
import { meanInterval, twoStageDraws, verdictOfBands, wilsonInterval } from '../src/measures/bootstrap.js';
import { PYTHON, pythonUnavailable } from './python.js';

const noScipy = pythonUnavailable('scipy.stats');
// jStat's quantiles are good to a few 1e-10 relative (its t quantile: 1.6e-10 at t(0.975, 2)).
const close = (a: number, b: number, tol: number, what: string): void => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('the Wilson interval at 0 successes is [0, z²/(n + z²)]', () => {
  const z = 1.959963984540054; // Φ⁻¹(0.975)
  const none = wilsonInterval(0, 50);
  close(none.lower, 0, 1e-12, 'Wilson lower end at 0 of 50');
  close(none.upper, (z * z) / (50 + z * z), 1e-9, 'Wilson upper end at 0 of 50');
});

test('Wilson and t intervals against scipy: binomtest(...).proportion_ci(method="wilson"), t.interval', { skip: noScipy ?? false }, () => {
  const cases = [[1924, 2000, 0.95], [178, 2000, 0.95], [3, 10, 0.9], [50, 50, 0.99]] as const;
  const samples = [[1, 2, 3], [0.61, 0.63, 0.65, 0.6, 0.64], [-2.5, 0.1, 7, 3.3]];
  const script = 'import json, sys\nimport numpy as np\nfrom scipy.stats import binomtest, sem, t\n' +
    'cases, samples = json.loads(sys.argv[1]), json.loads(sys.argv[2])\n' +
    'print(json.dumps({"wilson": [list(binomtest(k, n).proportion_ci(confidence_level=c, method="wilson")) for k, n, c in cases],' +
    ' "t": [list(t.interval(0.95, len(x) - 1, loc=np.mean(x), scale=sem(x))) for x in samples]}))';
  const r = spawnSync(PYTHON, ['-c', script, JSON.stringify(cases), JSON.stringify(samples)], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const want = JSON.parse(r.stdout) as { wilson: [number, number][]; t: [number, number][] };
  cases.forEach(([k, n, level], i) => {
    const got = wilsonInterval(k, n, level);
    close(got.estimate, k / n, 1e-15, `estimate ${k}/${n}`);
    close(got.lower, want.wilson[i][0], 1e-8, `lower ${k}/${n} at ${level}`);
    close(got.upper, want.wilson[i][1], 1e-8, `upper ${k}/${n} at ${level}`);
  });
  samples.forEach((x, i) => {
    const got = meanInterval(x);
    close(got.lower, want.t[i][0], 1e-8, `t interval lower of ${x}`);
    close(got.upper, want.t[i][1], 1e-8, `t interval upper of ${x}`);
  });
});

test('mean interval: x̄ ± t(0.975, n − 1)·s/√n on a hand example', () => {
  const i = meanInterval([1, 2, 3]); // mean 2, s = 1, t(0.975, 2) = 4.302652729749464
  close(i.estimate, 2, 1e-15, 'mean');
  close(i.upper - 2, 4.302652729749464 / Math.sqrt(3), 1e-9, 'half-width');
  close(2 - i.lower, 4.302652729749464 / Math.sqrt(3), 1e-9, 'half-width below');
  assert.throws(() => meanInterval([1]), /1 values/);
});

test('two-stage bootstrap: one group spreads as its binomial, groups far apart widen the spread; seeded', () => {
  const moments = (d: Float64Array) => {
    const m = d.reduce((s, v) => s + v, 0) / d.length;
    return { mean: m, variance: d.reduce((s, v) => s + (v - m) ** 2, 0) / (d.length - 1) };
  };
  // One group of 200 at 0.1: Binomial draws, variance p(1 − p)/n = 4.5e-4 (B = 4000: the sample variance within ±7%, 3σ).
  const one = moments(twoStageDraws([{ successes: 20, trials: 200 }], 4000, 1));
  close(one.mean, 0.1, 0.0015, 'mean of one group');
  assert.ok(Math.abs(one.variance / 4.5e-4 - 1) < 0.07, `variance of one group: ${one.variance}`);
  // Two groups at 0.05 and 0.15: stage one gives the mean a variance 0.05²/2 = 1.25e-3, stage two adds
  // E[p(1 − p)]/(2·200) = 0.0875/400 = 2.19e-4; the binomial alone would give 2.19e-4.
  const two = moments(twoStageDraws([{ successes: 10, trials: 200 }, { successes: 30, trials: 200 }], 4000, 1));
  assert.ok(Math.abs(two.variance / 1.469e-3 - 1) < 0.1, `variance of two groups: ${two.variance}`);
  assert.deepEqual(twoStageDraws([{ successes: 3, trials: 10 }], 5, 7), twoStageDraws([{ successes: 3, trials: 10 }], 5, 7));
});

test('verdict of bands: inside holds, across an end is inconclusive, wholly outside does not hold', () => {
  const iv = (lower: number, upper: number) => ({ estimate: (lower + upper) / 2, lower, upper });
  const chance = { low: 0.08, high: 0.12 };
  const atLeast = { low: 0.95, high: Infinity };
  assert.equal(verdictOfBands([[iv(0.083, 0.116), chance], [iv(0.953, 0.97), atLeast]]), 'holds');
  assert.equal(verdictOfBands([[iv(0.075, 0.116), chance], [iv(0.953, 0.97), atLeast]]), 'inconclusive');
  assert.equal(verdictOfBands([[iv(0.083, 0.116), chance], [iv(0.948, 0.966), atLeast]]), 'inconclusive');
  assert.equal(verdictOfBands([[iv(0.121, 0.15), chance], [iv(0.953, 0.97), atLeast]]), 'does not hold');
  // A failed requirement decides even when another interval straddles.
  assert.equal(verdictOfBands([[iv(0.075, 0.116), chance], [iv(0.9, 0.94), atLeast]]), 'does not hold');
  assert.equal(verdictOfBands([[iv(NaN, NaN), chance]]), 'inconclusive');
});

test('du width sweep: initSeed changes the initialisation, not the data; by default it is the seed', () => {
  const plan = { n: 10, d: 5, widths: [30], steps: 5, seed: 3 };
  const [base, same, other] = [twoLayerWidthSweep(plan), twoLayerWidthSweep({ ...plan, initSeed: 3 }), twoLayerWidthSweep({ ...plan, initSeed: 4 })];
  assert.deepEqual(same.points[0].losses, base.points[0].losses);
  assert.equal(other.lambda0, base.lambda0); // the same data, so the same H∞
  assert.notEqual(other.points[0].losses[0], base.points[0].losses[0]); // another initialisation, another u(0)
});
