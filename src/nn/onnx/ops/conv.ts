/**
 * Convolutions and pooling (ONNX operators Conv, ConvTranspose, MaxPool, AveragePool,
 * GlobalAveragePool, GlobalMaxPool; https://onnx.ai/onnx/operators/). Inputs are [N, C, spatial…]
 * with 1, 2 or 3 spatial axes; a 1-D operation runs as the 2-D one on [N, C, L, 1].
 *
 * Padding: `pads` = [begin₁, begin₂…, end₁, end₂…]; equal begins and ends go to libtorch, unequal
 * ones are applied first (with F.pad: zeros for convolutions, −∞ for max pooling) or cut after
 * (ConvTranspose). `auto_pad` SAME_UPPER/SAME_LOWER pads so that out = ⌈in/stride⌉, the extra
 * element at the end (UPPER) or the beginning (LOWER); VALID pads nothing.
 */
import type { Tensor } from '../../../engine/tensor.js';
import * as F from '../../functional.js';
import { type Attributes, type OpSpec, product } from '../op.js';

/** Kernel geometry per spatial axis. */
interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  begin: number[];
  end: number[];
}

/** The window of a Conv/pool node over spatial sizes `spatial`, with auto_pad resolved. */
function window(attrs: Attributes, spatial: number[], kernel: number[]): Window {
  const n = spatial.length;
  const strides = attrs.ints('strides') ?? Array(n).fill(1);
  const dilations = attrs.ints('dilations') ?? Array(n).fill(1);
  const autoPad = attrs.string('auto_pad', 'NOTSET');
  let pads = attrs.ints('pads') ?? Array(2 * n).fill(0);
  if (autoPad === 'VALID') pads = Array(2 * n).fill(0);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const total = spatial.map((len, i) => Math.max(0, (Math.ceil(len / strides[i]) - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - len));
    const small = total.map((t) => Math.floor(t / 2));
    const begin = autoPad === 'SAME_UPPER' ? small : total.map((t, i) => t - small[i]);
    pads = [...begin, ...total.map((t, i) => t - begin[i])];
  }
  return { kernel, strides, dilations, begin: pads.slice(0, n), end: pads.slice(n) };
}
const symmetric = (w: Window): boolean => w.begin.every((b, i) => b === w.end[i]);
/** F.pad's list (last axis first) padding each spatial axis by begin/end. */
const torchPads = (w: Window): number[] => w.begin.map((_, i) => w.begin.length - 1 - i).flatMap((i) => [w.begin[i], w.end[i]]);

/** Runs f on x (and a weight) made 2-D when they are 1-D: [N, C, L] → [N, C, L, 1], and back. */
function asTwoD(x: Tensor, w: Window, f: (x: Tensor, w: Window) => Tensor): Tensor {
  if (x.ndim !== 3) return f(x, w);
  const lift = (v: number[], fill: number) => [v[0], fill];
  const w2 = { kernel: lift(w.kernel, 1), strides: lift(w.strides, 1), dilations: lift(w.dilations, 1), begin: lift(w.begin, 0), end: lift(w.end, 0) };
  return f(x.unsqueeze(3), w2).squeeze(3);
}

const conv: OpSpec = {
  run([x, weight, bias], attrs) {
    const kernel = weight!.shape.slice(2);
    const win = window(attrs, x!.shape.slice(2), kernel);
    const groups = attrs.int('group', 1);
    const w = x!.ndim === 3 ? weight!.unsqueeze(3) : weight!;
    return [asTwoD(x!, win, (h, g) => {
      const padded = symmetric(g) ? h : F.pad(h, torchPads(g));
      const o = { stride: g.strides, dilation: g.dilations, groups, padding: symmetric(g) ? g.begin : g.begin.map(() => 0) };
      return h.ndim === 5 ? F.conv3d(padded, w, bias, o) : F.conv2d(padded, w, bias, o);
    })];
  },
};

const convT = (x: Tensor, w: Tensor, b: Tensor | null | undefined, o: F.ConvTransposeOptions): Tensor =>
  x.ndim === 5 ? F.convTranspose3d(x, w, b, o) : F.convTranspose2d(x, w, b, o);

const convTranspose: OpSpec = {
  run([x, weight, bias], attrs) {
    const n = x!.ndim - 2;
    const kernel = weight!.shape.slice(2);
    const strides = attrs.ints('strides') ?? Array(n).fill(1);
    const dilations = attrs.ints('dilations') ?? Array(n).fill(1);
    const outputPadding = attrs.ints('output_padding') ?? Array(n).fill(0);
    let pads = attrs.ints('pads') ?? Array(2 * n).fill(0);
    const outputShape = attrs.ints('output_shape');
    const spatial = x!.shape.slice(2);
    const full = spatial.map((len, i) => strides[i] * (len - 1) + (kernel[i] - 1) * dilations[i] + 1);
    const autoPad = attrs.string('auto_pad', 'NOTSET');
    if (outputShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      // The spec's rule: total padding = full + output_padding − wanted size, the odd element at the end for SAME_UPPER, at the beginning otherwise.
      const wanted = outputShape?.slice(-n) ?? spatial.map((len, i) => len * strides[i]);
      const total = wanted.map((w, i) => full[i] + outputPadding[i] - w);
      const half = total.map((t) => Math.floor(t / 2));
      const begin = autoPad === 'SAME_UPPER' ? half : total.map((t, i) => t - half[i]);
      pads = [...begin, ...total.map((t, i) => t - begin[i])];
    }
    const groups = attrs.int('group', 1);
    const lift = x!.ndim === 3;
    const h = lift ? x!.unsqueeze(3) : x!;
    const w = lift ? weight!.unsqueeze(3) : weight!;
    const two = (v: number[], fill: number) => (lift ? [v[0], fill] : v);
    const begin = pads.slice(0, n);
    const end = pads.slice(n);
    const o = { stride: two(strides, 1), dilation: two(dilations, 1), groups };
    if (begin.every((b, i) => b === end[i])) {
      const y = convT(h, w, bias, { ...o, padding: two(begin, 0), outputPadding: two(outputPadding, 0) });
      return [lift ? y.squeeze(3) : y];
    }
    // Unequal pads: the full output, output_padding zeros appended (no input reaches them), begin and end cut off, then the bias.
    let y = convT(h, w, null, o);
    for (let i = 0; i < n; i++) {
      if (outputPadding[i] > 0) y = F.pad(y, [...Array(2 * (y.ndim - 3 - i)).fill(0), 0, outputPadding[i]]);
      y = y.narrow(2 + i, begin[i], full[i] + outputPadding[i] - begin[i] - end[i]);
    }
    if (bias) y = y.add(bias.reshape([bias.numel, ...Array(y.ndim - 2).fill(1)]));
    return [lift ? y.squeeze(3) : y];
  },
};

/** MaxPool and AveragePool. */
function pool(kind: 'max' | 'avg'): OpSpec {
  return {
    run([x], attrs) {
      const kernel = attrs.ints('kernel_shape')!;
      const win = window(attrs, x!.shape.slice(2), kernel);
      const ceilMode = attrs.int('ceil_mode', 0) === 1;
      return [asTwoD(x!, win, (h, g) => {
        const sym = symmetric(g);
        const padded = sym ? h : F.pad(h, torchPads(g), kind === 'max' ? Number.NEGATIVE_INFINITY : 0);
        const o = { stride: g.strides, dilation: g.dilations, ceilMode, padding: sym ? g.begin : g.begin.map(() => 0) };
        if (kind === 'max') return h.ndim === 5 ? F.maxPool3d(padded, g.kernel, o) : F.maxPool2d(padded, g.kernel, o);
        const avg = { ...o, countIncludePad: attrs.int('count_include_pad', 0) === 1 };
        return h.ndim === 5 ? F.avgPool3d(padded, g.kernel, avg) : F.avgPool2d(padded, g.kernel, avg);
      })];
    },
    unsupported(attrs, _opset, outputs) {
      if (outputs[1]) return "MaxPool's Indices output";
      if (kind === 'avg' && attrs.has('dilations') && product(attrs.ints('dilations')!) !== 1) return 'AveragePool with dilations';
      if (kind === 'avg' && attrs.int('count_include_pad', 0) === 0 && attrs.has('pads')) {
        const p = attrs.ints('pads')!;
        if (p.some((v, i) => v !== p[(i + p.length / 2) % p.length])) return 'AveragePool with unequal pads and count_include_pad=0';
      }
      if (attrs.int('storage_order', 0) !== 0) return 'MaxPool with storage_order=1';
      return undefined;
    },
  };
}

/** Mean or max over every spatial axis, kept as size 1: [N, C, spatial…] → [N, C, 1…]. */
const spatialAxes = (x: Tensor): number[] => x.shape.slice(2).map((_, i) => i + 2);

export const CONV_OPS: Record<string, OpSpec> = {
  Conv: conv,
  ConvTranspose: convTranspose,
  MaxPool: pool('max'),
  AveragePool: pool('avg'),
  GlobalAveragePool: { run: ([x]) => [x!.mean(spatialAxes(x!), true)] },
  GlobalMaxPool: { run: ([x]) => [x!.amax(spatialAxes(x!), true)] },
};
