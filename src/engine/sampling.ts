/**
 * Resampling by an affine map, as torch.nn.functional.affine_grid and grid_sample: the grid of
 * sampling locations in [−1, 1] for a batch of affine maps, and the input sampled there. The data
 * layer's augmentations and volume crops use them as well as the models, so they sit in the engine.
 */
import { N } from './native.js';
import { type Tensor, wrap } from './tensor.js';

/**
 * The sampling grid of the affine maps theta for an output of `size`: theta [N, 2, 3] and size
 * [N, C, H, W] give [N, H, W, 2]; theta [N, 3, 4] and size [N, C, D, H, W] give [N, D, H, W, 3].
 */
export function affineGrid(theta: Tensor, size: number[], alignCorners = false): Tensor {
  return wrap(N.affineGrid(theta.id, size, alignCorners));
}
const MODES = { bilinear: 0, nearest: 1 } as const;
const PADDING = { zeros: 0, border: 1, reflection: 2 } as const;
/**
 * x [N, C, H, W] sampled at grid [N, Ho, Wo, 2] → [N, C, Ho, Wo] (5-D alike, where bilinear is
 * trilinear); locations in [−1, 1]: ±1 are the centres of x's corner pixels with alignCorners, their outer edges without.
 */
export function gridSample(
  x: Tensor,
  grid: Tensor,
  o: { mode?: keyof typeof MODES; padding?: keyof typeof PADDING; alignCorners?: boolean } = {},
): Tensor {
  return wrap(N.gridSample(x.id, grid.id, MODES[o.mode ?? 'bilinear'], PADDING[o.padding ?? 'zeros'], o.alignCorners ?? false));
}
