/**
 * The generalised discrimination value (src/measures/gdv.ts):
 * - closed forms of docs/papers.md §5 and the invariances, to 1e-9;
 * - against the formula written directly in numpy (every pairwise difference, no Gram identity;
 *   Debian python3-numpy at /usr/bin/python3) on 300 × 20 points in 4 unequal classes with a
 *   constant dimension, to 1e-9;
 * - block sizes 7 and 1000 agree to 1e-12; samplePerClass is seeded; bad input is an InputError;
 * - gdvPerLayer against gdv on activations taken by hand; the claim holds.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cat, liveTensors, manualSeed, noGrad, scope, tensor, type Tensor } from '../src/engine/index.js';
import { Rng } from '../src/data/rng.js';
import { writeNpy } from '../src/data/npy.js';
import { gaussianMixture } from '../src/data/synthetic.js';
import { disposeDataset } from '../src/data/dataset.js';
import { buildModel } from '../src/nn/models/spec.js';
import { InputError } from '../src/errors.js';
import { gdv, gdvPerLayer } from '../src/measures/gdv.js';
import { gdvClosedForms } from '../src/claims/gdv.js';
import type { ClaimContext } from '../src/claims/claim.js';
import { ExperimentCache } from '../src/experiments/context.js';
import type { RunStore } from '../src/store/runs.js';

const unavailable = pythonUnavailable('numpy');

/** The definition, directly: z-score (constant dimension → 0), every pairwise difference, plain means. */
const REFERENCE = String.raw`
import json, sys
import numpy as np
x = np.load(sys.argv[1]).astype(np.float64)
y = np.load(sys.argv[2])
const = x.max(0) == x.min(0)
sd = np.where(const, 1.0, x.std(0))
s = np.where(const, 0.0, 0.5 * (x - x.mean(0)) / sd)
def dist(a, b):
    return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
cs = np.unique(y)
intra = [dist(s[y == c], s[y == c])[np.triu_indices((y == c).sum(), 1)].mean() for c in cs]
inter = [dist(s[y == a], s[y == b]).mean() for i, a in enumerate(cs) for b in cs[i + 1:]]
root = np.sqrt(x.shape[1])
print(json.dumps({"gdv": (np.mean(intra) - np.mean(inter)) / root, "intra": np.mean(intra) / root, "inter": np.mean(inter) / root}))
`;
import { PYTHON, pythonUnavailable } from './python.js';

/** n points in d dims: classes of the given sizes in shuffled order, shifted means, dimension `flat` constant. */
function randomData(sizes: number[], d: number, seed: number, flat = -1): { x: Tensor; y: number[] } {
  const rng = new Rng(seed);
  const labels = sizes.flatMap((s, c) => Array.from({ length: s }, () => c));
  const order = rng.permutation(labels.length);
  const y = Array.from(order, (k) => labels[k]);
  const means = sizes.map(() => Array.from({ length: d }, () => rng.normal()));
  const data = new Float64Array(y.length * d);
  y.forEach((c, i) => {
    for (let j = 0; j < d; j++) data[i * d + j] = j === flat ? 2.5 : means[c][j] + (1 + j / d) * rng.normal();
  });
  return { x: tensor(data, [y.length, d], 'float64'), y };
}

function points(rows: number[][]): Tensor {
  return tensor(Float64Array.from(rows.flat()), [rows.length, rows[0].length], 'float64');
}
const repeat = <T>(v: T, n: number): T[] => Array.from({ length: n }, () => v);

test('closed forms: collapsed equal classes −1, fractions p → −1/(2√(p(1−p))), three points on a line −√(2/3)', () => {
  const [a, b] = [[1, -2], [3, 0.25]];
  const cases: [Tensor, number[], number][] = [
    [points([...repeat(a, 6), ...repeat(b, 6)]), [...repeat(0, 6), ...repeat(1, 6)], -1],
    [points([...repeat([0], 3), ...repeat([5], 3)]), [...repeat(0, 3), ...repeat(1, 3)], -1],
  ];
  for (const p of [0.9, 0.75, 0.2]) {
    const k = Math.round(100 * p);
    cases.push([points([...repeat(a, k), ...repeat(b, 100 - k)]), [...repeat(0, k), ...repeat(1, 100 - k)], -1 / (2 * Math.sqrt(p * (1 - p)))]);
  }
  const line = [-1, 0, 1].map((t) => [2 + t, 1 - 3 * t, 0.5 * t]);
  cases.push([points([...repeat(line[0], 4), ...repeat(line[1], 4), ...repeat(line[2], 4)]), [...repeat(7, 4), ...repeat(-1, 4), ...repeat(3, 4)],
    -Math.sqrt(2 / 3)]);
  for (const [x, y, expected] of cases) {
    for (const blockSize of [undefined, 3]) {
      const r = gdv(x, y, { blockSize });
      assert.ok(Math.abs(r.gdv - expected) < 1e-9, `${r.gdv} vs ${expected}`);
      assert.ok(Math.abs(r.intra) < 1e-12, `collapsed classes have intra 0, got ${r.intra}`);
    }
    x.dispose();
  }
  assert.ok(Math.abs(-1 / (2 * Math.sqrt(0.09)) + 1.6667) < 1e-4);
});

test('invariant to translation, scaling, per-dimension scaling and duplicated features', () => {
  const ds = gaussianMixture({ n: 400, dim: 6, classes: 4, separation: 3, seed: 5 });
  scope(() => {
    const x = ds.x.double();
    const y = ds.y.toNumbers();
    const base = gdv(x, y);
    assert.ok(base.gdv < -0.1, `separated classes give a negative GDV, got ${base.gdv}`);
    const w = tensor(Float64Array.from([0.01, 3, 50, 0.2, 1, 700]), [6], 'float64');
    // Scales whose squares leave float64's range (1e±300, 1e160) too: z-scoring removes every scale.
    const extreme = tensor(Float64Array.from([1e-300, 1, 1e160, 1, 1e300, 1]), [6], 'float64');
    for (const t of [x.add(w.mul(-40)), x.mul(1e-3), x.mul(w), cat([x, x, x], 1), x.neg(), x.mul(extreme), x.mul(1e200)]) {
      const r = gdv(t, y);
      assert.ok(Math.abs(r.gdv - base.gdv) < 1e-9, `${r.gdv} vs ${base.gdv}`);
    }
    assert.equal(gdv(cat([x, x], 1), y).dims, 12);
  });
  disposeDataset(ds);
});

test('agrees with a direct numpy implementation (300 × 20, 4 unequal classes, a constant dimension) to 1e-9', (t: TestContext) => {
  if (unavailable) return t.skip(`python3-numpy not installed: ${unavailable}`);
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-gdv-'));
  try {
    const { x, y } = randomData([40, 70, 90, 100], 20, 11, 4);
    writeNpy(join(dir, 'x.npy'), { dtype: 'float64', shape: x.shape, data: x.toArray() });
    writeNpy(join(dir, 'y.npy'), { dtype: 'int64', shape: [y.length], data: BigInt64Array.from(y, BigInt) });
    writeFileSync(join(dir, 'ref.py'), REFERENCE);
    const r = spawnSync(PYTHON, [join(dir, 'ref.py'), join(dir, 'x.npy'), join(dir, 'y.npy')], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const ref = JSON.parse(r.stdout) as { gdv: number; intra: number; inter: number };
    const ours = gdv(x, y);
    x.dispose();
    assert.deepEqual([ours.n, ours.dims, ours.classes], [300, 20, 4]);
    for (const k of ['gdv', 'intra', 'inter'] as const) assert.ok(Math.abs(ours[k] - ref[k]) < 1e-9, `${k}: ${ours[k]} vs numpy ${ref[k]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('block size does not change the result; memory is released', () => {
  const { x, y } = randomData([13, 30, 8], 9, 3);
  const before = liveTensors();
  const small = gdv(x, y, { blockSize: 7 });
  const large = gdv(x, y, { blockSize: 1000 });
  const one = gdv(x, y, { blockSize: 1 });
  assert.equal(liveTensors(), before);
  for (const r of [large, one]) for (const k of ['gdv', 'intra', 'inter'] as const) assert.ok(Math.abs(small[k] - r[k]) < 1e-12, k);
  // A float32 copy of the same points, and [n, a, b] inputs, are flattened and widened.
  const f = x.float();
  assert.ok(Math.abs(gdv(f.reshape([51, 3, 3]), y).gdv - gdv(f, y).gdv) < 1e-15);
  f.dispose();
  x.dispose();
});

test('samplePerClass: seeded, all points of a class with fewer, a different seed a different sample', () => {
  const { x, y } = randomData([25, 60, 40], 5, 8);
  const a = gdv(x, y, { samplePerClass: { n: 30, seed: 1 } });
  const b = gdv(x, y, { samplePerClass: { n: 30, seed: 1 } });
  const c = gdv(x, y, { samplePerClass: { n: 30, seed: 2 } });
  assert.deepEqual(a, b);
  assert.equal(a.n, 25 + 30 + 30);
  assert.notEqual(a.gdv, c.gdv);
  const all = gdv(x, y, { samplePerClass: { n: 60, seed: 1 } });
  assert.ok(Math.abs(all.gdv - gdv(x, y).gdv) < 1e-15, 'a sample as large as every class is the whole set');
  x.dispose();
});

test('bad input: a class with one point, NaN, Inf, one class, labels of the wrong length, non-integer labels', () => {
  const { x, y } = randomData([5, 5], 3, 1);
  const throws = (f: () => unknown, pattern: RegExp) => assert.throws(f, (e: unknown) => e instanceof InputError && pattern.test(e.message));
  throws(() => gdv(x, [...y.slice(0, 9), 7]), /class 7 has 1 point/);
  throws(() => gdv(x, y.map(() => 3)), /only one class \(3\)/);
  throws(() => gdv(x, y.slice(1)), /9 labels for 10 points/);
  throws(() => gdv(x, [...y.slice(0, 9), 0.5]), /label 9 is 0.5/);
  throws(() => gdv(x, y, { samplePerClass: { n: 1, seed: 0 } }), /samplePerClass/);
  const data = x.toArray() as Float64Array;
  for (const [bad, word] of [[NaN, 'NaN'], [-Infinity, '-Infinity']] as const) {
    const copy = data.slice();
    copy[3 * 4 + 2] = bad;
    const t = tensor(copy, [10, 3], 'float64');
    throws(() => gdv(t, y), new RegExp(`point 4, dimension 2 is ${word}`));
    t.dispose();
  }
  x.dispose();
});

test('gdvPerLayer: each probe point equals gdv of its activations; batch size, limit and samplePerClass', () => {
  manualSeed(3);
  // float64 throughout: exactness of the batching is the point, and float32 activations of one
  // point differ with the batch's shape (BLAS kernel, threads) by round-off of about 1e-7.
  const model = buildModel('mlp:6-16-16-3').to('float64');
  const { x, y } = randomData([30, 20, 25], 6, 4);
  const before = liveTensors();
  const probes = model.probePoints();
  const rs = gdvPerLayer(model, x, y, { batchSize: 7 });
  assert.equal(liveTensors(), before);
  assert.deepEqual(rs.map((r) => r.probe), probes);
  // A copy: the input probe is the input tensor itself, disposed with the other activations below.
  const acts = noGrad(() => model.forwardWithProbes(x.clone(), probes).probes);
  rs.forEach((r, l) => {
    const direct = gdv(acts.get(probes[l])!, y);
    assert.ok(Math.abs(r.gdv - direct.gdv) < 1e-12, `${r.probe}: ${r.gdv} vs ${direct.gdv}`);
    assert.equal(r.dims, direct.dims);
  });
  for (const t of acts.values()) t.dispose();
  const whole = gdvPerLayer(model, x, y, { batchSize: 1000 });
  rs.forEach((r, l) => assert.ok(Math.abs(r.gdv - whole[l].gdv) < 1e-12));
  const limited = gdvPerLayer(model, x, y, { limit: 40, probes: ['input'] });
  assert.ok(Math.abs(limited[0].gdv - gdv(x.narrow(0, 0, 40), y.slice(0, 40)).gdv) < 1e-12);
  const sampled = gdvPerLayer(model, x, y, { samplePerClass: { n: 10, seed: 4 }, probes: ['input'] });
  assert.ok(Math.abs(sampled[0].gdv - gdv(x, y, { samplePerClass: { n: 10, seed: 4 } }).gdv) < 1e-12);
  assert.throws(() => gdvPerLayer(model, x, y, { probes: ['nope'] }), InputError);
  const nan = x.toArray() as Float64Array;
  nan[7 * 6 + 1] = NaN;
  const bad = tensor(nan, [75, 6], 'float64');
  assert.throws(() => gdvPerLayer(model, bad, y), /probe point input: point 7, dimension 1 is NaN/);
  bad.dispose();
  model.dispose();
  x.dispose();
});

test('claim gdv-closed-forms holds, with a figure per case', async () => {
  const ctx: ClaimContext = { mode: 'quick', seed: 0, store: {} as RunStore, progress: false, log: () => {}, cache: new ExperimentCache() };
  const out = await gdvClosedForms.run(ctx);
  assert.equal(out.verdict, 'holds', out.reason);
  assert.equal(out.figures.length, 9);
  for (const f of out.figures) assert.ok(Math.abs(f.value - (f.paper as number)) <= 1e-9, f.name);
  assert.ok(Math.abs(out.figures.find((f) => f.name === 'point classes 90/10')!.value + 1.6667) < 1e-4);
});
