/**
 * Nguyen, Mukkamala and Hein's (ICLR 2019) skip-to-output network: any trunk (an MLP or the small
 * CNN) plus M hidden units with their own linear connections straight to the output,
 *   s(x) = σ(U·vec(x) + c) ∈ ℝ^M,      f(x) = trunk(x) + V·s(x),
 * σ = softplus (real-analytic and strictly increasing, as the theorem needs; ReLU does not qualify).
 * With M ≥ N training points and cross-entropy loss, the N×M matrix Φ = [s(x_1); …; s(x_N)] has rank
 * N for almost every (U, c), the loss is convex in V for fixed (U, c), and from every starting point
 * a path of non-increasing loss leads to zero: no bad local valleys. `skipFeatureRank` checks the
 * rank condition on the given points.
 *
 * Specs: `skip:IN-…-OUT:m=M` (an MLP trunk with softplus) and `skipcnn:CxSxS-K:m=M[:w=W]` (the
 * small CNN with softplus). Parameters `trunk.*`, `skip.weight` [M, IN], `skip.bias` [M],
 * `skipOut.weight` [OUT, M] (no bias: the trunk's output layer has one). Probe points: the trunk's,
 * and `skip` (the pre-activations U·vec(x) + c).
 */
import { noGrad } from '../../engine/autograd.js';
import { matrixRank } from '../../engine/linalg.js';
import { scope } from '../../engine/memory.js';
import type { Tensor } from '../../engine/tensor.js';
import { Module, type ForwardHook, type HookHandle } from '../module.js';
import { Linear } from '../linear.js';

export class SkipToOutput extends Module {
  readonly skip: Linear;
  readonly skipOut: Linear;
  constructor(readonly trunk: Module, inputs: number, readonly skipUnits: number, classes: number) {
    super();
    this.child('trunk', trunk);
    this.skip = this.child('skip', new Linear(inputs, skipUnits));
    this.skipOut = this.child('skipOut', new Linear(skipUnits, classes, { bias: false }));
  }

  override probePoints(): string[] {
    return [...this.trunk.probePoints(), 'skip'];
  }

  /** The trunk's probe points are the trunk's to tap, so hooks on them go to the trunk. */
  override registerForwardHook(point: string, hook: ForwardHook): HookHandle {
    return this.trunk.probePoints().includes(point) ? this.trunk.registerForwardHook(point, hook) : super.registerForwardHook(point, hook);
  }

  /** The shape of one point, when the trunk says (the CNN's C×S×S); model summaries read it. */
  get inputShape(): number[] | undefined {
    return (this.trunk as { inputShape?: number[] }).inputShape;
  }

  /** The trunk's probe points as the trunk describes them; the output adds the skip units' linear map (see Module.describeProbePoint). */
  override describeProbePoint(point: string): { operator: string; parameters: number } {
    if (point === 'output') {
      const trunk = this.trunk.describeProbePoint('output');
      return { operator: `${trunk.operator}, + softplus → Linear of skip`, parameters: trunk.parameters + this.skipOut.numParameters() };
    }
    return this.trunk.probePoints().includes(point) ? this.trunk.describeProbePoint(point) : super.describeProbePoint(point);
  }

  /** The skip units' activations s(x) [N, M] of x [N, …] (flattened to [N, IN]). */
  skipFeatures(x: Tensor): Tensor {
    return this.tap('skip', this.skip.forward(x.flatten(1))).softplus();
  }

  /**
   * x as the trunk takes it ([N, IN] or [N, …] for the MLP, [N, C, S, S] for the CNN; IN its flattened size) → logits [N, OUT].
   * Probe points: the trunk's, and `skip` [N, M].
   */
  forward(x: Tensor): Tensor {
    return this.trunk.forward(x).add(this.skipOut.forward(this.skipFeatures(x)));
  }
}

/** The rank of the N×M skip-feature matrix on the points x (float64), and N and M. */
export function skipFeatureRank(model: SkipToOutput, x: Tensor): { rank: number; points: number; units: number } {
  return noGrad(() => scope(() => ({ rank: matrixRank(model.skipFeatures(x).double()).item(), points: x.size(0), units: model.skipUnits })));
}
