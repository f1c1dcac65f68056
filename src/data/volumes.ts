/**
 * Label volumes for the shape autoencoder of docs/papers.md §6 (Yu & Sabuncu 2018): the binary mask of
 * one label, cut to a cube around the structure and resampled to the model's size. Volumes are read
 * and written by the NIfTI-1 codec of nifti.ts.
 */
import { InputError, check } from '../errors.js';
import { affineGrid, gridSample } from '../engine/sampling.js';
import { scope, tensor, type Tensor } from '../engine/index.js';
import { dims, niftiHeader, readNifti, volumeTensor, type Volume } from './nifti.js';

/** A uint8 volume [x, y, z] from a 0/1 mask tensor [z, y, x] (voxel sizes default 1 mm). */
export function maskVolume(mask: Tensor, voxelSize?: number[]): Volume {
  check(mask.ndim === 3, () => `a mask volume needs a [z, y, x] tensor, got shape [${mask.shape}]`);
  const data = scope(() => mask.gt(0.5).toArray() as Uint8Array);
  return { header: niftiHeader(mask.shape.reverse(), voxelSize), data };
}

/** Options of fitToCube. */
export interface CubeOptions {
  /** Side of the output cube in voxels (32 to 80 for the autoencoder). */
  size: number;
  /** Empty output voxels kept on each side of the structure's longest extent (default 2). */
  margin?: number;
  /** Voxel sizes (x, y, z) of the input, so an anisotropic scan keeps its proportions (default 1 mm). */
  voxelSize?: number[];
  /** Trilinear then threshold 0.5 (default), or nearest neighbour. */
  mode?: 'trilinear' | 'nearest';
}

/** First and last index along each of z, y, x where the mask is non-zero. */
function boundingBox(mask: Tensor): [number, number][] {
  return scope(() =>
    [[1, 2], [0, 2], [0, 1]].map((others) => {
      const profile = mask.amax(others).toNumbers();
      const first = profile.findIndex((v) => v > 0);
      return [first, first < 0 ? -1 : profile.length - 1 - [...profile].reverse().findIndex((v) => v > 0)] as [number, number];
    })
  );
}

/**
 * A binary mask [z, y, x] cut to the physical cube around its bounding box, centred, whose side is
 * the longest extent (mm) plus `margin` output voxels each side, and resampled to size³. One
 * gridSample does both the crop and the padding (zeros outside the input). Returns [size, size, size]
 * float32 of 0/1; an empty mask is an InputError.
 */
export function fitToCube(mask: Tensor, o: CubeOptions): Tensor {
  const { size, margin = 2, mode = 'trilinear' } = o;
  const spacing = o.voxelSize ?? [1, 1, 1];
  check(mask.ndim === 3, () => `fitToCube needs a [z, y, x] mask, got shape [${mask.shape}]`);
  check(Number.isInteger(size) && size >= 4, () => `cube size must be an integer >= 4, got ${size}`);
  check(Number.isInteger(margin) && margin >= 0 && 2 * margin < size, () => `margin must be an integer in [0, ${Math.ceil(size / 2) - 1}], got ${margin}`);
  check(spacing.length === 3 && spacing.every((s) => s > 0), 'voxel sizes must be 3 positive numbers (x, y, z)');
  const box = boundingBox(mask).reverse(); // x, y, z
  check(box.every(([lo]) => lo >= 0), 'the mask is empty (is the label present?)');
  const extent = Math.max(...box.map(([lo, hi], k) => (hi - lo + 1) * spacing[k]));
  const side = (extent * size) / (size - 2 * margin);
  const n = mask.shape.reverse();
  // gridSample (alignCorners false) puts input index i at (2i + 1)/n − 1 and output voxel j at
  // (2j + 1)/size − 1; mapping the output cube onto `side` mm around the box centre is a diagonal affine.
  const theta = [0, 1, 2].flatMap((k) => {
    const centre = (box[k][0] + box[k][1]) / 2;
    return [0, 1, 2].map((j) => (j === k ? side / (spacing[k] * n[k]) : 0)).concat((2 * centre + 1) / n[k] - 1);
  });
  return scope(() => {
    const grid = affineGrid(tensor(theta, [1, 3, 4], 'float32'), [1, 1, size, size, size]);
    const sampled = gridSample(mask.float().reshape([1, 1, ...mask.shape]), grid, { mode: mode === 'nearest' ? 'nearest' : 'bilinear' });
    return sampled.ge(0.5).float().reshape([size, size, size]);
  });
}

/**
 * The 0/1 mask [z, y, x] (float32) of `label` (any non-zero label if omitted) in a 3-D label volume
 * read from `path`; a volume of other dimensions, or a label absent from it, is an InputError naming the file.
 */
export function labelMask(volume: Volume, path: string, label?: number): Tensor {
  const shape = dims(volume.header);
  if (shape.length < 3 || shape.slice(3).some((d) => d !== 1)) throw new InputError(`${path}: a label volume needs 3 dimensions, got [${shape}]`);
  return scope(() => {
    const labels = volumeTensor(volume).reshape(shape.slice(0, 3).reverse());
    const mask = label === undefined ? labels.ne(0) : labels.eq(label);
    if (!mask.any().item()) throw new InputError(`${path}: ${label === undefined ? 'no labelled voxel' : `label ${label} not present`}`);
    return mask.float();
  });
}

/** Reads a label volume and returns the mask of `label` (see labelMask) fitted to a cube (see fitToCube). */
export function readMask(path: string, o: CubeOptions & { label?: number }): Tensor {
  const volume = readNifti(path);
  return scope(() => fitToCube(labelMask(volume, path, o.label), { ...o, voxelSize: o.voxelSize ?? volume.header.pixdim.slice(1, 4).map(Math.abs) }));
}
