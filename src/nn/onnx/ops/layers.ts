/**
 * Learned layers, normalisation, dropout and softmax (ONNX operators Gemm, MatMul,
 * BatchNormalization, LayerNormalization, InstanceNormalization, Dropout, Softmax, LogSoftmax;
 * https://onnx.ai/onnx/operators/). BatchNormalization and Dropout follow the model's mode, as
 * PyTorch modules do, whatever the exporter's training_mode says: batch statistics (updating the
 * running ones) and dropping in training, running statistics and the identity in eval.
 */
import { rand } from '../../../engine/creation.js';
import type { Tensor } from '../../../engine/tensor.js';
import * as F from '../../functional.js';
import { axis, type OpSpec, product, values } from '../op.js';

/** Y = α·A'·B' + β·C with A' = A or Aᵀ [M, K], B' = B or Bᵀ [K, N], C broadcast to [M, N]. */
const gemm: OpSpec = {
  run([a, b, c], attrs) {
    const alpha = attrs.float('alpha', 1);
    const beta = attrs.float('beta', 1);
    const transA = attrs.int('transA', 0) === 1;
    const transB = attrs.int('transB', 0) === 1;
    // The nn.Linear case (what torch exports) goes through libtorch's linear, as PyTorch computes it.
    if (!transA && transB && alpha === 1 && beta === 1 && (!c || c.ndim === 1)) return [F.linear(a!, b!, c)];
    let y = (transA ? a!.t() : a!).matmul(transB ? b!.t() : b!);
    if (alpha !== 1) y = y.mul(alpha);
    if (c) y = y.add(beta === 1 ? c : c.mul(beta));
    return [y];
  },
};

const batchNormalization: OpSpec = {
  run([x, scale, bias, mean, variance], attrs, ctx) {
    // ONNX: running = running·momentum + batch·(1 − momentum); PyTorch's momentum is the other weight.
    const momentum = 1 - attrs.float('momentum', 0.9);
    const y = F.batchNorm(x!, ctx.training, { weight: scale, bias, runningMean: mean, runningVar: variance, momentum, eps: attrs.float('epsilon', 1e-5) });
    return [y, mean, variance];
  },
  bufferInputs: [3, 4],
};

const layerNormalization: OpSpec = {
  run([x, scale, bias], attrs) {
    const from = axis(attrs.int('axis', -1), x!.ndim);
    return [F.layerNorm(x!, x!.shape.slice(from), { weight: scale, bias, eps: attrs.float('epsilon', 1e-5) })];
  },
  unsupported: (_attrs, _opset, outputs) => (outputs[1] || outputs[2] ? "LayerNormalization's Mean and InvStdDev outputs" : undefined),
};

const dropout: OpSpec = {
  run([x, ratio], attrs, ctx) {
    const p = ctx.opset >= 12 ? (ratio ? values(ratio)[0] : 0.5) : attrs.float('ratio', 0.5);
    // The mask output, when the node names one, is all true (NaN ≠ NaN holds too).
    if (!ctx.training || p === 0) return [x, ctx.outputs > 1 ? x!.ne(Number.NaN) : undefined];
    const keepMask = rand(x!.shape, x!.dtype === 'float64' ? 'float64' : 'float32').ge(p);
    return [x!.mul(keepMask).div(1 - p), keepMask];
  },
  valueInputs: [1, 2],
};

/** Softmax-like f along `axis`: opset 13 on that axis alone, earlier opsets over x flattened to [∏ before axis, ∏ from axis]. */
function softmaxLike(f: (x: Tensor, dim: number) => Tensor): OpSpec {
  return {
    run([x], attrs, ctx) {
      if (ctx.opset >= 13) return [f(x!, attrs.int('axis', -1))];
      const a = axis(attrs.int('axis', 1), x!.ndim);
      const shape = x!.shape;
      return [f(x!.reshape([product(shape.slice(0, a)), product(shape.slice(a))]), 1).reshape(shape)];
    },
  };
}

export const LAYER_OPS: Record<string, OpSpec> = {
  Gemm: gemm,
  MatMul: { run: ([a, b]) => [a!.matmul(b!)] },
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
  InstanceNormalization: { run: ([x, scale, bias], attrs) => [F.instanceNorm(x!, { weight: scale, bias, eps: attrs.float('epsilon', 1e-5) })] },
  Dropout: dropout,
  Softmax: softmaxLike((x, d) => x.softmax(d)),
  LogSoftmax: softmaxLike((x, d) => x.logSoftmax(d)),
};
