/**
 * The gap predictor and its scores (src/measures/regression.ts) against numpy (Debian's, at
 * /usr/bin/python3; those comparisons skip, saying why, when it cannot be imported), scipy's Kendall
 * τ when scipy is there, a brute-force τ-b by the textbook tie-group formula, and hand examples.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Rng } from '../src/data/rng.js';
import { conditionalMutualInformation, crossValidatedR2, evaluateMeasures, fitLinear, foldAssignment, kendallTauB,
  type HParams } from '../src/measures/regression.js';
import { PYTHON, pythonUnavailable } from './python.js';

const noNumpy = pythonUnavailable('numpy');
const noScipy = noNumpy ?? pythonUnavailable('scipy.stats');

/** Runs `code` with `data` (JSON) bound to `inp`; the script prints one JSON value. Null (and a skip) without numpy. */
// biome-ignore lint/suspicious/noExplicitAny: the reference script's JSON, indexed as each test needs
function numpy(t: TestContext, code: string, data: unknown): any {
  if (noNumpy) {
    t.skip(noNumpy);
    return null;
  }
  const r = spawnSync(PYTHON, ['-c', `import json, sys\nimport numpy as np\ninp = json.load(sys.stdin)\n${code}`], { input: JSON.stringify(data),
    encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const close = (a: number, b: number, tol: number, what = ''): void => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

/** n rows of p normal features and y = 0.5 + Σ_j (j+1)·x_j/3 + noise. */
function randomData(n: number, p: number, seed: number): { rows: Float64Array[]; y: Float64Array } {
  const rng = new Rng(seed);
  const rows = Array.from({ length: n }, () => Float64Array.from({ length: p }, () => rng.normal()));
  const y = Float64Array.from(rows, (r) => r.reduce((s, v, j) => s + ((j + 1) * v) / 3, 0.5) + 0.7 * rng.normal());
  return { rows, y };
}
const plain = (rows: Float64Array[]): number[][] => rows.map((r) => Array.from(r));

test('least squares, R² and adjusted R² agree with numpy to 1e-9', (t) => {
  const { rows, y } = randomData(60, 4, 1);
  const fit = fitLinear(rows, y);
  assert.equal(fit.ridge, false);
  const ref = numpy(t, `
X = np.array(inp['X']); y = np.array(inp['y']); n, p = X.shape
A = np.hstack([np.ones((n, 1)), X])
beta = np.linalg.lstsq(A, y, rcond=None)[0]
res = y - A @ beta
r2 = 1 - (res ** 2).sum() / ((y - y.mean()) ** 2).sum()
print(json.dumps([beta.tolist(), r2, 1 - (1 - r2) * (n - 1) / (n - p - 1), (res ** 2).mean()]))`, { X: plain(rows), y: Array.from(y) });
  if (!ref) return;
  Array.from(fit.coefficients).forEach((b, j) => close(b, ref[0][j], 1e-9, `β${j}`));
  close(fit.r2, ref[1], 1e-9, 'R²');
  close(fit.adjustedR2, ref[2], 1e-9, 'adjusted R²');
  close(fit.mse, ref[3], 1e-9, 'MSE');
});

test('a rank-deficient design falls back to the tiny ridge and fits like numpy', (t) => {
  const { rows, y } = randomData(40, 2, 2);
  // A duplicated feature and a constant one: [x0, x1, x0, 3].
  const wide = rows.map((r) => Float64Array.from([r[0], r[1], r[0], 3]));
  const fit = fitLinear(wide, y);
  assert.equal(fit.ridge, true);
  close(fit.r2, fitLinear(rows, y).r2, 1e-9, 'same R² as without the redundant columns');
  const ref = numpy(t, `
X = np.array(inp['X']); y = np.array(inp['y'])
A = np.hstack([np.ones((len(y), 1)), X])
print(json.dumps((A @ np.linalg.lstsq(A, y, rcond=None)[0]).tolist()))`, { X: plain(wide), y: Array.from(y) });
  if (!ref) return;
  Array.from(fit.predictions).forEach((v, i) => close(v, ref[i], 1e-7, `ŷ${i}`));
});

test('fold assignment: seeded, balanced, every fold used', () => {
  const f = foldAssignment(23, 10, 5);
  assert.deepEqual(f, foldAssignment(23, 10, 5));
  assert.notDeepEqual(f, foldAssignment(23, 10, 6));
  const sizes = Array.from({ length: 10 }, (_, k) => f.filter((v) => v === k).length);
  assert.deepEqual(sizes.sort(), [2, 2, 2, 2, 2, 2, 2, 3, 3, 3]);
  assert.throws(() => foldAssignment(5, 6, 0), /6 folds for 5 models/);
});

test('cross-validated R² equals a direct numpy implementation with the same folds', (t) => {
  const { rows, y } = randomData(57, 3, 3);
  const cv = crossValidatedR2(rows, y, 10, 7);
  assert.deepEqual(cv.folds, foldAssignment(57, 10, 7));
  const ref = numpy(t, `
X = np.array(inp['X']); y = np.array(inp['y']); folds = np.array(inp['folds'])
A = np.hstack([np.ones((len(y), 1)), X])
pred = np.zeros(len(y))
for f in np.unique(folds):
    tr, te = folds != f, folds == f
    pred[te] = A[te] @ np.linalg.lstsq(A[tr], y[tr], rcond=None)[0]
print(json.dumps([1 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum(), pred.tolist()]))`, { X: plain(rows), y: Array.from(y),
    folds: Array.from(cv.folds) });
  if (!ref) return;
  close(cv.r2, ref[0], 1e-9, 'CV R²');
  Array.from(cv.predictions).forEach((v, i) => close(v, ref[1][i], 1e-9, `ŷ_cv ${i}`));
  assert.ok(cv.r2 < fitLinear(rows, y).r2, 'held-out R² below the in-sample one');
});

/** τ-b by the textbook formula: (n_c − n_d)/√((n₀ − n₁)(n₀ − n₂)), n₁, n₂ from the tie groups. */
function tauBReference(a: number[], b: number[]): number {
  const n = a.length;
  let nc = 0;
  let nd = 0;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const s = (a[i] - a[j]) * (b[i] - b[j]);
      if (s > 0) nc++;
      else if (s < 0) nd++;
    }
  const tiePairs = (v: number[]): number => {
    const counts = new Map<number, number>();
    for (const x of v) counts.set(x, (counts.get(x) ?? 0) + 1);
    return [...counts.values()].reduce((s, t) => s + (t * (t - 1)) / 2, 0);
  };
  const n0 = (n * (n - 1)) / 2;
  return (nc - nd) / Math.sqrt((n0 - tiePairs(a)) * (n0 - tiePairs(b)));
}

test('Kendall τ-b: hand examples with ties', () => {
  // Pairs: 4 concordant, one tied in a only, one in b only: 4/√(5·5).
  close(kendallTauB([1, 2, 2, 3], [1, 2, 3, 3]), 0.8, 1e-15);
  // scipy.stats.kendalltau's documented example.
  close(kendallTauB([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]), -0.47140452079103173, 1e-15);
  assert.equal(kendallTauB([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(kendallTauB([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  assert.ok(Number.isNaN(kendallTauB([1, 1, 1], [1, 2, 3])));
});

test('Kendall τ-b with many ties agrees with the brute-force reference, numpy and scipy', (t) => {
  const rng = new Rng(4);
  const a = Array.from({ length: 150 }, () => rng.int(6));
  const b = a.map((v) => v + rng.int(4));
  const ours = kendallTauB(a, b);
  close(ours, tauBReference(a, b), 1e-13, 'brute force');
  const ref = numpy(t, `
a = np.array(inp['a']); b = np.array(inp['b'])
sa = np.sign(a[:, None] - a[None, :]); sb = np.sign(b[:, None] - b[None, :])
out = [(sa * sb).sum() / np.sqrt((sa != 0).sum() * (sb != 0).sum())]
try:
    import scipy.stats
    out.append(scipy.stats.kendalltau(a, b)[0])
except ImportError:
    pass
print(json.dumps(out))`, { a, b });
  if (!ref) return;
  close(ours, ref[0], 1e-13, 'numpy');
  if (ref.length > 1) close(ours, ref[1], 1e-12, 'scipy');
  else t.diagnostic(`scipy not compared: ${noScipy}`);
});

/** A full grid of three hyper-parameters (3 × 3 × 2 values) × `seeds` seeds, with gaps depending on them plus noise. */
function population(seed: number, seeds = 3): { hparams: HParams[]; gaps: Float64Array } {
  const rng = new Rng(seed);
  const hparams: HParams[] = [];
  const gaps: number[] = [];
  for (const width of [64, 128, 256])
    for (const lr of [0.01, 0.1, 1])
      for (const bn of [false, true])
        for (let s = 0; s < seeds; s++) {
          hparams.push({ width, lr, bn, seed: s });
          gaps.push(0.1 * Math.log2(width / 64) - 0.05 * Math.log10(lr) + (bn ? 0.03 : 0) + 0.02 * rng.normal());
        }
  return { hparams, gaps: Float64Array.from(gaps) };
}

test('CMI: the gap itself scores 1 (either orientation), an independent measure about 0', () => {
  const { hparams, gaps } = population(5);
  const self = conditionalMutualInformation(gaps, gaps, hparams);
  close(self.score, 1, 1e-12, 'μ = g');
  // width, lr and bn vary (the seed too, but it never conditions): C(3, 2) = 3 conditioning pairs.
  assert.deepEqual(self.bySubset.map((s) => s.hparams), [['width', 'lr'], ['width', 'bn'], ['lr', 'bn']]);
  close(conditionalMutualInformation(gaps.map((g) => -g), gaps, hparams).score, 1, 1e-12, 'μ = −g');
  // Independent measures: the plug-in MI's small-sample bias is about 1/(2·pairs per cell·ln 2) bits,
  // so a population of 180 models (~400 pairs a cell) keeps it near 0.
  const big = population(5, 10);
  for (const seed of [6, 7, 8]) {
    const rng = new Rng(seed);
    const noise = Float64Array.from(big.gaps, () => rng.normal());
    const r = conditionalMutualInformation(noise, big.gaps, big.hparams);
    assert.ok(r.score >= 0 && r.score < 0.03, `independent measure scored ${r.score}`);
  }
  // A measure that knows only the width: conditioning on width (with anything) leaves it nothing.
  const widthOnly = Float64Array.from(hparams, (h) => Number(h.width));
  const w = conditionalMutualInformation(widthOnly, gaps, hparams);
  assert.ok(w.score < 1e-12, `width-only measure scored ${w.score}`);
  assert.ok(Math.max(...w.bySubset.map((s) => s.value)) > 0.1, 'but it informs where width is not conditioned on');
});

test('CMI agrees with a direct numpy implementation of the definition', (t) => {
  const { hparams, gaps } = population(7);
  const rng = new Rng(8);
  const measure = Float64Array.from(gaps, (g) => g + 0.05 * rng.normal());
  const ours = conditionalMutualInformation(measure, gaps, hparams);
  const ref = numpy(t, `
from itertools import combinations
g = np.array(inp['g']); m = np.array(inp['m']); hp = inp['hp']; n = len(g)
names = [k for k in hp[0] if k != 'seed' and len(set(str(h[k]) for h in hp)) > 1]
def H(p):
    p = p[p > 0]; return -(p * np.log2(p)).sum()
out = []
for S in combinations(names, 2):
    cells = {}
    for i in range(n):
        for j in range(n):
            if i != j:
                key = tuple(str(hp[i][k]) for k in S) + tuple(str(hp[j][k]) for k in S)
                cells.setdefault(key, np.zeros((2, 2)))[int(g[i] > g[j]), int(m[i] > m[j])] += 1
    I = Hg = 0.0
    for c in cells.values():
        w = c.sum() / (n * (n - 1)); p = c / c.sum()
        I += w * (H(p.sum(1)) + H(p.sum(0)) - H(p.ravel())); Hg += w * H(p.sum(1))
    out.append([list(S), I / Hg])
print(json.dumps(out))`, { g: Array.from(gaps), m: Array.from(measure), hp: hparams });
  if (!ref) return;
  assert.deepEqual(ours.bySubset.map((s) => s.hparams), ref.map((r: [string[], number]) => r[0]));
  ours.bySubset.forEach((s, i) => close(s.value, ref[i][1], 1e-12, s.hparams.join('+')));
  close(ours.score, Math.min(...ref.map((r: [string[], number]) => r[1])), 1e-12, 'K');
});

test('CMI by hand: tables counted over the 56 ordered pairs of a 2 × 2 × 2 grid', () => {
  // One model per cell of a, b, c ∈ {0, 1}; g = 4a + 2b + c, and μ = 4a + 2b − c orders a and b right, c wrong.
  const hparams: HParams[] = [];
  for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) for (let c = 0; c < 2; c++) hparams.push({ a, b, c, seed: 0 });
  const gaps = hparams.map((h) => 4 * Number(h.a) + 2 * Number(h.b) + Number(h.c));
  const measure = hparams.map((h) => 4 * Number(h.a) + 2 * Number(h.b) - Number(h.c));
  // In a cell where the pairs' g order is fixed, H = I = 0; what remains, by S:
  // {a, b}: 8 pairs that differ in c alone, V_μ = ¬V_g: I = H = 1 bit.
  // {a, c}: 8 pairs that differ in b alone (V_μ = V_g, I = H = 1 bit), and 16 with the same a and
  //   different c, 4 a cell, whose (V_g, V_μ) counts are {(1, 0): 2, (1, 1): 1, (0, 0): 1} or the
  //   mirror: H(V_g) = h = H(1/4) bits, I = 2h − 3/2.
  // {b, c}: those 8 and 16 pairs with a in place of b, and 32 more with different b (4 a cell over a's
  //   values), where V_μ = V_g and H = I = h.
  const h = -(0.25 * Math.log2(0.25) + 0.75 * Math.log2(0.75));
  const expected = [1, (8 + 16 * (2 * h - 1.5)) / (8 + 16 * h), (8 + 16 * (2 * h - 1.5) + 32 * h) / (8 + 48 * h)];
  const r = conditionalMutualInformation(measure, gaps, hparams);
  assert.deepEqual(r.bySubset.map((s) => s.hparams), [['a', 'b'], ['a', 'c'], ['b', 'c']]);
  r.bySubset.forEach((s, i) => close(s.value, expected[i], 1e-14, s.hparams.join('+')));
  close(r.score, expected[1], 1e-14, 'K: the smallest');
  // A measure that knows only c is uninformative once a and c, or b and c, are held: K = 0.
  const onlyC = conditionalMutualInformation(hparams.map((h) => Number(h.c)), gaps, hparams);
  onlyC.bySubset.forEach((s, i) => close(s.value, [1, 0, 0][i], 1e-14, `μ = c, ${s.hparams.join('+')}`));
});

test('evaluateMeasures: one row per measure; the gap as a feature is perfect', () => {
  const { hparams, gaps } = population(9);
  const rng = new Rng(10);
  const rows = evaluateMeasures(
    {
      gap: Array.from(gaps, (g) => Float64Array.of(g)),
      noise: Array.from(gaps, () => Float64Array.of(rng.normal(), rng.normal())),
      width: hparams.map((h) => Float64Array.of(Math.log2(Number(h.width)))),
    },
    gaps,
    hparams,
    { folds: 5, seed: 1 },
  );
  assert.deepEqual(rows.map((r) => [r.measure, r.features]), [['gap', 1], ['noise', 2], ['width', 1]]);
  const [gap, noise, width] = rows;
  close(gap.adjustedR2, 1, 1e-12, 'adjusted R²');
  close(gap.cvR2, 1, 1e-12, 'CV R²');
  assert.ok(gap.mse < 1e-25);
  assert.equal(gap.kendallTau, 1);
  assert.equal(gap.psi, 1);
  assert.deepEqual(gap.psiByAxis.map((a) => [a.axis, a.psi]), [['width', 1], ['lr', 1], ['bn', 1]]);
  close(gap.cmi, 1, 1e-12, 'CMI');
  assert.ok(noise.cvR2 < 0.05 && Math.abs(noise.kendallTau) < 0.2 && Math.abs(noise.psi) < 0.3 && noise.cmi < 0.05, JSON.stringify(noise));
  assert.ok(width.adjustedR2 > 0.3 && width.kendallTau > 0.3 && width.cmi < 1e-12, JSON.stringify(width));
  assert.throws(() => evaluateMeasures({ bad: Array.from(gaps, () => Float64Array.of(NaN)) }, gaps, hparams), /feature 0 of row 0 is NaN/);
});
