/**
 * The closed-form and invariance checks of the generalised discrimination value of Schilling et al.
 * (2018), docs/papers.md §5, run by the claim gdv-closed-forms (src/claims/gdv.ts) against
 * src/measures/gdv.ts; trains nothing, well under a second.
 *
 * Closed forms (point classes placed in 3-D with all coordinates distinct, so every dimension varies
 * and each contributes the same, which the 1/√D makes dimension-free):
 * - two equal classes each collapsed to one point: −1;
 * - two point classes with fractions p, 1 − p: −1 / (2√(p(1 − p))), for 90/10 and 70/30;
 * - three equal point classes equally spaced on a line: −√(2/3).
 * Invariances, on a seeded Gaussian mixture (600 points, 8 dims, 3 classes): translation by a random
 * vector of norm ~100, scaling by 7.3, a positive scale per dimension in [e^−3, e^3], every feature
 * duplicated ([x, x]; duplicating only some would reweight dimensions, which GDV is not invariant to).
 */
import { tensor } from '../engine/creation.js';
import { cat } from '../engine/ops.js';
import { scope } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { gaussianMixture } from '../data/synthetic.js';
import { disposeDataset } from '../data/dataset.js';
import { Rng } from '../data/rng.js';
import { gdv } from '../measures/gdv.js';

/** One case: the GDV measured and the value it must have. */
export interface GdvCase {
  name: string;
  /** Short enough for the chart's axis. */
  label: string;
  measured: number;
  expected: number;
}

/** GDV of classes made of `counts[k]` copies of the point `points[k]` (rows of D numbers). */
function gdvOfPoints(points: number[][], counts: number[]): number {
  const rows = counts.flatMap((c, k) => Array.from({ length: c }, () => points[k]));
  const y = counts.flatMap((c, k) => Array.from({ length: c }, () => k));
  return scope(() => gdv(tensor(Float64Array.from(rows.flat()), [rows.length, points[0].length], 'float64'), y).gdv);
}

/** The closed-form cases. */
export function closedFormCases(): GdvCase[] {
  const [a, b] = [[1, 2, 3], [-2, 5, 0.5]];
  const fractions = (p: number) => -1 / (2 * Math.sqrt(p * (1 - p)));
  const [u, v] = [[0.3, -1.2, 2], [4, 1, -1]];
  const line = [-1, 0, 1].map((t) => v.map((vi, d) => vi + t * u[d]));
  return [
    { name: 'two equal point classes', label: 'equal points', measured: gdvOfPoints([a, b], [4, 4]), expected: -1 },
    { name: 'point classes 90/10', label: '90/10 points', measured: gdvOfPoints([a, b], [90, 10]), expected: fractions(0.9) },
    { name: 'point classes 70/30', label: '70/30 points', measured: gdvOfPoints([a, b], [70, 30]), expected: fractions(0.7) },
    { name: 'three equally spaced point classes', label: '3 points, a line', measured: gdvOfPoints(line, [5, 5, 5]), expected: -Math.sqrt(2 / 3) },
  ];
}

/** GDV of a Gaussian mixture and of its translated, scaled and feature-duplicated versions. */
export function invarianceCases(seed: number): GdvCase[] {
  const ds = gaussianMixture({ n: 600, dim: 8, classes: 3, separation: 4, seed });
  const rng = new Rng(seed + 1);
  const vector = (f: () => number) => tensor(Float64Array.from({ length: 8 }, f), [8], 'float64');
  try {
    return scope(() => {
      const x = ds.x.double();
      const y = ds.y.toNumbers();
      const base = gdv(x, y).gdv;
      const variants: [string, string, Tensor][] = [
        ['translated', 'x + c', x.add(vector(() => 35 * rng.normal()))],
        ['scaled by 7.3', '7.3 x', x.mul(7.3)],
        ['scaled per dimension', 'x · w', x.mul(vector(() => Math.exp(6 * rng.uniform() - 3)))],
        ['features duplicated', '[x, x]', cat([x, x], 1)],
      ];
      const cases = variants.map(([name, label, t]) => ({ name: `mixture ${name}`, label: `mixture ${label}`, measured: gdv(t, y).gdv, expected: base }));
      return [{ name: 'mixture', label: 'mixture x', measured: base, expected: base }, ...cases];
    });
  } finally {
    disposeDataset(ds);
  }
}
