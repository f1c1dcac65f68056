/**
 * Shape and indexing operators (https://onnx.ai/onnx/operators/): Flatten, Reshape, Transpose,
 * Concat, Split, Slice, Squeeze, Unsqueeze, Gather, Shape, Size, ConstantOfShape, Expand, Tile,
 * Range, Pad. Shapes, axes, starts, ends, pads and repeats arrive as int64 tensors (attributes in
 * older opsets) and are read as numbers when the node runs, so a dynamic batch size flows through
 * Shape → Gather → Concat → Reshape chains.
 */
import { arange, full, tensor } from '../../../engine/creation.js';
import { cat, where } from '../../../engine/ops.js';
import type { Tensor } from '../../../engine/tensor.js';
import * as F from '../../functional.js';
import { type Attributes, axis, longs, type OpContext, type OpSpec, product, values } from '../op.js';

/** Axes from input `t` (opset ≥ `since`) or attribute `axes`, normalised to `rank`; undefined when none are given. */
function axesOf(t: Tensor | undefined, attrs: Attributes, ctx: OpContext, since: number, rank: number): number[] | undefined {
  const raw = ctx.opset >= since ? (t ? values(t) : undefined) : attrs.ints('axes');
  return raw?.map((a) => axis(a, rank));
}

/** numpy broadcasting of two shapes. */
function broadcast(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  const pa = [...Array(n - a.length).fill(1), ...a];
  const pb = [...Array(n - b.length).fill(1), ...b];
  return pa.map((d, i) => (d === 1 ? pb[i] : d));
}

const reshape: OpSpec = {
  run([x, shape], attrs) {
    const allowZero = attrs.int('allowzero', 0) === 1;
    // 0 copies the input's size on that axis (unless allowzero); −1 is inferred by libtorch.
    const target = values(shape!).map((d, i) => (d === 0 && !allowZero ? x!.size(i) : d));
    return [x!.reshape(target)];
  },
  valueInputs: [1],
};

const split: OpSpec = {
  run([x, sizes], attrs, ctx) {
    const a = axis(attrs.int('axis', 0), x!.ndim);
    const len = x!.size(a);
    let parts = ctx.opset >= 13 ? (sizes ? values(sizes) : undefined) : attrs.ints('split');
    if (!parts) {
      const n = attrs.int('num_outputs', ctx.outputs);
      const each = Math.ceil(len / n); // the last piece smaller when len is not a multiple (opset 18)
      parts = Array.from({ length: n }, (_, i) => Math.min(each, len - i * each));
    }
    return x!.split(parts, a);
  },
  valueInputs: [1],
};

/** Elements start, start + step, … (before end) along `a`, with the spec's clamping; negative steps run backwards. */
function sliceAxis(x: Tensor, a: number, start: number, end: number, step: number): Tensor {
  const d = x.size(a);
  let s = start < 0 ? start + d : start;
  let e = end < 0 ? end + d : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), d);
    e = Math.min(Math.max(e, 0), d);
    return x.slice(a, s, Math.max(s, e), step);
  }
  s = Math.min(Math.max(s, 0), d - 1);
  e = Math.min(Math.max(e, -1), d - 1);
  const count = Math.max(0, Math.ceil((e - s) / step));
  return x.indexSelect(a, longs(Array.from({ length: count }, (_, k) => s + k * step)));
}

const slice: OpSpec = {
  run([x, starts, ends, axes, steps], attrs, ctx) {
    const from = ctx.opset >= 10 ? values(starts!) : attrs.ints('starts')!;
    const to = ctx.opset >= 10 ? values(ends!) : attrs.ints('ends')!;
    const along = (ctx.opset >= 10 ? (axes ? values(axes) : undefined) : attrs.ints('axes')) ?? from.map((_, i) => i);
    const by = steps ? values(steps) : from.map(() => 1);
    let y = x!;
    along.forEach((a, i) => {
      y = sliceAxis(y, axis(a, x!.ndim), from[i], to[i], by[i]);
    });
    return [y];
  },
  valueInputs: [1, 2, 3, 4],
};

const squeeze: OpSpec = {
  run([x, axes], attrs, ctx) {
    const along = axesOf(axes, attrs, ctx, 13, x!.ndim) ?? x!.shape.flatMap((d, i) => (d === 1 ? [i] : []));
    let y = x!;
    for (const a of [...along].sort((p, q) => q - p)) y = y.squeeze(a);
    return [y];
  },
  valueInputs: [1],
};

const unsqueeze: OpSpec = {
  run([x, axes], attrs, ctx) {
    const raw = ctx.opset >= 13 ? values(axes!) : attrs.ints('axes')!;
    const rank = x!.ndim + raw.length;
    let y = x!;
    for (const a of raw.map((v) => axis(v, rank)).sort((p, q) => p - q)) y = y.unsqueeze(a);
    return [y];
  },
  valueInputs: [1],
};

const gather: OpSpec = {
  run([x, indices], attrs) {
    const a = axis(attrs.int('axis', 0), x!.ndim);
    const d = x!.size(a);
    const flat = indices!.reshape([-1]);
    const positive = where(flat.lt(0), flat.add(d), flat);
    const shape = x!.shape;
    return [x!.indexSelect(a, positive).reshape([...shape.slice(0, a), ...indices!.shape, ...shape.slice(a + 1)])];
  },
};

const shapeOp: OpSpec = {
  run([x], attrs) {
    const s = x!.shape;
    const clampTo = (v: number) => Math.min(Math.max(v < 0 ? v + s.length : v, 0), s.length);
    return [longs(s.slice(clampTo(attrs.int('start', 0)), clampTo(attrs.int('end', s.length))))];
  },
};

const constantOfShape: OpSpec = {
  run([shape], attrs, ctx) {
    const value = attrs.tensor('value');
    const dtype = value ? (value.dtype === 'float64' || value.dtype === 'float32' ? ctx.dtype : value.dtype) : ctx.dtype;
    return [full(values(shape!), value ? Number(value.data[0]) : 0, dtype)];
  },
  valueInputs: [0],
};

/** Index i of an axis of length n padded by reflection (without repeating the edge), by repeating the edge, or by wrapping. */
const PAD_INDEX: Record<string, (i: number, n: number) => number> = {
  reflect(i, n) {
    if (n === 1) return 0;
    const period = 2 * (n - 1);
    const m = ((i % period) + period) % period;
    return m < n ? m : period - m;
  },
  edge: (i, n) => Math.min(Math.max(i, 0), n - 1),
  wrap: (i, n) => ((i % n) + n) % n,
};

const pad: OpSpec = {
  run([x, padsInput, constant, axesInput], attrs, ctx) {
    const rank = x!.ndim;
    const pads = ctx.opset >= 11 ? values(padsInput!) : attrs.ints('pads')!;
    const along = axesInput ? values(axesInput).map((a) => axis(a, rank)) : x!.shape.map((_, i) => i);
    const begin = Array(rank).fill(0);
    const end = Array(rank).fill(0);
    along.forEach((a, i) => {
      begin[a] = pads[i];
      end[a] = pads[i + along.length];
    });
    const mode = attrs.string('mode', 'constant');
    if (mode === 'constant') {
      const value = ctx.opset >= 11 ? (constant ? values(constant)[0] : 0) : attrs.float('value', 0);
      return [F.pad(x!, begin.map((_, i) => rank - 1 - i).flatMap((i) => [begin[i], end[i]]), value)];
    }
    // Reflect, edge and wrap gather each axis's source positions: differentiable, any pad size.
    let y = x!;
    for (let a = 0; a < rank; a++) {
      if (begin[a] === 0 && end[a] === 0) continue;
      const n = y.size(a);
      const index = Array.from({ length: n + begin[a] + end[a] }, (_, k) => PAD_INDEX[mode](k - begin[a], n));
      y = y.indexSelect(a, longs(index));
    }
    return [y];
  },
  valueInputs: [1, 2, 3],
  unsupported: (
    attrs,
  ) => (PAD_INDEX[attrs.string('mode', 'constant')] || attrs.string('mode', 'constant') === 'constant' ? undefined : `Pad mode '${attrs.string('mode', '')}'`),
};

export const SHAPE_OPS: Record<string, OpSpec> = {
  Flatten: {
    run([x], attrs) {
      const a = axis(attrs.int('axis', 1), x!.ndim);
      return [x!.reshape([product(x!.shape.slice(0, a)), product(x!.shape.slice(a))])];
    },
  },
  Reshape: reshape,
  Transpose: { run: ([x], attrs) => [x!.permute(attrs.ints('perm') ?? x!.shape.map((_, i) => x!.ndim - 1 - i))] },
  Concat: { run: (xs, attrs) => [cat(xs as Tensor[], axis(attrs.int('axis', 0), xs[0]!.ndim))] },
  Split: split,
  Slice: slice,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Gather: gather,
  Shape: shapeOp,
  Size: { run: ([x]) => [tensor(x!.numel, [], 'int64')] },
  ConstantOfShape: constantOfShape,
  Expand: { run: ([x, shape]) => [x!.expand(broadcast(x!.shape, values(shape!)))], valueInputs: [1] },
  Tile: { run: ([x, repeats]) => [x!.repeat(values(repeats!))], valueInputs: [1] },
  Range: {
    run([start, limit, delta], _attrs, ctx) {
      const dtype = start!.dtype === 'int64' ? 'int64' : ctx.dtype;
      return [arange(start!.item(), limit!.item(), delta!.item(), dtype)];
    },
    valueInputs: [0, 1, 2],
  },
  Pad: pad,
};
