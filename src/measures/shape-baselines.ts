/**
 * Shape retrieval and its baselines for the shape lab (docs/papers.md §6, Yu & Sabuncu 2018, whose
 * evaluation is retrieval of a subject's other scan by the distance between codes).
 *
 * Retrieval: with features f_1…f_N (codes or a baseline's), item i retrieves the others in order of
 * the Euclidean distance ‖f_i − f_j‖; top-1 accuracy is the fraction of items whose nearest other
 * item is a scan of the same subject.
 *
 * Baselines, for binary masks m on a grid of voxel sizes (v_x, v_y, v_z):
 * - volume V = v_x·v_y·v_z · Σ m;
 * - surface area A ≈ (2/3) · Σ_faces a_face, the sum over voxel faces between a voxel inside and one
 *   outside (the cube's outside counts as outside), a_face the face's area (v_y·v_z for faces normal
 *   to x, …). A surface element of unit normal n shows up as (|n_x| + |n_y| + |n_z|) dA of faces,
 *   whose mean over all directions is 3/2, hence the 2/3 (Cauchy's projection formula); it is
 *   unbiased for surfaces without preferred directions, such as a ball;
 *   both are standardised (z-scores over the set) before distances are taken;
 * - PCA on the voxels: with the fitting set's flattened masks X (rows), mean μ and thin SVD
 *   X − μ = U·Σ·Vᵀ, the features of a mask x are (x − μ)·V_k, its first k principal components.
 */
import { eye } from '../engine/creation.js';
import { scope } from '../engine/memory.js';
import * as linalg from '../engine/linalg.js';
import { linalgStep } from './finite.js';
import type { Tensor } from '../engine/tensor.js';
import { check } from '../errors.js';
import { pad } from '../nn/functional.js';

/** Volume and (isotropically corrected) surface area of each mask [N, (1,) D, H, W], voxel sizes (x, y, z). */
export function volumeAndSurface(masks: Tensor, voxelSize: number[] = [1, 1, 1]): { volume: number[]; surface: number[] } {
  check(masks.ndim === 4 || (masks.ndim === 5 && masks.size(1) === 1), () => `masks must be [N, D, H, W] or [N, 1, D, H, W], got [${masks.shape}]`);
  check(voxelSize.length === 3 && voxelSize.every((v) => v > 0), 'voxel sizes must be 3 positive numbers (x, y, z)');
  const [vx, vy, vz] = voxelSize;
  return scope(() => {
    const m = masks.reshape([masks.size(0), ...masks.shape.slice(-3)]).ge(0.5).double();
    const padded = pad(m, [1, 1, 1, 1, 1, 1]);
    // Tensor dims 1, 2, 3 run along z, y, x; a face normal to z has area v_x·v_y.
    const faces = [[1, vx * vy], [2, vx * vz], [3, vy * vz]].map(([dim, area]) => {
      const n = padded.size(dim);
      return padded.narrow(dim, 1, n - 1).sub(padded.narrow(dim, 0, n - 1)).abs().sum([1, 2, 3]).mul(area);
    });
    return {
      volume: m.sum([1, 2, 3]).mul(vx * vy * vz).toNumbers(),
      surface: faces[0].add(faces[1]).add(faces[2]).mul(2 / 3).toNumbers(),
    };
  });
}

/** Columns of features [N, D] as z-scores over the rows (a constant column becomes 0). */
export function standardizeColumns(f: Tensor): Tensor {
  return scope(() => {
    const x = f.double();
    const sd = x.std(0, { correction: 0, keepdim: true });
    return x.sub(x.mean(0, true)).div(sd.add(sd.eq(0).double()));
  });
}

export interface Pca {
  /** μ, [D]. */
  mean: Tensor;
  /** V_k, [D, k]. */
  components: Tensor;
  /** Σ_k, [k]. */
  singularValues: Tensor;
}

/** PCA of rows [N, ...] (flattened) keeping k components (float64). */
export function fitPca(x: Tensor, k: number): Pca {
  const n = x.size(0);
  check(Number.isInteger(k) && k >= 1 && k <= Math.min(n, x.numel / n),
    () => `PCA of ${n} rows of ${x.numel / n} values can keep 1 to ${Math.min(n, x.numel / n)} components, not ${k}`);
  return scope(() => {
    const rows = x.reshape([n, -1]).double();
    const mean = rows.mean(0);
    const { S, Vh } = linalgStep('shape PCA', rows.sub(mean), (a) => linalg.svd(a));
    return { mean, components: Vh.narrow(0, 0, k).t().contiguous(), singularValues: S.narrow(0, 0, k) };
  });
}

/** Principal-component features [N, k] of rows x [N, ...]. */
export function pcaFeatures(pca: Pca, x: Tensor): Tensor {
  return scope(() => x.reshape([x.size(0), -1]).double().sub(pca.mean).matmul(pca.components));
}

/** Euclidean distances [Q, G] between rows of queries [Q, D] and gallery [G, D] (float64). */
export function distances(queries: Tensor, gallery: Tensor): Tensor {
  check(queries.ndim === 2 && gallery.ndim === 2 && queries.size(1) === gallery.size(1),
    () => `distances need [Q, D] and [G, D] features, got [${queries.shape}] and [${gallery.shape}]`);
  return scope(() => queries.double().unsqueeze(1).sub(gallery.double().unsqueeze(0)).square().sum(2).sqrt());
}

/** For each row of f [N, D], the index of its nearest other row. */
export function nearestOther(f: Tensor): number[] {
  check(f.size(0) >= 2, 'retrieval needs at least two items');
  return scope(() => distances(f, f).maskedFill(eye(f.size(0)).gt(0), Infinity).argmin(1).toNumbers());
}

/** Top-1 retrieval accuracy: the fraction of items whose nearest other item has the same subject. */
export function topOneAccuracy(f: Tensor, subjects: readonly number[]): number {
  check(subjects.length === f.size(0), () => `${subjects.length} subject ids for ${f.size(0)} items`);
  const nearest = nearestOther(f);
  return nearest.filter((j, i) => subjects[j] === subjects[i]).length / nearest.length;
}
