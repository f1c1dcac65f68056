// Builds small ONNX model files by hand for the operator tests (a test helper, not a test file):
// nodes, initializers and typed graph inputs/outputs, encoded with dltheory's own protobuf schema.
import type { RawTensor } from '../src/io/raw.js';
import { DATA_TYPE, ModelProto } from '../src/nn/onnx/schema.js';

/** An attribute value, tagged by its ONNX type. */
export type Attr = { i: number } | { f: number } | { s: string } | { ints: number[] } | { floats: number[] } | { t: RawTensor };
export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, Attr>;
  name?: string;
  domain?: string;
}
export interface GraphSpec {
  /** Graph inputs: name, element type (DATA_TYPE), shape (a string for a symbolic size). */
  inputs: { name: string; type?: number; shape: (number | string)[] }[];
  outputs: string[];
  nodes: NodeSpec[];
  initializers?: Record<string, RawTensor>;
  /** float32 initializers whose data is in another file (ONNX external data). */
  externals?: Record<string, { dims: number[]; location: string; offset: number; length: number }>;
  opset?: number;
}

const ELEM = { float32: DATA_TYPE.FLOAT, float64: DATA_TYPE.DOUBLE, int64: DATA_TYPE.INT64, bool: DATA_TYPE.BOOL } as const;

/** A TensorProto holding raw (raw_data, little-endian). */
export function tensorProto(name: string, raw: RawTensor): Record<string, unknown> {
  return { name, dims: raw.shape, data_type: ELEM[raw.dtype], raw_data: new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength) };
}

function attribute(name: string, a: Attr): Record<string, unknown> {
  if ('i' in a) return { name, type: 2, i: a.i };
  if ('f' in a) return { name, type: 1, f: a.f };
  if ('s' in a) return { name, type: 3, s: new TextEncoder().encode(a.s) };
  if ('ints' in a) return { name, type: 7, ints: a.ints };
  if ('floats' in a) return { name, type: 6, floats: a.floats };
  return { name, type: 4, t: tensorProto('', a.t) };
}

/** The bytes of an ONNX model file (IR version 8) with the given graph. */
export function onnxBytes(g: GraphSpec): Uint8Array {
  const valueInfo = (name: string, type: number, shape: (number | string)[]) => ({
    name,
    type: { tensor_type: { elem_type: type, shape: { dim: shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  });
  const model = {
    ir_version: 8,
    opset_import: [{ domain: '', version: g.opset ?? 17 }],
    producer_name: 'dltheory-test',
    graph: {
      name: 'test',
      node: g.nodes.map((n, k) => ({
        name: n.name ?? `n${k}`,
        op_type: n.op,
        domain: n.domain ?? '',
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([name, a]) => attribute(name, a)),
      })),
      initializer: [
        ...Object.entries(g.initializers ?? {}).map(([name, raw]) => tensorProto(name, raw)),
        ...Object.entries(g.externals ?? {}).map(([name, e]) => ({
          name,
          dims: e.dims,
          data_type: DATA_TYPE.FLOAT,
          data_location: 1,
          external_data: Object.entries({ location: e.location, offset: String(e.offset), length: String(e.length) }).map(([key, value]) => ({ key, value })),
        })),
      ],
      input: g.inputs.map((i) => valueInfo(i.name, i.type ?? DATA_TYPE.FLOAT, i.shape)),
      output: g.outputs.map((name) => ({ name })),
    },
  };
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

export const f32 = (data: number[], shape = [data.length]): RawTensor => ({ dtype: 'float32', shape, data: Float32Array.from(data) });
export const i64 = (data: number[], shape = [data.length]): RawTensor => ({ dtype: 'int64', shape, data: BigInt64Array.from(data, BigInt) });
