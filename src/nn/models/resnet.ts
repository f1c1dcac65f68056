/**
 * A small ResNet for C×S×S images, `resnet:3x32x32-10[:w=16]`: a 3×3 stem (w channels, BN, ReLU),
 * three stages of one basic block each (w, 2w, 4w channels; stride 1, 2, 2), global average
 * pooling and a Linear classifier. Basic block (He et al. 2016):
 *   y = ReLU(BN(conv(ReLU(BN(conv(x))))) + shortcut(x)), shortcut a 1×1 conv + BN when shapes change.
 * Probe points: `input`, `stage1`, `stage2`, `stage3` (block outputs).
 */
import type { Tensor } from '../../engine/tensor.js';
import { Module } from '../module.js';
import { Conv2d } from '../conv.js';
import { Linear } from '../linear.js';
import { BatchNorm } from '../norm.js';
import * as F from '../functional.js';

class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm;
  readonly shortcut: { conv: Conv2d; bn: BatchNorm } | null;

  constructor(inC: number, outC: number, stride: number) {
    super();
    this.conv1 = this.child('conv1', new Conv2d(inC, outC, 3, { stride, padding: 1, bias: false }));
    this.bn1 = this.child('bn1', new BatchNorm(outC));
    this.conv2 = this.child('conv2', new Conv2d(outC, outC, 3, { padding: 1, bias: false }));
    this.bn2 = this.child('bn2', new BatchNorm(outC));
    this.shortcut = stride !== 1 || inC !== outC
      ? { conv: this.child('shortcut.0', new Conv2d(inC, outC, 1, { stride, bias: false })), bn: this.child('shortcut.1', new BatchNorm(outC)) }
      : null;
  }

  /** x [N, inC, H, W] → [N, outC, ⌈H/stride⌉, ⌈W/stride⌉]. */
  forward(x: Tensor): Tensor {
    const h = this.bn1.forward(this.conv1.forward(x)).relu();
    const y = this.bn2.forward(this.conv2.forward(h));
    const skip = this.shortcut ? this.shortcut.bn.forward(this.shortcut.conv.forward(x)) : x;
    return y.add(skip).relu();
  }
}

export class SmallResNet extends Module {
  readonly stem: Conv2d;
  readonly bn: BatchNorm;
  readonly stages: BasicBlock[];
  readonly fc: Linear;

  constructor(readonly inputShape: number[], readonly classes: number, readonly opts: { width?: number } = {}) {
    super();
    const w = opts.width ?? 16;
    this.stem = this.child('stem', new Conv2d(inputShape[0], w, 3, { padding: 1, bias: false }));
    this.bn = this.child('bn', new BatchNorm(w));
    this.stages = [
      this.child('stage1', new BasicBlock(w, w, 1)),
      this.child('stage2', new BasicBlock(w, 2 * w, 2)),
      this.child('stage3', new BasicBlock(2 * w, 4 * w, 2)),
    ];
    this.fc = this.child('fc', new Linear(4 * w, classes));
  }

  override probePoints(): string[] {
    return ['input', 'stage1', 'stage2', 'stage3'];
  }

  /** `stage1` (with the stem) and `output`: the operators from the previous probe point; `stage2`, `stage3` a BasicBlock each (see Module.describeProbePoint). */
  override describeProbePoint(point: string): { operator: string; parameters: number } {
    if (point === 'stage1') {
      const parameters = this.stem.numParameters() + this.bn.numParameters() + this.stages[0].numParameters();
      return { operator: 'Conv2d → BatchNorm → relu → BasicBlock', parameters };
    }
    if (point === 'output') return { operator: 'AdaptiveAvgPool2d → Flatten → Linear', parameters: this.fc.numParameters() };
    return super.describeProbePoint(point);
  }

  /**
   * x [N, C, S, S] → logits [N, classes], in the parameters' dtype, which x must share. Probe points: `input` [N, C, S, S],
   * `stage1` [N, w, S, S], `stage2` [N, 2w, ⌈S/2⌉, ⌈S/2⌉], `stage3` [N, 4w, ⌈S/4⌉, ⌈S/4⌉] (3×32×32, w = 16: [N, 64, 8, 8] last).
   */
  forward(x: Tensor): Tensor {
    let h = this.bn.forward(this.stem.forward(this.tap('input', x))).relu();
    this.stages.forEach((stage, i) => {
      h = this.tap(`stage${i + 1}`, stage.forward(h));
    });
    return this.fc.forward(F.adaptiveAvgPool2d(h, 1).flatten(1));
  }
}
