/**
 * The alignment front end of the shape lab (docs/papers.md §6, Yu & Sabuncu 2018): a spatial transformer
 * (Jaderberg et al. 2015) that resamples each binary volume [N, 1, S, S, S] into a common frame
 * before the autoencoder, so that the code describes shape, not pose.
 *
 * A small 3-D CNN predicts pose parameters per volume,
 *   rigid (6):  Euler angles α, β, γ and a shift t;            A = Rz(γ)·Ry(β)·Rx(α)
 *   affine (9): the same and log-scales σ (one per axis);      A = Rz(γ)·Ry(β)·Rx(α)·diag(e^σ)
 * and the aligned volume is the input sampled trilinearly at A·q + t for each output voxel q
 * (affineGrid + gridSample, alignCorners false, zeros outside): the inverse of a scan's pose
 * p = A·q + t as src/data/shapes.ts draws it. The CNN is four stride-2 convolutions (k3, LeakyReLU
 * 0.2, channels w, 2w, 4w, 4w) and a linear layer on the flattened (S/16)³ map, zero-initialised so
 * training starts from the identity. Training (src/train/shapes.ts) uses the soft Dice to a template
 * (a mean shape in the common frame) plus the autoencoder's reconstruction Dice.
 */
import type { Tensor } from '../../engine/tensor.js';
import { onesLike, zerosLike } from '../../engine/creation.js';
import { stack } from '../../engine/ops.js';
import { noGrad } from '../../engine/autograd.js';
import { check } from '../../errors.js';
import { Module } from '../module.js';
import { Conv3d } from '../conv.js';
import { Linear } from '../linear.js';
import * as F from '../functional.js';

export type AlignMode = 'rigid' | 'affine';
export const ALIGN_PARAMS: Readonly<Record<AlignMode, number>> = { rigid: 6, affine: 9 };

/** Rotations [N, 3, 3] by angles a [N] about one coordinate axis (0 = x, 1 = y, 2 = z). */
function axisRotation(a: Tensor, axis: number): Tensor {
  const [c, s, one, zero] = [a.cos(), a.sin(), onesLike(a), zerosLike(a)];
  const rows = [
    [[one, zero, zero], [zero, c, s.neg()], [zero, s, c]],
    [[c, zero, s], [zero, one, zero], [s.neg(), zero, c]],
    [[c, s.neg(), zero], [s, c, zero], [zero, zero, one]],
  ][axis];
  return stack(rows.flat(), 1).reshape([a.size(0), 3, 3]);
}

/** The affine maps [N, 3, 4] = [A | t] of pose parameters [N, 6] (rigid) or [N, 9] (affine); see the module comment. */
export function poseMatrix(params: Tensor): Tensor {
  check(params.ndim === 2 && (params.size(1) === 6 || params.size(1) === 9),
    () => `pose parameters must be [N, 6] (rigid) or [N, 9] (affine), got [${params.shape}]`);
  const col = (i: number) => params.select(1, i);
  let a = axisRotation(col(2), 2).bmm(axisRotation(col(1), 1)).bmm(axisRotation(col(0), 0));
  if (params.size(1) === 9) a = a.mul(params.narrow(1, 6, 3).exp().unsqueeze(1));
  return F.pad(a, [0, 1]).add(F.pad(params.narrow(1, 3, 3).unsqueeze(2), [3, 0]));
}

/** Volumes [N, C, D, H, W] resampled at the poses (trilinear): out(q) = x(A·q + t). */
export function warp(x: Tensor, params: Tensor): Tensor {
  check(x.ndim === 5 && x.size(0) === params.size(0), () => `warp needs volumes [N, C, D, H, W] and N pose vectors, got [${x.shape}] and [${params.shape}]`);
  return F.gridSample(x, F.affineGrid(poseMatrix(params), x.shape));
}

export interface AlignNetOptions {
  /** Side of the input cube, a multiple of 16. */
  size: number;
  mode: AlignMode;
  /** Channels of the first convolution (default 8). */
  width?: number;
}

export class AlignNet extends Module {
  readonly size: number;
  readonly mode: AlignMode;
  readonly convs: Conv3d[];
  readonly head: Linear;

  constructor(o: AlignNetOptions) {
    super();
    const { size, mode, width: w = 8 } = o;
    check(Number.isInteger(size) && size >= 16 && size % 16 === 0, () => `the alignment network needs a cube side that is a multiple of 16, got ${size}`);
    check(mode in ALIGN_PARAMS, () => `alignment must be rigid or affine, got ${JSON.stringify(mode)}`);
    check(Number.isInteger(w) && w >= 1, () => `width must be a positive integer, got ${w}`);
    this.size = size;
    this.mode = mode;
    const channels = [1, w, 2 * w, 4 * w, 4 * w];
    this.convs = channels.slice(1).map((c, i) => this.child(`convs.${i}`, new Conv3d(channels[i], c, 3, { stride: 2, padding: 1 })));
    this.head = this.child('head', new Linear(4 * w * (size / 16) ** 3, ALIGN_PARAMS[mode]));
    // The identity pose at the start: an untrained front end passes volumes through unchanged.
    noGrad(() => [this.head.weight, this.head.bias!].forEach((t) => t.zero_()));
  }

  /** Pose parameters [N, 6|9] of volumes [N, 1, S, S, S]. */
  pose(x: Tensor): Tensor {
    check(x.ndim === 5 && x.size(1) === 1 && x.shape.slice(2).every((d) => d === this.size),
      () => `the alignment network takes [N, 1, ${this.size}, ${this.size}, ${this.size}], got [${x.shape}]`);
    let h = x;
    for (const conv of this.convs) h = conv.forward(h).leakyRelu(0.2);
    return this.head.forward(h.flatten(1));
  }

  /** Volumes x [N, 1, S, S, S] → the aligned volumes [N, 1, S, S, S]: x resampled at its predicted pose. No probe points. */
  forward(x: Tensor): Tensor {
    return warp(x, this.pose(x));
  }
}
