/**
 * Weight initialisations.
 * - PyTorch's defaults (`kaimingUniformDefault`): W, b ~ U(−1/√fan_in, 1/√fan_in) — kaiming_uniform
 *   with a = √5 for the weight, as nn.Linear and nn.Conv*d do.
 * - He/Kaiming normal: W ~ N(0, 2/fan_in) (Allen-Zhu et al.'s N(0, 2/m) hidden layers).
 * - NTK parameterisation: W ~ N(0, 1) and the layer multiplies by 1/√fan_in in forward.
 * - Standard normal: W ~ N(0, 1) with no scale (Du et al.'s networks put their scales between layers).
 * - Allen-Zhu, Li and Song (ICML 2019): W ~ N(0, 2/m) for a layer of m outputs (the input layer
 *   too), and N(0, 1/d) for the output layer of d outputs (`allenzhu-output`); no biases.
 */
import { randn, rand } from '../engine/creation.js';
import { scope } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';

export type Init = 'default' | 'he' | 'ntk' | 'normal' | 'allenzhu' | 'allenzhu-output';

/** U(−bound, bound). */
export function uniform(shape: number[], bound: number): Tensor {
  return scope(() => rand(shape).mul(2 * bound).sub(bound));
}
/** N(0, std²). */
export function normal(shape: number[], std: number): Tensor {
  return std === 1 ? randn(shape) : scope(() => randn(shape).mul(std));
}
/** A weight of `shape` with fan-in `fanIn` under the given scheme. */
export function initWeight(shape: number[], fanIn: number, init: Init): Tensor {
  switch (init) {
    case 'default':
      return uniform(shape, 1 / Math.sqrt(fanIn));
    case 'he':
      return normal(shape, Math.sqrt(2 / fanIn));
    case 'ntk':
    case 'normal':
      return normal(shape, 1);
    case 'allenzhu':
      return normal(shape, Math.sqrt(2 / shape[0]));
    case 'allenzhu-output':
      return normal(shape, Math.sqrt(1 / shape[0]));
  }
}
