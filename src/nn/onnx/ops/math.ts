/**
 * Elementwise operators (https://onnx.ai/onnx/operators/): arithmetic with multidirectional
 * (numpy) broadcasting, activations, comparisons, Where, Cast, Identity and the variadic
 * Min/Max/Sum/Mean. Each maps onto the libtorch op of the same meaning, so autograd follows.
 */
import { where } from '../../../engine/ops.js';
import type { DType, Tensor } from '../../../engine/tensor.js';
import * as F from '../../functional.js';
import { isFloating, type OpContext, type OpSpec, values } from '../op.js';
import { DATA_TYPE } from '../schema.js';

const unary = (f: (x: Tensor) => Tensor): OpSpec => ({ run: ([x]) => [f(x!)] });
const binary = (f: (a: Tensor, b: Tensor) => Tensor): OpSpec => ({ run: ([a, b]) => [f(a!, b!)] });
const variadic = (f: (a: Tensor, b: Tensor) => Tensor, after: (t: Tensor, n: number) => Tensor = (t) => t): OpSpec => ({
  run: (xs) => [after(xs.slice(1).reduce((acc: Tensor, x) => f(acc, x!), xs[0]!), xs.length)],
});

/** ONNX Div: integer division truncates toward zero; libtorch's `/` would give a float. */
function divide(a: Tensor, b: Tensor): Tensor {
  if (isFloating(a.dtype) || isFloating(b.dtype)) return a.div(b);
  const q = a.div(b);
  return q.sign().mul(q.abs().floor()).long();
}
/** ONNX Pow: the result has the base's type (libtorch would promote an int base to the exponent's float type). */
function power(a: Tensor, b: Tensor): Tensor {
  const y = a.pow(b);
  return y.dtype === a.dtype ? y : y.to(a.dtype);
}

/** The engine dtype a Cast to ONNX type `to` gives: every float type is the model's float dtype. */
export function castDtype(to: number, ctx: OpContext): DType {
  if (to === DATA_TYPE.FLOAT || to === DATA_TYPE.DOUBLE || to === DATA_TYPE.FLOAT16 || to === DATA_TYPE.BFLOAT16) return ctx.dtype;
  return to === DATA_TYPE.BOOL ? 'bool' : 'int64';
}

/** Clip's bounds: inputs 1 and 2 from opset 11, attributes min and max before. */
function clip([x, lo, hi]: (Tensor | undefined)[], attrs: { float(n: string, d: number): number }, ctx: OpContext): Tensor {
  const bound = (t: Tensor | undefined, name: string, fallback: number) => (ctx.opset >= 11 ? (t ? values(t)[0] : null) : attrs.float(name, fallback));
  return x!.clamp(bound(lo, 'min', Number.NEGATIVE_INFINITY), bound(hi, 'max', Number.POSITIVE_INFINITY));
}

/** max(0, min(1, αx + β)). */
const hardSigmoid = (x: Tensor, alpha: number, beta: number): Tensor => x.mul(alpha).add(beta).clamp(0, 1);

export const MATH_OPS: Record<string, OpSpec> = {
  Add: binary((a, b) => a.add(b)),
  Sub: binary((a, b) => a.sub(b)),
  Mul: binary((a, b) => a.mul(b)),
  Div: binary(divide),
  Pow: binary(power),
  Sqrt: unary((x) => x.sqrt()),
  Neg: unary((x) => x.neg()),
  Exp: unary((x) => x.exp()),
  Log: unary((x) => x.log()),
  Abs: unary((x) => x.abs()),
  Reciprocal: unary((x) => x.reciprocal()),
  Floor: unary((x) => x.floor()),
  Ceil: unary((x) => x.ceil()),
  Erf: unary((x) => x.erf()),
  Relu: unary((x) => x.relu()),
  Sigmoid: unary((x) => x.sigmoid()),
  Tanh: unary((x) => x.tanh()),
  Softplus: unary((x) => x.softplus()),
  LeakyRelu: { run: ([x], a) => [x!.leakyRelu(a.float('alpha', 0.01))] },
  Elu: { run: ([x], a) => [F.elu(x!, a.float('alpha', 1))] },
  // γ·elu(x, α), with the spec's default constants (float32 values).
  Selu: { run: ([x], a) => [F.elu(x!, a.float('alpha', 1.6732631921768188)).mul(a.float('gamma', 1.0507010221481323))] },
  Clip: { run: (xs, a, ctx) => [clip(xs, a, ctx)], valueInputs: [1, 2] },
  HardSigmoid: { run: ([x], a) => [hardSigmoid(x!, a.float('alpha', 0.2), a.float('beta', 0.5))] },
  HardSwish: unary((x) => x.mul(hardSigmoid(x, 1 / 6, 0.5))),
  Gelu: {
    run([x], a) {
      if (a.string('approximate', 'none') === 'none') return [F.gelu(x!)];
      // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
      const inner = x!.add(x!.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
      return [x!.mul(0.5).mul(inner.tanh().add(1))];
    },
  },
  Equal: binary((a, b) => a.eq(b)),
  Less: binary((a, b) => a.lt(b)),
  LessOrEqual: binary((a, b) => a.le(b)),
  Greater: binary((a, b) => a.gt(b)),
  GreaterOrEqual: binary((a, b) => a.ge(b)),
  Not: unary((x) => x.logicalNot()),
  And: binary((a, b) => a.logicalAnd(b)),
  Or: binary((a, b) => a.logicalOr(b)),
  Where: { run: ([c, a, b]) => [where(c!, a!, b!)] },
  Cast: { run: ([x], a, ctx) => [x!.to(castDtype(a.int('to', DATA_TYPE.FLOAT), ctx))] },
  Identity: unary((x) => x),
  Min: variadic((a, b) => a.minimum(b)),
  Max: variadic((a, b) => a.maximum(b)),
  Sum: variadic((a, b) => a.add(b)),
  Mean: variadic((a, b) => a.add(b), (t, n) => t.div(n)),
};
