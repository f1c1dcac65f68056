/** Loss-landscape slices (src/measures/landscape.ts) against closed forms on a linear model. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dispose, keep, liveTensors, manualSeed, randn, scope, type Tensor } from '../src/engine/index.js';
import { buildModel } from '../src/nn/models/spec.js';
import type { MLP } from '../src/nn/models/mlp.js';
import { filterNormalizedDirection, linePath, lossSurface, snapshot } from '../src/measures/landscape.js';

/** A linear model u = Wx + b (mlp:4-3) with the mean squared error on fixed data. */
function setup(): { m: MLP; x: Tensor; y: Tensor; loss: () => number } {
  manualSeed(0);
  const m = buildModel('mlp:4-3').double() as MLP;
  const x = randn([10, 4], 'float64');
  const y = randn([10, 3], 'float64');
  return { m, x, y, loss: () => scope(() => m.forward(x).sub(y).square().mean().item()) };
}

test('the straight path is the quadratic L(α) = mean((A + αB)²) of a linear model, and parameters come back unchanged', () => {
  const before = liveTensors();
  const { m, x, y, loss } = setup();
  const from = snapshot(m);
  const to = from.map((p) => keep(scope(() => p.add(randn(p.shape, 'float64')))));
  const alphas = [-0.5, 0, 0.25, 0.5, 1, 1.5];
  const path = linePath(m, from, to, alphas, loss);
  scope(() => {
    // residual(α) = A + αB with A = W₀x + b₀ − y and B = (W₁ − W₀)x + (b₁ − b₀).
    const [w0, b0, w1, b1] = [from[0], from[1], to[0], to[1]];
    const A = x.matmul(w0.t()).add(b0).sub(y);
    const B = x.matmul(w1.sub(w0).t()).add(b1.sub(b0));
    for (const { alpha, loss: l } of path) {
      const want = A.add(B.mul(alpha)).square().mean().item();
      assert.ok(Math.abs(l - want) < 1e-12 * (1 + want), `α = ${alpha}: ${l} vs ${want}`);
    }
    assert.ok(m.parameters().every((p, i) => p.sub(from[i]).abs().amax().item() === 0), 'parameters restored');
  });
  dispose([...from, ...to, x, y]);
  m.dispose();
  assert.equal(liveTensors(), before);
});

test('filter-normalised directions: each filter has the norm of the same filter of θ, biases get 0, a seed repeats', () => {
  const { m, x, y } = setup();
  const center = snapshot(m);
  const d = filterNormalizedDirection(center, 3);
  scope(() => {
    const rowNorms = (t: Tensor) => t.norm(2, 1).toNumbers();
    rowNorms(d[0]).forEach((v, i) => assert.ok(Math.abs(v - rowNorms(center[0])[i]) < 1e-12));
    assert.equal(d[1].abs().amax().item(), 0, 'bias direction is zero');
    const again = filterNormalizedDirection(center, 3);
    assert.equal(again[0].sub(d[0]).abs().amax().item(), 0, 'same seed, same direction');
    const other = filterNormalizedDirection(center, 4);
    assert.ok(other[0].sub(d[0]).abs().amax().item() > 0, 'another seed, another direction');
    dispose([...again, ...other]);
  });
  dispose([...center, ...d, x, y]);
  m.dispose();
});

test('the 2-D slice equals the loss at θ* + aδ + bη, point by point', () => {
  const { m, x, y, loss } = setup();
  const center = snapshot(m);
  const [d1, d2] = [filterNormalizedDirection(center, 1), filterNormalizedDirection(center, 2)];
  const as = [-1, 0, 0.5];
  const bs = [-0.5, 0, 1, 2];
  const grid = lossSurface(m, center, d1, d2, as, bs, loss);
  assert.equal(grid.length, 3);
  assert.equal(grid[0].length, 4);
  scope(() => {
    as.forEach((a, r) =>
      bs.forEach((b, c) => {
        const w = center[0].add(d1[0].mul(a)).add(d2[0].mul(b));
        const want = x.matmul(w.t()).add(center[1]).sub(y).square().mean().item();
        assert.ok(Math.abs(grid[r][c] - want) < 1e-12 * (1 + want), `(${a}, ${b})`);
      })
    );
    assert.equal(grid[1][1], loss(), 'the centre is the model itself');
  });
  dispose([...center, ...d1, ...d2, x, y]);
  m.dispose();
});
