/**
 * Moment normalisation of binary volumes: the closed-form first alignment of the shape lab
 * (docs/papers.md §6, Yu & Sabuncu 2018), before the learned front end of src/nn/models/align.ts,
 * which then only refines. The classical normalisation of image moments (Hu 1962; for 3-D shapes
 * e.g. Sadjadi & Hall 1980): move the centre of mass to the origin and turn the principal axes of
 * the second-moment tensor onto x, y, z.
 *
 * For a volume with mass m(p) ≥ 0 at voxel centres p ∈ [−1, 1]³ (voxel i of S at (2i + 1)/S − 1,
 * gridSample's alignCorners=false convention; x along the last tensor dim):
 *   M = Σ m,  c = Σ m·p / M,  C = Σ m·(p − c)(p − c)ᵀ / M  (3 × 3, the inertia tensor up to trace);
 *   C = E·diag(λ)·Eᵀ, λ₁ ≥ λ₂ ≥ λ₃ (largest spread along the new x);
 *   the sign of each column e_k makes the third moment Σ m·(e_k·(p − c))³ non-negative (the
 *   skewness: heavier tail on the + side); if then det E = −1, the column whose third moment is
 *   smallest in size — the least determined sign — is flipped, so E is a proper rotation.
 * The normalised volume is x sampled at p = E·q + c for each output voxel q (trilinear, zeros
 * outside, then thresholded at 0.5 so it stays binary): a function of the shape alone, whatever its
 * pose, up to interpolation. Where two λ coincide (a shape symmetric about an axis) or a third
 * moment vanishes (a mirror-symmetric shape) the frame is not determined, but then the shape is
 * (nearly) the same in each of the frames it could pick.
 */
import { check } from '../errors.js';
import { affineGrid, gridSample } from '../engine/sampling.js';
import { cat, linalg, scope, tensor, type Tensor } from '../engine/index.js';

/** Volumes normalised per call of the moment sums: [B, V, 3] float64 temporaries stay small. */
const CHUNK = 16;

/** Voxel centres [S³, 3] (x, y, z), x fastest, of a cube of side `size`, float64. */
function voxelCentres(size: number): Tensor {
  const c = Array.from({ length: size }, (_, i) => (2 * i + 1) / size - 1);
  const out = new Float64Array(3 * size ** 3);
  for (let z = 0, n = 0; z < size; z++) for (let y = 0; y < size; y++) for (let x = 0; x < size; x++, n++) out.set([c[x], c[y], c[z]], 3 * n);
  return tensor(out, [size ** 3, 3], 'float64');
}

/** Determinant of a row-major 3 × 3 matrix. */
const det3 = (a: number[]) => a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) + a[2] * (a[3] * a[7] - a[4] * a[6]);

/**
 * The moment frames [N, 3, 4] = [E | c] of volumes x [N, 1, S, S, S] (masses ≥ 0, each with some
 * mass): E's columns the principal axes (a proper rotation), c the centre of mass, both in the
 * cube's coordinates [−1, 1]³; see the module comment. float32, ready for affineGrid.
 */
export function momentFrames(x: Tensor): Tensor {
  check(x.ndim === 5 && x.size(1) === 1 && x.size(2) === x.size(3) && x.size(3) === x.size(4),
    () => `moment normalisation needs cubes [N, 1, S, S, S], got [${x.shape}]`);
  const n = x.size(0);
  const theta: number[] = [];
  scope(() => {
    const p = voxelCentres(x.size(-1));
    for (let start = 0; start < n; start += CHUNK) {
      const m = x.narrow(0, start, Math.min(CHUNK, n - start)).flatten(1).double(); // [B, V]
      const mass = m.sum(1, true);
      check(mass.gt(0).all().item(), 'moment normalisation: a volume is empty');
      const c = m.matmul(p).div(mass); // [B, 3]
      const d = p.unsqueeze(0).sub(c.unsqueeze(1)); // [B, V, 3]
      const cov = d.mul(m.unsqueeze(2)).transpose(1, 2).matmul(d).div(mass.unsqueeze(2)); // [B, 3, 3]
      const e = linalg.eigh(cov).vectors.flip([2]); // descending eigenvalues
      const third = d.matmul(e).pow(3).mul(m.unsqueeze(2)).sum(1).toNumbers(); // [B, 3]
      const [es, cs] = [e.toNumbers(), c.toNumbers()];
      for (let b = 0; b < es.length / 9; b++) {
        const a = es.slice(9 * b, 9 * b + 9);
        const t = third.slice(3 * b, 3 * b + 3);
        const sign: number[] = t.map((v) => (v < 0 ? -1 : 1));
        if (det3(a.map((v, i) => v * sign[i % 3])) < 0) {
          const weakest = t.map(Math.abs).reduce((best, v, k, all) => (v < all[best] ? k : best), 0);
          sign[weakest] = -sign[weakest];
        }
        for (let r = 0; r < 3; r++) theta.push(a[3 * r] * sign[0], a[3 * r + 1] * sign[1], a[3 * r + 2] * sign[2], cs[3 * b + r]);
      }
    }
  });
  return tensor(theta, [n, 3, 4], 'float32');
}

/** Volumes x [N, 1, S, S, S] resampled into their moment frames (binary, float32); see the module comment. */
export function momentAlign(x: Tensor): Tensor {
  return scope(() => {
    const theta = momentFrames(x);
    const parts: Tensor[] = [];
    for (let start = 0; start < x.size(0); start += CHUNK) {
      const b = Math.min(CHUNK, x.size(0) - start);
      const grid = affineGrid(theta.narrow(0, start, b), [b, ...x.shape.slice(1)]);
      parts.push(gridSample(x.narrow(0, start, b).float(), grid).ge(0.5).float());
    }
    return cat(parts, 0);
  });
}
