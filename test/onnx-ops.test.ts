/**
 * ONNX operators against onnxruntime-web (the reference runtime, in Node through its WebAssembly
 * build) on small hand-built graphs: the operators and attribute forms torchvision's exports do
 * not exercise — Resize/Upsample in every coordinate and rounding mode, Pad modes, Slice with
 * negative steps and huge ends, Split's attribute and input forms, Clip's two forms, Where, Cast,
 * comparisons, tf2onnx-style Transpose → Conv (auto_pad) → Transpose, ConvTranspose, pooling with
 * unequal pads, softmax before and after opset 13, reductions, shape chains. Each graph has one
 * float input `x` [shape] and one output; dltheory's output must equal onnxruntime's to float32
 * round-off. Also a finite-difference gradient check of linear Resize (gather + lerp) in float64.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { noGrad, scope, tensor } from '../src/engine/index.js';
import { OnnxModel } from '../src/nn/onnx/model.js';
import { DATA_TYPE } from '../src/nn/onnx/schema.js';
import { gradcheck } from './gradcheck.js';
import { type Attr, f32, type GraphSpec, i64, type NodeSpec, onnxBytes } from './onnx-build.js';
import { roundOff } from './round-off.js';

ort.env.wasm.numThreads = 1;
const dir = mkdtempSync(join(tmpdir(), 'dltheory-onnx-ops-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic values in (−2, 2) from a small LCG. */
function values(n: number, seed = 1): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 2 ** 32) * 4 - 2;
  });
}

interface Case {
  name: string;
  shape: number[];
  nodes: NodeSpec[];
  initializers?: GraphSpec['initializers'];
  opset?: number;
}

/** One node reading x (and initializers) and writing y. */
const one = (op: string, inputs: string[], attrs: Record<string, Attr> = {}): NodeSpec[] => [{ op, inputs, outputs: ['y'], attrs }];

const CASES: Case[] = [
  // Resize: nearest in each nearest_mode and coordinate mode, linear in each coordinate mode, up and down.
  ...[
    ['asymmetric', 'floor'],
    ['half_pixel', 'round_prefer_floor'],
    ['align_corners', 'round_prefer_ceil'],
    ['pytorch_half_pixel', 'ceil'],
    ['half_pixel_symmetric', 'round_prefer_floor'],
  ].flatMap(([coord, nearest]): Case[] => [
    {
      name: `Resize nearest ${coord} ${nearest} scales ×2`,
      shape: [1, 2, 3, 4],
      nodes: one('Resize', ['x', '', 'scales'], { mode: { s: 'nearest' }, coordinate_transformation_mode: { s: coord }, nearest_mode: { s: nearest } }),
      initializers: { scales: f32([1, 1, 2, 2]) },
    },
    {
      name: `Resize nearest ${coord} ${nearest} sizes 5×3`,
      shape: [1, 2, 3, 4],
      nodes: one('Resize', ['x', '', '', 'sizes'], { mode: { s: 'nearest' }, coordinate_transformation_mode: { s: coord }, nearest_mode: { s: nearest } }),
      initializers: { sizes: i64([1, 2, 5, 3]) },
    },
    {
      name: `Resize linear ${coord} sizes 7×2`,
      shape: [2, 1, 4, 5],
      nodes: one('Resize', ['x', '', '', 'sizes'], { mode: { s: 'linear' }, coordinate_transformation_mode: { s: coord } }),
      initializers: { sizes: i64([2, 1, 7, 2]) },
    },
    {
      name: `Resize linear ${coord} scales 1.5`,
      shape: [1, 2, 4, 4],
      nodes: one('Resize', ['x', '', 'scales'], { mode: { s: 'linear' }, coordinate_transformation_mode: { s: coord } }),
      initializers: { scales: f32([1, 1, 1.5, 1.5]) },
    },
  ]),
  {
    name: 'Resize linear pytorch_half_pixel to size 1',
    shape: [1, 1, 4, 6],
    nodes: one('Resize', ['x', '', '', 'sizes'], { mode: { s: 'linear' }, coordinate_transformation_mode: { s: 'pytorch_half_pixel' } }),
    initializers: { sizes: i64([1, 1, 1, 3]) },
  },
  { name: 'Upsample nearest (opset 9)', shape: [1, 2, 2, 3], nodes: one('Upsample', ['x', 's'], { mode: { s: 'nearest' } }),
    initializers: { s: f32([1, 1, 2, 3]) }, opset: 9 },
  { name: 'Upsample linear (opset 9)', shape: [1, 2, 2, 3], nodes: one('Upsample', ['x', 's'], { mode: { s: 'linear' } }),
    initializers: { s: f32([1, 1, 2, 2]) }, opset: 9 },
  // Pad in its modes, constant value, negative (cropping) constant pads.
  ...['constant', 'reflect', 'edge'].map((mode): Case => ({
    name: `Pad ${mode}`,
    shape: [1, 2, 4, 5],
    nodes: one('Pad', ['x', 'pads'], { mode: { s: mode } }),
    initializers: { pads: i64([0, 0, 1, 3, 0, 1, 2, 2]) },
  })),
  { name: 'Pad constant value, cropping', shape: [2, 3, 4], nodes: one('Pad', ['x', 'pads', 'v']),
    initializers: { pads: i64([0, -1, 2, 1, 1, -1]), v: f32([1.5], []) } },
  // Slice: negative steps, negative and huge ends, default axes.
  { name: 'Slice negative steps', shape: [2, 3, 6, 7], nodes: one('Slice', ['x', 's', 'e', 'a', 'st']),
    initializers: { s: i64([-1, 5]), e: i64([-1000, 0]), a: i64([2, 3]), st: i64([-1, -2]) } },
  {
    name: 'Slice huge end, step 2',
    shape: [4, 9],
    nodes: one('Slice', ['x', 's', 'e', 'a', 'st']),
    initializers: { s: i64([1]), e: { dtype: 'int64', shape: [1], data: BigInt64Array.of(9223372036854775807n) }, a: i64([-1]), st: i64([2]) },
  },
  { name: 'Slice default axes', shape: [5, 4], nodes: one('Slice', ['x', 's', 'e']), initializers: { s: i64([1, -3]), e: i64([-1, 10]) } },
  // Split in its forms (outputs concatenated back in another order so that the graph has one output).
  {
    name: 'Split attribute (opset 11)',
    shape: [2, 7],
    nodes: [{ op: 'Split', inputs: ['x'], outputs: ['a', 'b'], attrs: { axis: { i: 1 }, split: { ints: [3, 4] } } }, { op: 'Concat', inputs: ['b', 'a'],
      outputs: ['y'], attrs: { axis: { i: 1 } } }],
    opset: 11,
  },
  {
    name: 'Split input (opset 13)',
    shape: [6, 2],
    nodes: [{ op: 'Split', inputs: ['x', 'sp'], outputs: ['a', 'b', 'c'] }, { op: 'Concat', inputs: ['c', 'a', 'b'], outputs: ['y'],
      attrs: { axis: { i: 0 } } }],
    initializers: { sp: i64([1, 2, 3]) },
  },
  {
    name: 'Split equal',
    shape: [2, 6],
    nodes: [{ op: 'Split', inputs: ['x'], outputs: ['a', 'b', 'c'], attrs: { axis: { i: -1 } } }, { op: 'Sub', inputs: ['a', 'c'], outputs: ['y'] }],
  },
  // Clip: bounds as inputs (opset 13, one missing) and as attributes (opset 6).
  { name: 'Clip inputs', shape: [3, 4], nodes: one('Clip', ['x', 'lo', 'hi']), initializers: { lo: f32([-0.5], []), hi: f32([1], []) } },
  { name: 'Clip min only', shape: [3, 4], nodes: one('Clip', ['x', '', 'hi']), initializers: { hi: f32([0.25], []) } },
  { name: 'Clip attributes (opset 6)', shape: [3, 4], nodes: one('Clip', ['x'], { min: { f: -1 }, max: { f: 0.5 } }), opset: 6 },
  // Where, comparisons, Not, Cast.
  {
    name: 'Where, Less, Greater, Equal, Not, Cast',
    shape: [3, 5],
    nodes: [
      { op: 'Less', inputs: ['x', 'zero'], outputs: ['neg'] },
      { op: 'Greater', inputs: ['x', 'one'], outputs: ['big'] },
      { op: 'Not', inputs: ['big'], outputs: ['small'] },
      { op: 'Cast', inputs: ['x'], outputs: ['xi'], attrs: { to: { i: DATA_TYPE.INT64 } } },
      { op: 'Equal', inputs: ['xi', 'izero'], outputs: ['z'] },
      { op: 'Cast', inputs: ['z'], outputs: ['zf'], attrs: { to: { i: DATA_TYPE.FLOAT } } },
      { op: 'Where', inputs: ['neg', 'zf', 'x'], outputs: ['w'] },
      { op: 'Cast', inputs: ['small'], outputs: ['sf'], attrs: { to: { i: DATA_TYPE.FLOAT } } },
      { op: 'Add', inputs: ['w', 'sf'], outputs: ['y'] },
    ],
    initializers: { zero: f32([0], []), one: f32([1], []), izero: i64([0], []) },
  },
  // tf2onnx: NHWC input, Transpose to NCHW, Conv with auto_pad SAME_UPPER and stride 2, Transpose back.
  {
    name: 'tf2onnx Transpose → Conv SAME_UPPER → Transpose',
    shape: [2, 7, 6, 3],
    nodes: [
      { op: 'Transpose', inputs: ['x'], outputs: ['nchw'], attrs: { perm: { ints: [0, 3, 1, 2] } } },
      { op: 'Conv', inputs: ['nchw', 'w', 'b'], outputs: ['c'],
        attrs: { auto_pad: { s: 'SAME_UPPER' }, strides: { ints: [2, 2] }, kernel_shape: { ints: [3, 2] } } },
      { op: 'Relu', inputs: ['c'], outputs: ['r'] },
      { op: 'Transpose', inputs: ['r'], outputs: ['y'], attrs: { perm: { ints: [0, 2, 3, 1] } } },
    ],
    initializers: { w: f32([...values(4 * 3 * 3 * 2, 7)], [4, 3, 3, 2]), b: f32([0.1, -0.2, 0.3, 0]) },
  },
  {
    name: 'Conv unequal pads, dilation, groups',
    shape: [1, 4, 7, 8],
    nodes: one('Conv', ['x', 'w'], { pads: { ints: [0, 1, 2, 0] }, dilations: { ints: [2, 1] }, group: { i: 2 } }),
    initializers: { w: f32([...values(6 * 2 * 3 * 3, 3)], [6, 2, 3, 3]) },
  },
  { name: 'Conv 1-D SAME_LOWER', shape: [2, 3, 9], nodes: one('Conv', ['x', 'w'], { auto_pad: { s: 'SAME_LOWER' }, strides: { ints: [2] } }),
    initializers: { w: f32([...values(4 * 3 * 4, 5)], [4, 3, 4]) } },
  {
    name: 'ConvTranspose output_padding, unequal pads',
    shape: [1, 2, 4, 3],
    nodes: one('ConvTranspose', ['x', 'w', 'b'], { strides: { ints: [2, 3] }, pads: { ints: [1, 0, 0, 2] }, output_padding: { ints: [1, 2] } }),
    initializers: { w: f32([...values(2 * 3 * 3 * 3, 9)], [2, 3, 3, 3]), b: f32([0.5, -1, 0.25]) },
  },
  {
    name: 'ConvTranspose output_shape',
    shape: [1, 2, 3, 3],
    nodes: one('ConvTranspose', ['x', 'w'], { strides: { ints: [2, 2] }, output_shape: { ints: [6, 7] } }),
    initializers: { w: f32([...values(2 * 2 * 3 * 3, 13)], [2, 2, 3, 3]) },
  },
  {
    name: 'ConvTranspose SAME_UPPER',
    shape: [1, 2, 3, 4],
    nodes: one('ConvTranspose', ['x', 'w'], { strides: { ints: [2, 2] }, auto_pad: { s: 'SAME_UPPER' } }),
    initializers: { w: f32([...values(2 * 2 * 4 * 3, 15)], [2, 2, 4, 3]) },
  },
  { name: 'Conv 3-D', shape: [1, 2, 4, 5, 3], nodes: one('Conv', ['x', 'w', 'b'], { pads: { ints: [1, 0, 1, 1, 0, 1] } }),
    initializers: { w: f32([...values(3 * 2 * 3 * 2 * 3, 17)], [3, 2, 3, 2, 3]), b: f32([1, 0, -1]) } },
  { name: 'MaxPool 3-D', shape: [1, 2, 4, 5, 3], nodes: one('MaxPool', ['x'], { kernel_shape: { ints: [2, 2, 2] }, strides: { ints: [1, 2, 1] } }) },
  { name: 'ConvTranspose 1-D', shape: [2, 2, 5], nodes: one('ConvTranspose', ['x', 'w'], { strides: { ints: [2] }, pads: { ints: [1, 1] } }),
    initializers: { w: f32([...values(2 * 3 * 4, 11)], [2, 3, 4]) } },
  { name: 'MaxPool SAME_UPPER', shape: [1, 2, 5, 7],
    nodes: one('MaxPool', ['x'], { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, auto_pad: { s: 'SAME_UPPER' } }) },
  { name: 'MaxPool unequal pads, ceil', shape: [1, 2, 6, 7],
    nodes: one('MaxPool', ['x'], { kernel_shape: { ints: [2, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 0, 0, 1] }, ceil_mode: { i: 1 } }) },
  { name: 'MaxPool 1-D dilated', shape: [2, 3, 11], nodes: one('MaxPool', ['x'], { kernel_shape: { ints: [3] }, dilations: { ints: [2] } }) },
  { name: 'AveragePool count_include_pad', shape: [1, 2, 6, 6],
    nodes: one('AveragePool', ['x'], { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] }, count_include_pad: { i: 1 },
      strides: { ints: [2, 2] } }) },
  { name: 'GlobalMaxPool', shape: [2, 3, 4, 5], nodes: one('GlobalMaxPool', ['x']) },
  // Softmax: opset 11 flattens to 2-D at axis, opset 13 works on the axis.
  { name: 'Softmax axis 1 (opset 11)', shape: [2, 3, 4], nodes: one('Softmax', ['x'], { axis: { i: 1 } }), opset: 11 },
  { name: 'LogSoftmax axis 1 (opset 13)', shape: [2, 3, 4], nodes: one('LogSoftmax', ['x'], { axis: { i: 1 } }) },
  // Reductions and ArgMax.
  { name: 'ReduceMean axes attribute, keepdims 0', shape: [2, 3, 4], nodes: one('ReduceMean', ['x'], { axes: { ints: [0, -1] }, keepdims: { i: 0 } }),
    opset: 13 },
  { name: 'ReduceSum axes input', shape: [2, 3, 4], nodes: one('ReduceSum', ['x', 'ax']), initializers: { ax: i64([1]) } },
  { name: 'ReduceMax all axes', shape: [2, 3, 4], nodes: one('ReduceMax', ['x'], { keepdims: { i: 1 } }) },
  {
    name: 'ArgMax select_last_index',
    shape: [3, 4],
    nodes: [{ op: 'Floor', inputs: ['x'], outputs: ['f'] }, { op: 'ArgMax', inputs: ['f'], outputs: ['a'],
      attrs: { axis: { i: 1 }, select_last_index: { i: 1 } } }, { op: 'Cast', inputs: ['a'], outputs: ['y'], attrs: { to: { i: DATA_TYPE.FLOAT } } }],
  },
  // Shape chains with a dynamic first axis.
  {
    name: 'Shape → Gather → Unsqueeze → Concat → Reshape',
    shape: [3, 2, 4],
    nodes: [
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
      { op: 'Gather', inputs: ['s', 'zero'], outputs: ['n'], attrs: { axis: { i: 0 } } },
      { op: 'Unsqueeze', inputs: ['n', 'zeroAxis'], outputs: ['n1'] },
      { op: 'Concat', inputs: ['n1', 'minusOne'], outputs: ['shape'], attrs: { axis: { i: 0 } } },
      { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] },
    ],
    initializers: { zero: i64([0], []), zeroAxis: i64([0]), minusOne: i64([-1]) },
  },
  {
    name: 'Gather negative indices, Squeeze, Expand, Tile',
    shape: [4, 1, 3],
    nodes: [
      { op: 'Gather', inputs: ['x', 'idx'], outputs: ['g'], attrs: { axis: { i: 0 } } },
      { op: 'Squeeze', inputs: ['g', 'ax'], outputs: ['q'] },
      { op: 'Expand', inputs: ['q', 'shape'], outputs: ['e'] },
      { op: 'Tile', inputs: ['e', 'reps'], outputs: ['y'] },
    ],
    initializers: { idx: i64([-1, 0, 2], [3]), ax: i64([1]), shape: i64([2, 3, 3]), reps: i64([1, 2, 1]) },
  },
  {
    name: 'Shape start/end, ConstantOfShape, Range, Size',
    shape: [2, 3, 4],
    nodes: [
      { op: 'Shape', inputs: ['x'], outputs: ['s'], attrs: { start: { i: 1 }, end: { i: -1 } } },
      { op: 'ConstantOfShape', inputs: ['s'], outputs: ['c'], attrs: { value: { t: f32([0.5], [1]) } } },
      { op: 'Size', inputs: ['x'], outputs: ['n'] },
      { op: 'Cast', inputs: ['n'], outputs: ['nf'], attrs: { to: { i: DATA_TYPE.FLOAT } } },
      { op: 'Range', inputs: ['r0', 'r1', 'r2'], outputs: ['r'] },
      { op: 'Mul', inputs: ['c', 'nf'], outputs: ['m'] },
      { op: 'Add', inputs: ['m', 'r'], outputs: ['y'] },
    ],
    initializers: { r0: f32([1], []), r2: f32([0.5], []), r1: f32([2.5], []) },
  },
  // Attribute forms of older opsets.
  {
    name: 'Unsqueeze, Squeeze, ReduceSum axes attributes (opset 11)',
    shape: [3, 1, 4],
    nodes: [
      { op: 'Squeeze', inputs: ['x'], outputs: ['s'], attrs: { axes: { ints: [1] } } },
      { op: 'Unsqueeze', inputs: ['s'], outputs: ['u'], attrs: { axes: { ints: [0, -1] } } },
      { op: 'ReduceSum', inputs: ['u'], outputs: ['y'], attrs: { axes: { ints: [2] }, keepdims: { i: 0 } } },
    ],
    opset: 11,
  },
  { name: 'Slice attributes (opset 9)', shape: [4, 6],
    nodes: one('Slice', ['x'], { starts: { ints: [1, -4] }, ends: { ints: [100, -1] }, axes: { ints: [0, 1] } }), opset: 9 },
  { name: 'Pad attributes (opset 2)', shape: [2, 3], nodes: one('Pad', ['x'], { pads: { ints: [1, 0, 0, 2] }, value: { f: -1 } }), opset: 2 },
  { name: 'Gelu tanh (opset 20)', shape: [3, 4], nodes: one('Gelu', ['x'], { approximate: { s: 'tanh' } }), opset: 20 },
  { name: 'Gelu (opset 20)', shape: [3, 4], nodes: one('Gelu', ['x']), opset: 20 },
  // Arithmetic and activations, variadic ops, Gemm and MatMul, normalisations.
  {
    name: 'activations',
    shape: [3, 4],
    nodes: [
      { op: 'HardSigmoid', inputs: ['x'], outputs: ['a'], attrs: { alpha: { f: 0.3 } } },
      { op: 'HardSwish', inputs: ['x'], outputs: ['b'] },
      { op: 'Selu', inputs: ['x'], outputs: ['c'] },
      { op: 'Elu', inputs: ['x'], outputs: ['d'], attrs: { alpha: { f: 0.7 } } },
      { op: 'Softplus', inputs: ['x'], outputs: ['e'] },
      { op: 'Erf', inputs: ['x'], outputs: ['f'] },
      { op: 'LeakyRelu', inputs: ['x'], outputs: ['g'], attrs: { alpha: { f: 0.2 } } },
      { op: 'Sum', inputs: ['a', 'b', 'c'], outputs: ['s'] },
      { op: 'Mean', inputs: ['d', 'e', 'f'], outputs: ['m'] },
      { op: 'Max', inputs: ['s', 'm', 'g'], outputs: ['mx'] },
      { op: 'Min', inputs: ['s', 'm'], outputs: ['mn'] },
      { op: 'Sub', inputs: ['mx', 'mn'], outputs: ['y'] },
    ],
  },
  {
    name: 'arithmetic',
    shape: [3, 4],
    nodes: [
      { op: 'Abs', inputs: ['x'], outputs: ['a'] },
      { op: 'Add', inputs: ['a', 'one'], outputs: ['a1'] },
      { op: 'Sqrt', inputs: ['a1'], outputs: ['s'] },
      { op: 'Log', inputs: ['a1'], outputs: ['l'] },
      { op: 'Pow', inputs: ['s', 'three'], outputs: ['p'] },
      { op: 'Reciprocal', inputs: ['p'], outputs: ['r'] },
      { op: 'Div', inputs: ['l', 'r'], outputs: ['d'] },
      { op: 'Neg', inputs: ['d'], outputs: ['n'] },
      { op: 'Exp', inputs: ['n'], outputs: ['y'] },
    ],
    initializers: { one: f32([1], []), three: f32([3], []) },
  },
  { name: 'Gemm transA, alpha, beta', shape: [4, 3], nodes: one('Gemm', ['x', 'b', 'c'], { transA: { i: 1 }, alpha: { f: 0.5 }, beta: { f: 2 } }),
    initializers: { b: f32([...values(20, 2)], [4, 5]), c: f32([...values(5, 4)], [1, 5]) } },
  { name: 'MatMul batched', shape: [2, 3, 4], nodes: one('MatMul', ['x', 'b']), initializers: { b: f32([...values(2 * 4 * 5, 6)], [2, 4, 5]) } },
  { name: 'LayerNormalization axis 1', shape: [2, 3, 4], nodes: one('LayerNormalization', ['x', 's', 'b'], { axis: { i: 1 } }),
    initializers: { s: f32([...values(12, 8)], [3, 4]), b: f32([...values(12, 9)], [3, 4]) } },
  { name: 'InstanceNormalization', shape: [2, 3, 5], nodes: one('InstanceNormalization', ['x', 's', 'b']),
    initializers: { s: f32([1, 2, 0.5]), b: f32([0, 1, -1]) } },
  {
    name: 'BatchNormalization (inference)',
    shape: [2, 3, 2, 2],
    nodes: one('BatchNormalization', ['x', 's', 'b', 'm', 'v'], { epsilon: { f: 1e-3 } }),
    initializers: { s: f32([1, 2, 0.5]), b: f32([0, 1, -1]), m: f32([0.1, -0.2, 0.3]), v: f32([1, 0.5, 2]) },
  },
];

test('every operator case equals onnxruntime-web to float32 round-off', async (t) => {
  for (const c of CASES) {
    await t.test(c.name, async () => {
      const bytes = onnxBytes({ inputs: [{ name: 'x', shape: c.shape }], outputs: ['y'], nodes: c.nodes, initializers: c.initializers, opset: c.opset });
      const path = join(dir, `${c.name.replace(/[^A-Za-z0-9]+/g, '_')}.onnx`);
      writeFileSync(path, bytes);
      const x = values(c.shape.reduce((a, b) => a * b, 1), 3);
      const session = await ort.InferenceSession.create(bytes);
      const expected = (await session.run({ x: new ort.Tensor('float32', x, c.shape) })).y;
      const got = scope(() =>
        noGrad(() => {
          using model = OnnxModel.load(path).eval();
          const y = model.forward(tensor(x, c.shape));
          return { shape: y.shape, data: Array.from(y.toArray() as Float32Array, Number) };
        })
      );
      assert.deepEqual(got.shape, expected.dims.map(Number), `${c.name}: shape`);
      const want = Array.from(expected.data as Float32Array | BigInt64Array, Number);
      const scale = Math.max(1, ...want.map(Math.abs));
      got.data.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= roundOff('float32', 16, scale), `${c.name}: element ${i}: ${v} vs onnxruntime ${want[i]}`));
    });
  }
});

test('composites of gathers (Resize linear, Pad reflect, Slice with a negative step) and ConvTranspose with unequal pads are differentiable: finite differences in float64', () => {
  const cases: [string, NodeSpec[], GraphSpec['initializers']][] = [
    ['Resize linear', one('Resize', ['x', '', '', 'sizes'], { mode: { s: 'linear' }, coordinate_transformation_mode: { s: 'half_pixel' } }), {
      sizes: i64([1, 2, 5, 7]),
    }],
    ['Pad reflect', one('Pad', ['x', 'pads'], { mode: { s: 'reflect' } }), { pads: i64([0, 0, 2, 1, 0, 1, 0, 2]) }],
    ['Slice negative step', one('Slice', ['x', 's', 'e', 'a', 'st']), { s: i64([-1]), e: i64([0]), a: i64([3]), st: i64([-2]) }],
    ['ConvTranspose unequal pads',
      one('ConvTranspose', ['x', 'w'], { strides: { ints: [2, 1] }, pads: { ints: [1, 0, 0, 1] }, output_padding: { ints: [1, 0] } }), {
      w: f32([...values(2 * 2 * 2 * 2, 19)], [2, 2, 2, 2]),
    }],
  ];
  for (const [name, nodes, initializers] of cases) {
    const path = join(dir, `grad-${name.replace(/ /g, '-')}.onnx`);
    writeFileSync(path, onnxBytes({ inputs: [{ name: 'x', shape: [1, 2, 3, 4] }], outputs: ['y'], nodes, initializers }));
    using model = OnnxModel.load(path).double();
    // The weights are parameters too; the input is what is checked here.
    scope(() => gradcheck((x) => model.forward(x), [tensor(values(24, 5), [1, 2, 3, 4], 'float64')], { name }));
  }
});
