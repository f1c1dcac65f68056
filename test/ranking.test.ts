/**
 * The granulated Kendall coefficient Ψ (src/measures/ranking.ts) against two direct implementations of
 * Jiang et al.'s eqs. (3)–(5) that find the groups another way — one in Python (/usr/bin/python3:
 * itertools.product over the other hyper-parameters' values, ordered pairs by itertools.permutations,
 * and scipy.stats.kendalltau where the groups have no ties; it skips, saying why, without Python), one
 * here by string keys — and against values known by hand.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Rng } from '../src/data/rng.js';
import { granulatedKendall, type HParams } from '../src/measures/ranking.js';
import { PYTHON, pythonUnavailable } from './python.js';
import { roundOff } from './round-off.js';

const noPython = pythonUnavailable('json, itertools');
const noScipy = pythonUnavailable('scipy.stats');
/** Ψ is a mean of means of exact ratios: a few roundings of float64 apart on any path. */
const TOL = roundOff('float64', 16);

const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= TOL, `${what}: ${a} vs ${b}`);

/** The full product of width (3 values), lr (2), bn (2) and seed (2), with a hyper-parameter that does not vary. */
function product(): HParams[] {
  const out: HParams[] = [];
  for (const width of [64, 128, 256])
    for (const lr of [0.01, 0.1])
      for (const bn of [false, true])
        for (const seed of [0, 1]) out.push({ width, lr, bn, seed, optimizer: 'adam' });
  return out;
}

/** Gaps that grow with width, fall with lr, grow with bn, and differ by seed; all distinct. */
function gapsOf(hparams: HParams[], noise = 0, seed = 0): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from(hparams,
    (h) => Math.log2(Number(h.width) / 64) - 0.5 * Math.log10(Number(h.lr)) + (h.bn ? 0.25 : 0) + 0.01 * Number(h.seed) + noise * rng.normal());
}

/** Eq. (3)–(5) by string keys: a model's group for an axis is every model whose other entries print the same. */
function referencePsi(m: ArrayLike<number>, g: ArrayLike<number>, hparams: HParams[]): { psi: number; byAxis: Record<string, number[]> } {
  const names = Object.keys(hparams[0]);
  const axes = names.filter((k) => k !== 'seed' && new Set(hparams.map((h) => String(h[k]))).size > 1);
  const byAxis: Record<string, number[]> = {};
  for (const axis of axes) {
    const key = (h: HParams): string => names.filter((k) => k !== axis).map((k) => `${k}=${h[k]}`).join(';');
    const groups = new Map<string, number[]>();
    hparams.forEach((h, i) => groups.set(key(h), [...(groups.get(key(h)) ?? []), i]));
    const taus: number[] = [];
    let pairs = 0;
    let models = 0;
    for (const group of groups.values()) {
      if (group.length < 2) continue;
      let s = 0;
      for (const i of group) for (const j of group) if (i !== j) s += Math.sign(m[i] - m[j]) * Math.sign(g[i] - g[j]);
      taus.push(s / (group.length * (group.length - 1)));
      pairs += (group.length * (group.length - 1)) / 2;
      models += group.length;
    }
    byAxis[axis] = [taus.length ? taus.reduce((a, b) => a + b, 0) / taus.length : NaN, taus.length, models, pairs];
  }
  const defined = Object.values(byAxis).map((a) => a[0]).filter((v) => !Number.isNaN(v));
  return { psi: defined.length ? defined.reduce((a, b) => a + b, 0) / defined.length : NaN, byAxis };
}

/** Ψ of each case in Python; with scipy, also from scipy's τ-b for a case marked tie-free. Null (and a skip) without Python. */
// biome-ignore lint/suspicious/noExplicitAny: the reference script's JSON
function pythonPsi(t: TestContext, cases: { m: number[]; g: number[]; hp: HParams[]; tieFree: boolean }[]): any {
  if (noPython) {
    t.skip(noPython);
    return null;
  }
  const code = `
import itertools, json, math, sys
try:
    from scipy.stats import kendalltau
except ImportError:
    kendalltau = None
sign = lambda x: (x > 0) - (x < 0)
mean = lambda xs: sum(xs) / len(xs) if xs else None
out = []
for case in json.load(sys.stdin):
    m, g, hp = case['m'], case['g'], case['hp']
    names = list(hp[0])
    values = {k: sorted({json.dumps(h[k]) for h in hp}) for k in names}
    axes = [k for k in names if k != 'seed' and len(values[k]) > 1]
    res = {}
    for axis in axes:
        others = [k for k in names if k != axis]
        taus, scipy_taus, models, pairs = [], [], 0, 0
        for combo in itertools.product(*(values[k] for k in others)):
            group = [i for i, h in enumerate(hp) if all(json.dumps(h[k]) == v for k, v in zip(others, combo))]
            if len(group) < 2:
                continue
            s = sum(sign(m[i] - m[j]) * sign(g[i] - g[j]) for i, j in itertools.permutations(group, 2))
            taus.append(s / (len(group) * (len(group) - 1)))
            if kendalltau and case['tieFree']:
                scipy_taus.append(float(kendalltau([m[i] for i in group], [g[i] for i in group])[0]))
            models += len(group)
            pairs += len(group) * (len(group) - 1) // 2
        res[axis] = [mean(taus), mean(scipy_taus), len(taus), models, pairs]
    psis = [r[0] for r in res.values() if r[0] is not None]
    scipys = [r[1] for r in res.values() if r[1] is not None]
    out.append({'psi': mean(psis), 'scipy': mean(scipys), 'byAxis': res})
print(json.dumps(out))`;
  const r = spawnSync(PYTHON, ['-c', code], { input: JSON.stringify(cases), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('Ψ equals direct implementations of eqs. (3)–(5): full product, sampled grid with ties, and scipy τ where nothing ties', (t) => {
  const full = product();
  const g = gapsOf(full, 0.4, 1);
  const rng = new Rng(2);
  const m = Float64Array.from(g, (v) => v + 0.5 * rng.normal());
  // A sampled grid: 15 of the 24 models, with a measure of 4 levels (ties within groups) and singleton groups.
  const keep = Array.from(new Rng(3).permutation(full.length).subarray(0, 15)).sort((a, b) => a - b);
  const sample = { m: keep.map((i) => Math.round(2 * m[i])), g: keep.map((i) => g[i]), hp: keep.map((i) => full[i]), tieFree: false };
  const cases = [{ m: Array.from(m), g: Array.from(g), hp: full, tieFree: true }, sample];
  const ours = cases.map((c) => granulatedKendall(c.m, c.g, c.hp));
  cases.forEach((c, k) => {
    const ref = referencePsi(c.m, c.g, c.hp);
    assert.deepEqual(ours[k].byAxis.map((a) => a.axis), Object.keys(ref.byAxis), 'axes: seed and optimizer are none');
    for (const a of ours[k].byAxis) {
      const [psi, groups, models, pairs] = ref.byAxis[a.axis];
      close(a.psi, psi, `case ${k} ψ_${a.axis}`);
      assert.deepEqual([a.groups, a.models, a.pairs], [groups, models, pairs], `case ${k} ${a.axis}: groups, models, pairs`);
    }
    close(ours[k].psi, ref.psi, `case ${k} Ψ, TypeScript reference`);
  });
  assert.ok(ours[1].byAxis.some((a) => a.groups < 12), 'the sample leaves singleton groups');
  const py = pythonPsi(t, cases);
  if (!py) return;
  ours.forEach((o, k) => {
    close(o.psi, py[k].psi, `case ${k} Ψ, Python`);
    for (const a of o.byAxis) {
      const [psi, , groups, models, pairs] = py[k].byAxis[a.axis];
      close(a.psi, psi ?? NaN, `case ${k} ψ_${a.axis}, Python`);
      assert.deepEqual([a.groups, a.models, a.pairs], [groups, models, pairs]);
    }
  });
  // Without ties eq. (3)'s τ is scipy's τ-b.
  if (noScipy) t.diagnostic(`scipy not compared: ${noScipy}`);
  else close(ours[0].psi, py[0].scipy, 'Ψ from scipy.stats.kendalltau');
});

test('Ψ by hand: ±1 for a measure that orders every group, 0 on the axes a measure ignores', () => {
  const hp = product();
  const g = gapsOf(hp);
  const full = granulatedKendall(g, g, hp);
  assert.equal(full.psi, 1);
  assert.deepEqual(full.byAxis, [
    // 2·2·2 groups of 3 widths (3 pairs each); 3·2·2 groups of 2 for lr and for bn.
    { axis: 'width', psi: 1, groups: 8, models: 24, pairs: 24 },
    { axis: 'lr', psi: 1, groups: 12, models: 24, pairs: 12 },
    { axis: 'bn', psi: 1, groups: 12, models: 24, pairs: 12 },
  ]);
  assert.equal(granulatedKendall(g.map((v) => -v), g, hp).psi, -1);
  // A measure that knows only the width: ψ_width = 1, constant within the lr and bn groups: ψ = 0 there.
  const width = granulatedKendall(hp.map((h) => Number(h.width)), g, hp);
  assert.deepEqual(width.byAxis.map((a) => a.psi), [1, 0, 0]);
  close(width.psi, 1 / 3, 'Ψ of a width-only measure');
  assert.equal(granulatedKendall(hp.map(() => 7), g, hp).psi, 0, 'a constant measure');
});

test('Ψ compares models of one seed only; the seed is no axis', () => {
  const hp = product();
  const g = gapsOf(hp, 0.4, 4);
  // Right within every seed, but seed 1's values far above seed 0's whatever the gaps.
  const m = g.map((v, i) => v + 100 * Number(hp[i].seed));
  assert.equal(granulatedKendall(m, g, hp).psi, 1);
  // Pooling the seeds (as if `seed` were not there) compares across them and is no longer 1.
  const pooled = hp.map(({ seed: _seed, ...rest }) => rest);
  assert.ok(granulatedKendall(m, g, pooled).psi < 1);
  // Another entry can be the replicate.
  const renamed = hp.map(({ seed, ...rest }) => ({ ...rest, run: seed }));
  assert.equal(granulatedKendall(m, g, renamed, { replicate: 'run' }).psi, 1);
});

test('ψ_i is NaN without a group of two; Ψ averages the defined ψ_i and is NaN when none is', () => {
  // b and c change together: no two models differ in b alone or in c alone.
  const hp = [{ a: 0, b: 0, c: 0 }, { a: 1, b: 0, c: 0 }, { a: 0, b: 1, c: 1 }];
  const r = granulatedKendall([1, 2, 3], [0.1, 0.2, 0.3], hp);
  assert.deepEqual(r.byAxis.map((a) => [a.axis, a.groups]), [['a', 1], ['b', 0], ['c', 0]]);
  assert.ok(Number.isNaN(r.byAxis[1].psi) && Number.isNaN(r.byAxis[2].psi));
  assert.equal(r.psi, 1);
  const none = granulatedKendall([1, 2], [0.1, 0.2], [{ a: 0, b: 0 }, { a: 1, b: 1 }]);
  assert.ok(Number.isNaN(none.psi));
  assert.deepEqual(granulatedKendall([1, 2], [0.1, 0.2], [{ seed: 0 }, { seed: 1 }]), { psi: NaN, byAxis: [] });
});

test('Ψ rejects bad input with an InputError naming it', () => {
  const hp = [{ a: 0 }, { a: 1 }];
  assert.throws(() => granulatedKendall([1, 2, 3], [1, 2], hp), /3 measure values, 2 gaps/);
  assert.throws(() => granulatedKendall([1, NaN], [1, 2], hp), /measure of model 1 is NaN/);
  assert.throws(() => granulatedKendall([1, 2], [1, Infinity], hp), /gap of model 1 is Infinity/);
  assert.throws(() => granulatedKendall([1, 2], [1, 2], [{ a: 0 }, { b: 1 }]), /model 1 has hyper-parameters \{b\}/);
});
