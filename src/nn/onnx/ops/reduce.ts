/**
 * Reductions (ONNX ReduceMean, ReduceSum, ReduceMax, ReduceMin, ArgMax;
 * https://onnx.ai/onnx/operators/). Axes come from the `axes` input (ReduceSum from opset 13, the
 * others from opset 18) or attribute; none means every axis, or the identity with
 * noop_with_empty_axes = 1. keepdims (default 1) keeps each reduced axis as size 1.
 */
import type { Tensor } from '../../../engine/tensor.js';
import { axis, type OpSpec, values } from '../op.js';

function reduce(f: (x: Tensor, dims: number[], keep: boolean) => Tensor, axesInputSince: number): OpSpec {
  return {
    run([x, axesInput], attrs, ctx) {
      const raw = ctx.opset >= axesInputSince ? (axesInput ? values(axesInput) : []) : (attrs.ints('axes') ?? []);
      if (raw.length === 0 && attrs.int('noop_with_empty_axes', 0) === 1) return [x];
      const dims = raw.length ? raw.map((a) => axis(a, x!.ndim)) : x!.shape.map((_, i) => i);
      return [f(x!, dims, attrs.int('keepdims', 1) === 1)];
    },
    valueInputs: [1],
  };
}

export const REDUCE_OPS: Record<string, OpSpec> = {
  ReduceMean: reduce((x, d, k) => x.mean(d, k), 18),
  ReduceSum: reduce((x, d, k) => x.sum(d, k), 13),
  ReduceMax: reduce((x, d, k) => x.amax(d, k), 18),
  ReduceMin: reduce((x, d, k) => x.amin(d, k), 18),
  ArgMax: {
    run([x], attrs) {
      const a = axis(attrs.int('axis', 0), x!.ndim);
      const keep = attrs.int('keepdims', 1) === 1;
      if (attrs.int('select_last_index', 0) === 0) return [x!.argmax(a, keep)];
      // The last of equal maxima: the first in the reversed axis, counted back from the end.
      return [x!.flip([a]).argmax(a, keep).rsub(x!.size(a) - 1)];
    },
  },
};
