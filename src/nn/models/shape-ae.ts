/**
 * The 3-D convolutional autoencoder of Yu & Sabuncu 2018 (docs/papers.md §6) for binary shape volumes
 * [N, 1, S, S, S], S a multiple of 16 (32 to 80 in practice), base width w (16 in the paper) and
 * latent length L (the paper's 128):
 *   encoder: conv 1→w k3, then four times [residual block → stride-2 conv k3], channels
 *            w → 2w → 4w → 8w → 8w, then a conv with kernel S/16 (the whole remaining volume) to a
 *            1×1×1×L code;
 *   decoder: its mirror — a transposed conv L → 8w with kernel S/16, four times [stride-2 transposed
 *            conv k3 → residual block], channels 8w → 8w → 4w → 2w → w, conv w → 1 k3, sigmoid.
 * Residual block: y = x + IN(conv(LReLU(IN(conv(x))))), IN instance norm without affine (PyTorch's
 * default), LeakyReLU slope 0.2; each strided and the stem conv is followed by LeakyReLU 0.2, the
 * code is linear. Trained with the soft Dice loss (src/nn/dice.ts). Probe points: `input`, `latent`.
 */
import type { Tensor } from '../../engine/tensor.js';
import { check } from '../../errors.js';
import { Module } from '../module.js';
import { Conv3d, ConvTranspose3d } from '../conv.js';
import * as F from '../functional.js';

const SLOPE = 0.2;

class ResBlock3d extends Module {
  readonly conv1: Conv3d;
  readonly conv2: Conv3d;
  constructor(channels: number) {
    super();
    this.conv1 = this.child('conv1', new Conv3d(channels, channels, 3, { padding: 1 }));
    this.conv2 = this.child('conv2', new Conv3d(channels, channels, 3, { padding: 1 }));
  }
  /** x [N, C, D, H, W] → the same shape. */
  forward(x: Tensor): Tensor {
    const h = F.instanceNorm(this.conv1.forward(x)).leakyRelu(SLOPE);
    return x.add(F.instanceNorm(this.conv2.forward(h)));
  }
}

export interface ShapeAutoencoderOptions {
  /** Side of the input cube, a multiple of 16. */
  size: number;
  /** Length of the code (8 to 128 in the shape lab). */
  latent: number;
  /** Channels after the stem (default 16, as the paper). */
  width?: number;
}

export class ShapeAutoencoder extends Module {
  readonly size: number;
  readonly latent: number;
  readonly stem: Conv3d;
  readonly encoderBlocks: ResBlock3d[];
  readonly down: Conv3d[];
  readonly toLatent: Conv3d;
  readonly fromLatent: ConvTranspose3d;
  readonly up: ConvTranspose3d[];
  readonly decoderBlocks: ResBlock3d[];
  readonly out: Conv3d;

  constructor(o: ShapeAutoencoderOptions) {
    super();
    const { size, latent, width: w = 16 } = o;
    check(Number.isInteger(size) && size >= 16 && size % 16 === 0, () => `the shape autoencoder needs a cube side that is a multiple of 16, got ${size}`);
    check(Number.isInteger(latent) && latent >= 1, () => `latent length must be a positive integer, got ${latent}`);
    check(Number.isInteger(w) && w >= 1, () => `width must be a positive integer, got ${w}`);
    this.size = size;
    this.latent = latent;
    const channels = [w, 2 * w, 4 * w, 8 * w, 8 * w];
    this.stem = this.child('stem', new Conv3d(1, w, 3, { padding: 1 }));
    this.encoderBlocks = channels.slice(0, 4).map((c, i) => this.child(`encoder_blocks.${i}`, new ResBlock3d(c)));
    this.down = channels.slice(0, 4).map((c, i) => this.child(`down.${i}`, new Conv3d(c, channels[i + 1], 3, { stride: 2, padding: 1 })));
    this.toLatent = this.child('to_latent', new Conv3d(8 * w, latent, size / 16));
    this.fromLatent = this.child('from_latent', new ConvTranspose3d(latent, 8 * w, size / 16));
    const back = [...channels].reverse();
    this.up = back.slice(0, 4).map((c, i) => this.child(`up.${i}`, new ConvTranspose3d(c, back[i + 1], 3, { stride: 2, padding: 1, outputPadding: 1 })));
    this.decoderBlocks = back.slice(1).map((c, i) => this.child(`decoder_blocks.${i}`, new ResBlock3d(c)));
    this.out = this.child('out', new Conv3d(w, 1, 3, { padding: 1 }));
  }

  override probePoints(): string[] {
    return ['input', 'latent'];
  }

  /** The codes [N, L] of volumes [N, 1, S, S, S]. */
  encode(x: Tensor): Tensor {
    check(x.ndim === 5 && x.size(1) === 1 && x.shape.slice(2).every((d) => d === this.size),
      () => `the shape autoencoder takes [N, 1, ${this.size}, ${this.size}, ${this.size}], got [${x.shape}]`);
    let h = this.stem.forward(x).leakyRelu(SLOPE);
    this.down.forEach((down, i) => {
      h = down.forward(this.encoderBlocks[i].forward(h)).leakyRelu(SLOPE);
    });
    return this.toLatent.forward(h).flatten(1);
  }

  /** Voxel probabilities [N, 1, S, S, S] of codes [N, L]. */
  decode(z: Tensor): Tensor {
    check(z.ndim === 2 && z.size(1) === this.latent, () => `codes must be [N, ${this.latent}], got [${z.shape}]`);
    let h = this.fromLatent.forward(z.reshape([z.size(0), this.latent, 1, 1, 1])).leakyRelu(SLOPE);
    this.up.forEach((up, i) => {
      h = this.decoderBlocks[i].forward(up.forward(h).leakyRelu(SLOPE));
    });
    return this.out.forward(h).sigmoid();
  }

  /**
   * Volumes x [N, 1, S, S, S] (values in [0, 1], the parameters' dtype) → voxel probabilities [N, 1, S, S, S].
   * Probe points: `input` [N, 1, S, S, S], `latent` [N, L] (the code).
   */
  forward(x: Tensor): Tensor {
    return this.decode(this.tap('latent', this.encode(this.tap('input', x))));
  }
}
