/**
 * The optimisation lab's experiments (src/experiments/du.ts, allen-zhu.ts, nguyen.ts) on tiny sizes: their numbers
 * against independent computations and identities, and `dltheory converge`'s argument errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dispose, liveTensors, scope } from '../src/engine/index.js';
import { sphereRegression } from '../src/data/synthetic.js';
import { gramSpectrum } from '../src/measures/gram.js';
import { hInfinity } from '../src/measures/ntk-limit.js';
import { depthSweep, twoLayerWidthSweep } from '../src/experiments/du.js';
import { growthComparison, powerLawFit, sgdIterations, type SgdRun } from '../src/experiments/allen-zhu.js';
import { descentTail, landscapes, randomLabelFits } from '../src/experiments/nguyen.js';
import { cliRunner } from './cli-run.js';

const { cli, rejects } = cliRunner(['converge']);

test('the width sweep uses η = 1/λ_max(H∞) and λ₀ = λ_min(H∞) of its data, and its movement measures are sane', () => {
  const before = liveTensors();
  const r = twoLayerWidthSweep({ n: 12, d: 6, widths: [20, 2000], steps: 30, seed: 3 });
  const ds = sphereRegression({ n: 12, d: 6, seed: 3 });
  const s = scope(() => gramSpectrum(hInfinity(ds.x.double())));
  dispose([ds.x, ds.y]);
  assert.ok(Math.abs(r.lambda0 - s.lambdaMin) < 1e-12 && Math.abs(r.lr - 1 / s.lambdaMax) < 1e-12);
  for (const p of r.points) {
    assert.ok(p.patternChange >= 0 && p.patternChange <= 1 && p.drift >= 0 && p.maxMovement > 0, `m = ${p.width}`);
    assert.ok(p.losses[p.losses.length - 1] < p.losses[0], `m = ${p.width}: the loss falls`);
  }
  // The widest net's Gram at initialisation is close to H∞ (it is H∞'s Monte-Carlo estimate over 2000 units).
  assert.ok(Math.abs(r.points[1].lambdaMinH0 - r.lambda0) < 0.35 * r.lambda0, `${r.points[1].lambdaMinH0} vs ${r.lambda0}`);
  assert.ok(r.points[1].drift < r.points[0].drift && r.points[1].maxMovement < r.points[0].maxMovement, 'a 100× wider net moves less');
  assert.equal(liveTensors(), before);
});

test('at depth 1 the ResNet and the fully-connected net are the same network, so the depth sweep gives them equal numbers', () => {
  const [res, fc] = depthSweep({ n: 8, d: 4, width: 16, depths: [1], steps: 5, seed: 2 });
  assert.equal(res.arch, 'resmlp');
  assert.equal(fc.arch, 'fcnet');
  assert.equal(res.lambdaMin, fc.lambdaMin);
  assert.deepEqual(Array.from(res.losses), Array.from(fc.losses));
  assert.ok(Math.abs(res.rate - (1 - (res.losses[4] / res.losses[0]) ** (1 / 4))) < 1e-15, 'the average linear rate');
});

test('the power-law fit recovers T = 3·n^1.5·L^0.5 exactly and ignores runs that did not converge', () => {
  const runs: SgdRun[] = [100, 200, 400].flatMap((n) =>
    [1, 2, 4].map((depth) => ({ n, depth, iterations: 3 * n ** 1.5 * depth ** 0.5, finalLoss: 0, finalAccuracy: 1 }))
  );
  runs.push({ n: 800, depth: 8, iterations: null, finalLoss: 1, finalAccuracy: 0.5 });
  const fit = powerLawFit(runs);
  assert.ok(Math.abs(fit.nExponent - 1.5) < 1e-9 && Math.abs(fit.depthExponent - 0.5) < 1e-9 && fit.r2 > 1 - 1e-12, JSON.stringify(fit));
  assert.ok(Number.isNaN(powerLawFit(runs.slice(0, 3)).r2), 'too few runs: no fit');
});

/** The full run's grid, n 100 → 1600 × L 1, 2, 4, 8, with T = f(n, L) times a deterministic ±2% wobble. */
const grid = (f: (n: number, depth: number) => number): SgdRun[] =>
  [100, 200, 400, 800, 1600].flatMap((n, i) =>
    [1, 2, 4, 8].map((depth, j) => ({ n, depth, iterations: f(n, depth) * (1 + 0.02 * Math.sin(7 * i + 3 * j)), finalLoss: 0, finalAccuracy: 1 }))
  );

test('growthComparison tells a power law from an exponential along n and along L, and a falling exponential counts as polynomial', () => {
  const poly = grid((n, depth) => 3 * n ** 0.6 * depth ** 0.5);
  for (const along of ['n', 'depth'] as const) {
    const g = growthComparison(poly, along, 0);
    assert.equal(g.growth, 'polynomial', JSON.stringify(g));
    assert.ok(g.difference.lower > 0 && g.polynomialError < 1e-3, along);
    // Each line recovers its own exponent.
    assert.ok(g.lines.every((l) => Math.abs(l.exponent - (along === 'n' ? 0.6 : 0.5)) < 0.02), JSON.stringify(g.lines));
  }
  const exponentialInN = growthComparison(grid((n, depth) => 50 * Math.exp(n / 400) * depth), 'n', 0);
  assert.equal(exponentialInN.growth, 'exponential', JSON.stringify(exponentialInN));
  assert.ok(exponentialInN.difference.upper < 0 && exponentialInN.lines.every((l) => Math.abs(l.rate - 1 / 400) < 1e-4));
  const fallingInL = growthComparison(grid((n, depth) => n * Math.exp(-0.5 * depth)), 'depth', 0);
  assert.equal(fallingInL.growth, 'polynomial', 'T falls exponentially in L: bounded by a polynomial');
  assert.ok(fallingInL.difference.upper < 0 && fallingInL.lines.every((l) => l.rate < 0));
  const tooFew = growthComparison(poly.filter((r) => r.depth <= 2), 'depth', 0);
  assert.equal(tooFew.growth, 'indistinguishable', 'two depths a line cannot tell curvatures apart');
  assert.ok(Number.isNaN(tooFew.polynomialError));
});

test('descentTail: an accelerating decay gets the exponential trend, which reaches the target no earlier than the curve does', () => {
  const steps = 600;
  const curve = (f: (t: number) => number) => Float64Array.from({ length: steps }, (_, i) => f(i + 1));
  // log L = log 2 − t²/1e5: reaches 0.01 at t = √(1e5·log 200) ≈ 728.
  const accelerating = descentTail(curve((t) => 2 * Math.exp(-(t * t) / 1e5)), 0.01);
  assert.equal(accelerating.trend, 'exponential');
  assert.ok(accelerating.falling && accelerating.stepsToTarget >= Math.sqrt(1e5 * Math.log(200)), JSON.stringify(accelerating));
  // L = 3·t^−0.8 is a power law: its trend is itself, reaching 0.01 at t = 300^1.25.
  const power = descentTail(curve((t) => 3 * t ** -0.8), 0.01);
  assert.equal(power.trend, 'power law');
  assert.ok(Math.abs(power.stepsToTarget / 300 ** 1.25 - 1) < 1e-9 && Math.abs(power.slope + 0.8) < 1e-12, JSON.stringify(power));
  // Approaching 0.5: still non-increasing, but the power-law trend needs far more than 10× the steps.
  const plateau = descentTail(curve((t) => 0.5 + 2 * Math.exp(-t / 50)), 0.01);
  assert.ok(plateau.falling && plateau.stepsToTarget > 10 * steps, JSON.stringify(plateau));
  const rising = descentTail(curve((t) => 0.5 + (t > 500 ? 0.1 : 0)), 0.01);
  assert.ok(!rising.falling && rising.stepsToTarget === Infinity);
  assert.throws(() => descentTail(new Float64Array(10).fill(1), 0.01), /need at least 20/);
});

test('dltheory converge: a tiny width run prints JSON; bad arguments exit 2 with one line', () => {
  const ok = cli('width', '--n', '8', '--d', '4', '--widths', '10,40', '--steps', '5', '--json');
  assert.equal(ok.code, 0, ok.stderr);
  const out = JSON.parse(ok.stdout) as { points: { width: number }[] };
  assert.deepEqual(out.points.map((p) => p.width), [10, 40]);
  rejects([], /give one experiment/);
  rejects(['speed'], /width, depth, sgd, skip or landscape/);
  rejects(['skip', '--n', '5'], /--n must be an integer ≥ 10/);
  rejects(['width', '--widths', '10,x'], /--widths must be integers/);
  rejects(['depth', '--depths', '0'], /--depths must be integers ≥ 1/);
  rejects(['sgd', '--lr', '0'], /--lr must be a number/);
  rejects(['width', '--bogus'], /Unknown option/);
  rejects(['width', '--inits', '3'], /converge width: --inits is not an option of this experiment \(it takes --n, --d, --widths, --steps\)/);
  rejects(['skip', '--widths', '10'], /--widths is not an option/);
});

test('dltheory converge sgd: no power law printed when too few runs reach the target', () => {
  const r = cli('sgd', '--ns', '20', '--depths', '1,2', '--width', '16', '--max-epochs', '1');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /only 0 of 2 runs reached loss ≤ ε at 100% training accuracy within --max-epochs: no power law fitted \(it needs 4\)/);
  assert.doesNotMatch(r.stdout, /NaN/);
});

test('every converge experiment releases its tensors', () => {
  const tiny = { n: 20, trunkWidth: 2, inits: 1, epochs: 2, lr: 0.01 };
  const experiments: [string, () => unknown][] = [
    ['width', () => twoLayerWidthSweep({ n: 10, d: 4, widths: [8], steps: 3, seed: 0 })],
    ['depth', () => depthSweep({ n: 6, d: 3, width: 8, depths: [2], steps: 2, seed: 0 })],
    ['sgd', () => sgdIterations({ ns: [40], depths: [1], width: 16, lr: 0.1, epsilon: 0.5, maxEpochs: 2 }, 0)],
    ['skip', () => randomLabelFits(tiny, 0)],
    ['landscape', () => landscapes(tiny, 0)],
  ];
  for (const [name, run] of experiments) {
    const before = liveTensors();
    run();
    assert.equal(liveTensors(), before, name);
  }
});
