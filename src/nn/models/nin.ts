/**
 * A network-in-network CNN (Lin, Chen, Yan, "Network In Network", ICLR 2014) of the kind Jiang et
 * al.'s populations are made of (docs/papers.md §1: Jiang, Krishnan, Mobahi, Bengio 2019 §5; Jiang,
 * Neyshabur et al. 2020 §A), `nin:1x28x28-10[:w=16][:d=2][:bn][:dropout=P]`:
 *
 *   block b (b = 0 … d−1):  conv 3×3, stride 2 → [BN] → ReLU → conv 1×1 → [BN] → ReLU → conv 1×1 → [BN] → ReLU → [dropout]
 *   head:                   flatten → linear (w·S_d² → classes) → logits
 *
 * Each block halves the side (28 → 14 → 7 → 4) with w channels. Lin et al.'s head is a 1×1
 * convolution to the classes and a global average pool; a linear read-out of the last block instead
 * lets these small networks fit a few thousand Fashion-MNIST images in tens of epochs (with the pool,
 * w = 32, d = 2 reached 69% training accuracy in 40 epochs), which a population of 150 models
 * trained to near-zero training error on two cores needs. Thin deep ones without batch norm still fit
 * slowly (w = 16, d = 3: 51% training accuracy on average after 30 epochs in the `paper` zoo; w = 4 or
 * 8 may stay at chance), which the zoo's minTrainAccuracy leaves out of a population.
 * Parameter names follow PyTorch modules `blocks.{b}.conv{0,1,2}`, `blocks.{b}.bn{0,1,2}`, `head`.
 * Probe points: `input` and `blocks.{b}`, each block's output (after its last ReLU and dropout).
 */
import type { Tensor } from '../../engine/tensor.js';
import { Module } from '../module.js';
import { Conv2d } from '../conv.js';
import { Linear } from '../linear.js';
import { BatchNorm } from '../norm.js';
import * as F from '../functional.js';

export interface NiNOptions {
  /** Channels of every block (default 16). */
  width?: number;
  /** Number of blocks (default 2). */
  depth?: number;
  batchNorm?: boolean;
  /** Dropout after each block, p ∈ [0, 1). */
  dropout?: number;
}

/** One NiN block: a 3×3 stride-2 convolution and two 1×1 convolutions (the "micro network"), each followed by [BN] and ReLU. */
class NiNBlock extends Module {
  readonly convs: Conv2d[];
  readonly norms: (BatchNorm | null)[];
  constructor(inC: number, width: number, batchNorm: boolean, readonly dropout: number) {
    super();
    this.convs = [
      this.child('conv0', new Conv2d(inC, width, 3, { stride: 2, padding: 1 })),
      this.child('conv1', new Conv2d(width, width, 1)),
      this.child('conv2', new Conv2d(width, width, 1)),
    ];
    this.norms = this.convs.map((_, i) => (batchNorm ? this.child(`bn${i}`, new BatchNorm(width)) : null));
  }

  /** x [N, inC, S, S] → [N, width, ⌈S/2⌉, ⌈S/2⌉]. */
  forward(x: Tensor): Tensor {
    let h = x;
    for (const [i, conv] of this.convs.entries()) {
      const z = conv.forward(h);
      const bn = this.norms[i];
      h = F.relu(bn ? bn.forward(z) : z);
    }
    return this.dropout ? F.dropout(h, this.dropout, this.training) : h;
  }
}

export class NiN extends Module {
  readonly blocks: NiNBlock[];
  readonly head: Linear;

  constructor(readonly inputShape: number[], readonly classes: number, readonly opts: NiNOptions = {}) {
    super();
    const w = opts.width ?? 16;
    const d = opts.depth ?? 2;
    this.blocks = Array.from({ length: d },
      (_, b) => this.child(`blocks.${b}`, new NiNBlock(b ? w : inputShape[0], w, opts.batchNorm ?? false, opts.dropout ?? 0)));
    let side = inputShape[1];
    for (let b = 0; b < d; b++) side = Math.ceil(side / 2);
    this.head = this.child('head', new Linear(w * side * side, classes));
  }

  override probePoints(): string[] {
    return ['input', ...this.blocks.map((_, b) => `blocks.${b}`)];
  }

  /** Each BatchNorm follows the convolution of the same index in its block. */
  override batchNormInputs(): Map<string, string> {
    return new Map(
      this.blocks.flatMap((blk, b) => blk.norms.flatMap((n, i) => (n ? [[`blocks.${b}.bn${i}`, `blocks.${b}.conv${i}`] as [string, string]] : []))),
    );
  }

  /** `blocks.{b}` and `output`: the operators from the previous probe point (see Module.describeProbePoint). */
  override describeProbePoint(point: string): { operator: string; parameters: number } {
    if (point === 'output') return { operator: 'Flatten → Linear', parameters: this.head.numParameters() };
    const b = this.probePoints().indexOf(point) - 1;
    if (b < 0) return super.describeProbePoint(point);
    const conv = this.opts.batchNorm ? 'Conv2d → BatchNorm → ReLU' : 'Conv2d → ReLU';
    const operator = [conv, conv, conv, ...(this.opts.dropout ? ['Dropout'] : [])].join(' → ');
    return { operator, parameters: this.blocks[b].numParameters() };
  }

  /**
   * x [N, C, S, S] → logits [N, classes], in the parameters' dtype, which x must share. Probe points: `input` [N, C, S, S],
   * `blocks.{b}` [N, w, S_b, S_b] with S_b = ⌈S/2^(b+1)⌉ (1×28×28, d = 2: [N, w, 14, 14], [N, w, 7, 7]).
   */
  forward(x: Tensor): Tensor {
    let h = this.tap('input', x);
    for (const [b, block] of this.blocks.entries()) h = this.tap(`blocks.${b}`, block.forward(h));
    return this.head.forward(h.flatten(1));
  }
}
