/**
 * Reading ONNX files: TensorProto in each of its storage forms (raw_data, the typed fields with
 * onnx.proto's packing of float16, bool and int8 into int32_data, external data), and every bad
 * file refused at load time with exit code 2 and one line naming the file and the problem, through
 * `dltheory predict`: a truncated file, bytes that are not ONNX, missing external data, an
 * unsupported operator (naming it, the node and the opset), a cycle, an input nothing defines,
 * a weight that is not finite. Also: loadModel recognises ONNX by its first bytes, and an
 * OnnxModel's tensors are freed by scopes and `using` as a built-in model's are.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../src/data/npy.js';
import { liveTensors, noGrad, randn, scope, tensor } from '../src/engine/index.js';
import { OnnxModel } from '../src/nn/onnx/model.js';
import { loadModel } from '../src/nn/serialize.js';
import { DATA_TYPE, type TensorProto } from '../src/nn/onnx/schema.js';
import { decodeTensor } from '../src/nn/onnx/tensor-proto.js';
import { cliRunner } from './cli-run.js';
import { f32, type GraphSpec, onnxBytes } from './onnx-build.js';

const dir = mkdtempSync(join(tmpdir(), 'dltheory-onnx-errors-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const { rejects } = cliRunner();
const input = join(dir, 'x.npy');
writeNpy(input, { dtype: 'float32', shape: [2, 3], data: new Float32Array(6).fill(0.5) });

/** A graph y = x·Wᵀ + b (Gemm) on x [batch, 3], with the given changes. */
function gemm(change: Partial<GraphSpec> = {}): GraphSpec {
  return {
    inputs: [{ name: 'x', shape: ['batch', 3] }],
    outputs: ['y'],
    nodes: [{ op: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { transB: { i: 1 } } }],
    initializers: { w: f32([1, 2, 3, 4, 5, 6], [2, 3]), b: f32([0.5, -0.5]) },
    ...change,
  };
}
function write(name: string, bytes: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}
const predict = (model: string, pattern: RegExp) => rejects(['predict', '--model', model, '--input', input, '--out', join(dir, 'out.npy')], pattern);

/** A TensorProto with only the given fields set (the rest empty, as decoding leaves them). */
const proto = (fields: Partial<TensorProto>): TensorProto => ({
  dims: [],
  data_type: DATA_TYPE.FLOAT,
  float_data: [],
  int32_data: [],
  int64_data: [],
  double_data: [],
  uint64_data: [],
  name: 't',
  raw_data: new Uint8Array(0),
  external_data: [],
  data_location: 0,
  ...fields,
});

test('TensorProto: raw_data and every typed field decode to the engine dtypes', () => {
  const cases: [Partial<TensorProto>, string, number[]][] = [
    [{ data_type: DATA_TYPE.FLOAT, dims: [2], float_data: [1.5, -2] }, 'float32', [1.5, -2]],
    [{ data_type: DATA_TYPE.DOUBLE, dims: [1], double_data: [0.1] }, 'float64', [0.1]],
    [{ data_type: DATA_TYPE.INT64, dims: [2], int64_data: [-3, 4] }, 'int64', [-3, 4]],
    [{ data_type: DATA_TYPE.UINT64, dims: [1], uint64_data: [7] }, 'int64', [7]],
    [{ data_type: DATA_TYPE.INT8, dims: [2], int32_data: [-128, 127] }, 'int64', [-128, 127]],
    [{ data_type: DATA_TYPE.BOOL, dims: [3], int32_data: [1, 0, 1] }, 'bool', [1, 0, 1]],
    // float16 bits in int32_data: 1.0 = 0x3c00, −2.5 = 0xc100, 2^−24 (the smallest subnormal) = 0x0001.
    [{ data_type: DATA_TYPE.FLOAT16, dims: [3], int32_data: [0x3c00, 0xc100, 1] }, 'float32', [1, -2.5, 2 ** -24]],
    [{ data_type: DATA_TYPE.FLOAT16, dims: [2], raw_data: new Uint8Array([0x00, 0x3c, 0x00, 0xc1]) }, 'float32', [1, -2.5]],
    [{ data_type: DATA_TYPE.INT32, dims: [2], raw_data: new Uint8Array(Int32Array.of(-5, 6).buffer) }, 'int64', [-5, 6]],
    [{ data_type: DATA_TYPE.UINT8, dims: [2], raw_data: new Uint8Array([200, 3]) }, 'int64', [200, 3]],
    [{ data_type: DATA_TYPE.FLOAT, dims: [2, 1], raw_data: new Uint8Array(Float32Array.of(0.25, 3).buffer) }, 'float32', [0.25, 3]],
  ];
  for (const [fields, dtype, values] of cases) {
    const raw = decodeTensor(proto(fields), 'm.onnx', dir);
    assert.equal(raw.dtype, dtype, JSON.stringify(fields.data_type));
    assert.deepEqual(Array.from(raw.data as ArrayLike<number | bigint>, Number), values);
  }
  assert.throws(() => decodeTensor(proto({ dims: [3], float_data: [1] }), 'm.onnx', dir), /m\.onnx: tensor 't' holds 1 values for shape \[3\]/);
  assert.throws(() => decodeTensor(proto({ data_type: DATA_TYPE.STRING }), 'm.onnx', dir), /element type 8/);
});

test('external data: read from location, offset and length beside the model file', () => {
  const weights = new Float32Array([9, 9, 1, 2, 3, 4, 5, 6, 9]); // the weights start at byte 8
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(weights.buffer));
  const path = write('external.onnx', withExternal('weights.bin'));
  using model = OnnxModel.load(path).eval();
  const y = scope(() => noGrad(() => model.forward(tensor([[1, 0, 0]])).toNumbers()));
  assert.deepEqual(y, [1.5, 3.5]);
});

/** The Gemm graph with the weight 'w' [2, 3] in file `location` at offset 8, 24 bytes. */
const withExternal = (location: string): Uint8Array =>
  onnxBytes(gemm({ initializers: { b: f32([0.5, -0.5]) }, externals: { w: { dims: [2, 3], location, offset: 8, length: 24 } } }));

test('bad files: exit 2 with one line naming the file and the problem', () => {
  const good = onnxBytes(gemm());
  predict(write('truncated.onnx', good.slice(0, Math.floor(good.length * 0.6))), /truncated\.onnx: not an ONNX model file/);
  predict(write('text.onnx', 'this is not a model, just text\n'), /text\.onnx: not an ONNX model file/);
  predict(write('missing-external.onnx', withExternal('nowhere.bin')),
    /missing-external\.onnx: tensor 'w' has its data in 'nowhere\.bin', which cannot be read/);
  predict(
    write('unsupported.onnx', onnxBytes(gemm({ nodes: [{ op: 'NonMaxSuppression', name: 'nms', inputs: ['x'], outputs: ['y'] }] }))),
    /unsupported\.onnx: node 'nms' \(NonMaxSuppression, opset 17\): operator not supported/,
  );
  predict(
    write('cubic.onnx', onnxBytes(gemm({ nodes: [{ op: 'Resize', name: 'up', inputs: ['x'], outputs: ['y'], attrs: { mode: { s: 'cubic' } } }] }))),
    /cubic\.onnx: node 'up' \(Resize, opset 17\): Resize mode 'cubic' is not supported/,
  );
  predict(
    write('indices.onnx',
      onnxBytes(gemm({ nodes: [{ op: 'MaxPool', name: 'pool', inputs: ['x'], outputs: ['y', 'i'], attrs: { kernel_shape: { ints: [2] } } }] }))),
    /indices\.onnx: node 'pool' \(MaxPool, opset 17\): MaxPool's Indices output is not supported/,
  );
  predict(
    write(
      'cycle.onnx',
      onnxBytes(gemm({ nodes: [{ op: 'Add', name: 'a', inputs: ['x', 'c'], outputs: ['y'] }, { op: 'Relu', name: 'b', inputs: ['y'], outputs: ['c'] }] })),
    ),
    /cycle\.onnx: the graph has a cycle through node 'a'/,
  );
  predict(write('undefined.onnx', onnxBytes(gemm({ nodes: [{ op: 'Add', name: 'a', inputs: ['x', 'nowhere'], outputs: ['y'] }] }))),
    /node 'a' \(Add\) reads 'nowhere', which no node/);
  predict(write('nan.onnx', onnxBytes(gemm({ initializers: { w: f32([1, 2, Number.NaN, 4, 5, 6], [2, 3]), b: f32([0, 0]) } }))),
    /nan\.onnx: tensor 'w' holds NaN at index \[0,2\]/);
});

test('an ONNX file is recognised by its first bytes whatever its name; its tensors live in scopes and die with the model', () => {
  const path = write('model.bin', onnxBytes(gemm()));
  const before = liveTensors();
  {
    using model = loadModel(path).model;
    assert.ok(model instanceof OnnxModel);
    assert.equal(model.training, false);
    assert.deepEqual(model.namedParameters().map(([n]) => n), ['w', 'b']);
    const during = liveTensors();
    scope(() => {
      const x = randn([4, 3]).requiresGrad_(true);
      model.forward(x).sum().backward();
      model.defaultProbePoints();
    });
    model.zeroGrad();
    assert.equal(liveTensors(), during, 'a forward and backward pass in a scope leaves nothing behind');
  }
  assert.equal(liveTensors(), before, 'disposing the model frees its parameters and constants');
});

test('initializers listed among the graph inputs, as older exporters write them, are not inputs', () => {
  const path = write('listed.onnx', onnxBytes(gemm({ inputs: [{ name: 'x', shape: ['batch', 3] }, { name: 'w', shape: [2, 3] }, { name: 'b', shape: [2] }] })));
  using model = OnnxModel.load(path).eval();
  assert.deepEqual(scope(() => noGrad(() => model.forward(tensor([[0, 1, 0]])).toNumbers())), [2.5, 4.5]);
});
