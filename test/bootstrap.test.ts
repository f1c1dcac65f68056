/**
 * The paired bootstrap over models (src/measures/bootstrap.ts): against a numpy re-implementation
 * fed the same resample indices (Debian's numpy at /usr/bin/python3; skipped, saying why, without
 * it), the percentile rule on hand examples, determinism with a seed, and the behaviour the margin
 * claims rely on — two clearly different measures give a difference interval excluding 0, two equal
 * in distribution one including it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Rng } from '../src/data/rng.js';
import { bootstrapResamples, bootstrapScores, pairedDifference, percentileInterval } from '../src/measures/bootstrap.js';
import { crossValidatedR2, foldAssignment } from '../src/measures/regression.js';
import { PYTHON, pythonUnavailable } from './python.js';

const noNumpy = pythonUnavailable('numpy');
const close = (a: number, b: number, tol: number, what: string): void => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

/** n models: features x₁, x₂ ~ N(0, 1) and gaps y = x₁ + x₂ + σ·noise. */
function models(n: number, sigma: number, seed: number): { x1: number[]; x2: number[]; y: Float64Array; rng: Rng } {
  const rng = new Rng(seed);
  const x1 = Array.from({ length: n }, () => rng.normal());
  const x2 = Array.from({ length: n }, () => rng.normal());
  return { x1, x2, y: Float64Array.from(x1, (v, i) => v + x2[i] + sigma * rng.normal()), rng };
}
const column = (...cols: number[][]): Float64Array[] => cols[0].map((_, i) => Float64Array.from(cols, (c) => c[i]));

test('percentile interval: numpy.percentile’s linear rule on hand examples; a NaN draw gives no interval', () => {
  const draws = Float64Array.from({ length: 101 }, (_, i) => 100 - i); // 0 … 100, unsorted
  for (const [level, lower, upper] of [[0.95, 2.5, 97.5], [0.9, 5, 95]]) {
    const i = percentileInterval(7, draws, level);
    assert.equal(i.estimate, 7);
    close(i.lower, lower, 1e-14, `${level} lower`);
    close(i.upper, upper, 1e-14, `${level} upper`);
  }
  // Four draws: positions 0.025·3 = 0.075 and 2.925 between the order statistics 1, 2 and 3, 4.
  const four = percentileInterval(0, [4, 1, 3, 2]);
  close(four.lower, 1.075, 1e-15, 'lower');
  close(four.upper, 3.925, 1e-15, 'upper');
  const nan = percentileInterval(1, [1, NaN, 2]);
  assert.ok(Number.isNaN(nan.lower) && Number.isNaN(nan.upper) && nan.estimate === 1);
  assert.throws(() => percentileInterval(0, []), /0 draws/);
  assert.deepEqual(Array.from(pairedDifference(Float64Array.of(3, 5), Float64Array.of(1, 7))), [2, -2]);
});

test('resamples and draws are determined by the seed', () => {
  const a = bootstrapResamples(30, 50, 4);
  assert.deepEqual(a, bootstrapResamples(30, 50, 4));
  assert.notDeepEqual(a, bootstrapResamples(30, 50, 5));
  assert.equal(a.length, 50);
  assert.ok(a.every((r) => r.length === 30 && r.every((i) => Number.isInteger(i) && i >= 0 && i < 30)));
  // Resampling with replacement: about 1 − 1/e of the models appear in a resample.
  const share = a.reduce((s, r) => s + new Set(r).size, 0) / (50 * 30);
  assert.ok(share > 0.55 && share < 0.72, `distinct share ${share}`);
  const { x1, y } = models(30, 1, 6);
  const rows = column(x1);
  const folds = foldAssignment(30, 5, 1);
  assert.deepEqual(bootstrapScores(rows, y, folds, a), bootstrapScores(rows, y, folds, bootstrapResamples(30, 50, 4)));
});

test('draws and intervals equal a numpy re-implementation given the same resample indices', (t) => {
  if (noNumpy) return t.skip(noNumpy);
  const n = 50;
  const { x1, x2, y, rng } = models(n, 1, 3);
  const x3 = Array.from({ length: n }, () => rng.normal());
  const big = column(x1, x2, x3);
  const small = column(x1);
  const folds = foldAssignment(n, 10, 3);
  const resamples = bootstrapResamples(n, 200, 4);
  const [a, b] = [big, small].map((rows) => bootstrapScores(rows, y, folds, resamples));
  const ours = [percentileInterval(0, a.cvR2), percentileInterval(0, a.kendallTau), percentileInterval(0, pairedDifference(a.cvR2, b.cvR2)),
    percentileInterval(0, pairedDifference(a.kendallTau, b.kendallTau))];
  const script = `import json, sys
import numpy as np
inp = json.load(sys.stdin)
y = np.array(inp['y']); folds = np.array(inp['folds'])
def design(X): return np.hstack([np.ones((len(X), 1)), X])
def cv_r2(X, y, f):
    pred = np.zeros(len(y))
    for k in np.unique(f):
        tr, te = f != k, f == k
        pred[te] = design(X[te]) @ np.linalg.lstsq(design(X[tr]), y[tr], rcond=None)[0]
    return 1 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum()
def tau_b(a, b):
    sa = np.sign(a[:, None] - a[None, :]); sb = np.sign(b[:, None] - b[None, :])
    return (sa * sb).sum() / np.sqrt((sa != 0).sum() * (sb != 0).sum())
out = []
for X in (np.array(inp['big']), np.array(inp['small'])):
    r2, tau = [], []
    for idx in inp['resamples']:
        Xb, yb = X[idx], y[idx]
        r2.append(cv_r2(Xb, yb, folds[idx]))  # each copy keeps its model's fold
        tau.append(tau_b(design(Xb) @ np.linalg.lstsq(design(Xb), yb, rcond=None)[0], yb))
    out.append([r2, tau])
ar, at, br, bt = map(np.array, (out[0][0], out[0][1], out[1][0], out[1][1]))
ci = lambda d: np.percentile(d, [2.5, 97.5]).tolist()
print(json.dumps({'draws': [ar.tolist(), at.tolist(), br.tolist(), bt.tolist()], 'ci': [ci(ar), ci(at), ci(ar - br), ci(at - bt)]}))`;
  const r = spawnSync(PYTHON, ['-c', script], {
    input: JSON.stringify({ y: Array.from(y), folds: Array.from(folds), big: big.map((v) => Array.from(v)), small: small.map((v) => Array.from(v)),
      resamples: resamples.map((v) => Array.from(v)) }),
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  assert.equal(r.status, 0, r.stderr);
  const ref = JSON.parse(r.stdout) as { draws: number[][]; ci: number[][] };
  [a.cvR2, a.kendallTau, b.cvR2, b.kendallTau].forEach((d, k) => d.forEach((v, i) => close(v, ref.draws[k][i], 1e-9, `draw ${i} of series ${k}`)));
  ours.forEach((c, k) => {
    close(c.lower, ref.ci[k][0], 1e-9, `interval ${k} lower`);
    close(c.upper, ref.ci[k][1], 1e-9, `interval ${k} upper`);
  });
});

test('a clearly better measure: the difference interval excludes 0; measures equal in distribution: it includes 0', () => {
  const n = 72;
  const resamples = bootstrapResamples(n, 500, 2);
  const folds = foldAssignment(n, 10, 0);
  const interval = (a: Float64Array[], b: Float64Array[], y: Float64Array) => {
    const [da, db] = [a, b].map((rows) => bootstrapScores(rows, y, folds, resamples));
    const estimate = crossValidatedR2(a, y, folds).r2 - crossValidatedR2(b, y, folds).r2;
    return percentileInterval(estimate, pairedDifference(da.cvR2, db.cvR2));
  };
  // Both features against one of them: CV R² about 0.9 against 0.45.
  const { x1, x2, y } = models(n, 0.5, 11);
  const better = interval(column(x1, x2), column(x1), y);
  assert.ok(better.lower > 0.2 && better.estimate > better.lower && better.estimate < better.upper, JSON.stringify(better));
  assert.ok(interval(column(x1), column(x1, x2), y).upper < -0.2, 'and the other way round, below 0');
  // x₁ + x₂ seen through independent noise of the same size: a 95% interval includes the true
  // difference 0 on about 95% of populations (checked on 5; at least 4 must include it).
  let includes = 0;
  for (let seed = 20; seed < 25; seed++) {
    const { x1, x2, y, rng } = models(n, 0.5, seed);
    const seen = () => column(x1.map((v, i) => v + x2[i] + rng.normal()));
    const d = interval(seen(), seen(), y);
    if (d.lower <= 0 && d.upper >= 0) includes++;
  }
  assert.ok(includes >= 4, `${includes} of 5 intervals include 0`);
});
