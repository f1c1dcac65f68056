/**
 * Resize (opsets 10–19) and Upsample (7–9) in modes nearest and linear
 * (https://onnx.ai/onnx/operators/onnx__Resize.html), one axis at a time: every output position i
 * of an axis maps to a position x(i) of the input by the coordinate transformation
 *
 *   half_pixel:          (i + ½)/s − ½            align_corners: i·(in − 1)/(out − 1)
 *   pytorch_half_pixel:  as half_pixel, 0 when out = 1     asymmetric: i/s
 *   half_pixel_symmetric: in/2·(1 − out/(s·in)) + (i + ½)/s − ½
 *
 * (s the scale, given or out/in). Nearest takes the input at x(i) rounded by nearest_mode;
 * linear clamps x(i) to [0, in − 1] and mixes the two neighbours ⌊x⌋ and ⌊x⌋ + 1 by the fraction,
 * which is PyTorch's linear interpolation. Both gather with indexSelect and mix with mul/add, so the
 * result is differentiable in X. Upsample is Resize with asymmetric coordinates.
 */
import { tensor } from '../../../engine/creation.js';
import type { Tensor } from '../../../engine/tensor.js';
import { type Attributes, longs, type OpSpec, values } from '../op.js';

type Transform = (i: number, scale: number, inLen: number, outLen: number) => number;
const TRANSFORMS: Record<string, Transform> = {
  half_pixel: (i, s) => (i + 0.5) / s - 0.5,
  pytorch_half_pixel: (i, s, _n, out) => (out > 1 ? (i + 0.5) / s - 0.5 : 0),
  align_corners: (i, _s, n, out) => (out === 1 ? 0 : (i * (n - 1)) / (out - 1)),
  asymmetric: (i, s) => i / s,
  half_pixel_symmetric: (i, s, n, out) => (n / 2) * (1 - out / (s * n)) + (i + 0.5) / s - 0.5,
};
const ROUNDING: Record<string, (x: number) => number> = {
  round_prefer_floor: (x) => (x - Math.floor(x) === 0.5 ? Math.floor(x) : Math.round(x)),
  round_prefer_ceil: (x) => (x - Math.floor(x) === 0.5 ? Math.ceil(x) : Math.round(x)),
  floor: Math.floor,
  ceil: Math.ceil,
};

interface Sampling {
  mode: 'nearest' | 'linear';
  transform: Transform;
  rounding: (x: number) => number;
}

/** x resampled along axis a from length n to `out` at scale s. */
function resizeAxis(x: Tensor, a: number, out: number, s: number, how: Sampling): Tensor {
  const n = x.size(a);
  const at = Array.from({ length: out }, (_, i) => how.transform(i, s, n, out));
  if (how.mode === 'nearest') return x.indexSelect(a, longs(at.map((v) => Math.min(Math.max(how.rounding(v), 0), n - 1))));
  const clamped = at.map((v) => Math.min(Math.max(v, 0), n - 1));
  const lo = clamped.map(Math.floor);
  const shape = x.shape.map((_, k) => (k === a ? out : 1));
  const frac = tensor(clamped.map((v, i) => v - lo[i]), shape, x.dtype === 'float64' ? 'float64' : 'float32');
  const below = x.indexSelect(a, longs(lo));
  const above = x.indexSelect(a, longs(lo.map((v) => Math.min(v + 1, n - 1))));
  return below.mul(frac.rsub(1)).add(above.mul(frac));
}

/** Resamples every axis whose size changes (or whose scale is not 1). */
function resample(x: Tensor, scales: number[], sizes: number[], how: Sampling): Tensor {
  let y = x;
  for (let a = 0; a < x.ndim; a++) {
    if (sizes[a] === x.size(a) && scales[a] === 1) continue;
    y = resizeAxis(y, a, sizes[a], scales[a], how);
  }
  return y;
}

/** The sampling a node asks for; Upsample and opset-10 Resize take the input at ⌊i/s⌋ (asymmetric, floor). */
function sampling(attrs: Attributes, legacy: boolean): Sampling {
  const mode = attrs.string('mode', 'nearest');
  return {
    mode: mode === 'nearest' ? 'nearest' : 'linear',
    transform: TRANSFORMS[attrs.string('coordinate_transformation_mode', legacy ? 'asymmetric' : 'half_pixel')],
    rounding: ROUNDING[attrs.string('nearest_mode', legacy ? 'floor' : 'round_prefer_floor')],
  };
}

/** Why the attributes ask for something these implementations do not do, or undefined. */
function unsupported(attrs: Attributes): string | undefined {
  const mode = attrs.string('mode', 'nearest');
  if (!['nearest', 'linear', 'bilinear'].includes(mode)) return `Resize mode '${mode}'`;
  const transform = attrs.string('coordinate_transformation_mode', 'half_pixel');
  if (!TRANSFORMS[transform]) return `Resize coordinate_transformation_mode '${transform}'`;
  if (!ROUNDING[attrs.string('nearest_mode', 'round_prefer_floor')]) return `Resize nearest_mode '${attrs.string('nearest_mode', '')}'`;
  if (attrs.int('antialias', 0) !== 0) return 'Resize with antialias';
  if (attrs.has('axes')) return 'Resize with axes';
  if (attrs.string('keep_aspect_ratio_policy', 'stretch') !== 'stretch') return 'Resize keep_aspect_ratio_policy other than stretch';
  return undefined;
}

const resize: OpSpec = {
  run([x, _roi, scalesInput, sizesInput], attrs, ctx) {
    // Opset 10 had inputs (X, scales).
    const scaleTensor = ctx.opset >= 11 ? scalesInput : _roi;
    const given = sizesInput && sizesInput.numel > 0 ? values(sizesInput) : undefined;
    const scales = given ? given.map((d, i) => d / x!.size(i)) : values(scaleTensor!);
    const sizes = given ?? scales.map((s, i) => Math.floor(x!.size(i) * s));
    return [resample(x!, scales, sizes, sampling(attrs, ctx.opset < 11))];
  },
  valueInputs: [1, 2, 3],
  unsupported,
};

const upsample: OpSpec = {
  run([x, scalesInput], attrs) {
    const scales = scalesInput ? values(scalesInput) : attrs.floats('scales')!;
    return [resample(x!, scales, scales.map((s, i) => Math.floor(x!.size(i) * s)), sampling(attrs, true))];
  },
  valueInputs: [1],
  unsupported,
};

export const RESIZE_OPS: Record<string, OpSpec> = { Resize: resize, Upsample: upsample };
