/**
 * Data augmentation on a batch of images [N, C, H, W]: each image shifted by its own random
 * integer offset in [−s, s] on both axes, filled with zeros — sampled exactly (nearest neighbour
 * at pixel centres) through an affine grid. Draws come from the engine's seeded generator.
 */
import type { Tensor } from '../engine/tensor.js';
import { randint, zeros } from '../engine/creation.js';
import { stack } from '../engine/ops.js';
import { affineGrid, gridSample } from '../engine/sampling.js';

export function randomShift(x: Tensor, maxShift: number): Tensor {
  const [n, , h, w] = x.shape;
  // A shift of k pixels is a translation of 2k/size in the grid's [−1, 1] coordinates.
  const shifts = randint(-maxShift, maxShift + 1, [n, 2]).to(x.dtype);
  const tx = shifts.select(1, 0).mul(-2 / w);
  const ty = shifts.select(1, 1).mul(-2 / h);
  const one = zeros([n]).to(x.dtype).add(1);
  const zero = zeros([n]).to(x.dtype);
  const theta = stack([stack([one, zero, tx], 1), stack([zero, one, ty], 1)], 1);
  const grid = affineGrid(theta, x.shape, false);
  return gridSample(x, grid, { mode: 'nearest', padding: 'zeros', alignCorners: false });
}
