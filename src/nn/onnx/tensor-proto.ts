/**
 * TensorProto ↔ RawTensor (ONNX IR spec, "Tensor" and "External Tensor Data"; onnx.proto's
 * comments on each data field). The engine's dtypes are float32, float64, int64 and bool, so every
 * integer type widens to int64 and float16/bfloat16 to float32.
 *
 * Where the values are: `raw_data` (little-endian, the usual case), a typed field (`float_data`;
 * `int32_data` for int32, int16, int8, uint16, uint8, bool and the bit patterns of float16 and
 * bfloat16, one element per entry; `int64_data`; `double_data`; `uint64_data` for uint32 and
 * uint64), or an external file named by `external_data` (location, offset, length; relative to the
 * model file's folder).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../errors.js';
import { fromLittleEndian, type RawData, type RawDtype, type RawTensor } from '../../io/raw.js';
import { DATA_TYPE, EXTERNAL, int, type TensorProto } from './schema.js';

/** The engine dtype each ONNX element type is read as; absent: not readable (string, complex, 4-/8-bit floats). */
const ENGINE_DTYPE: Record<number, RawDtype> = {
  [DATA_TYPE.FLOAT]: 'float32',
  [DATA_TYPE.FLOAT16]: 'float32',
  [DATA_TYPE.BFLOAT16]: 'float32',
  [DATA_TYPE.DOUBLE]: 'float64',
  [DATA_TYPE.BOOL]: 'bool',
  [DATA_TYPE.INT8]: 'int64',
  [DATA_TYPE.UINT8]: 'int64',
  [DATA_TYPE.INT16]: 'int64',
  [DATA_TYPE.UINT16]: 'int64',
  [DATA_TYPE.INT32]: 'int64',
  [DATA_TYPE.UINT32]: 'int64',
  [DATA_TYPE.INT64]: 'int64',
  [DATA_TYPE.UINT64]: 'int64',
};

/** Bytes per element of each readable ONNX element type in raw_data. */
const ITEM_BYTES: Record<number, number> = {
  [DATA_TYPE.FLOAT]: 4,
  [DATA_TYPE.FLOAT16]: 2,
  [DATA_TYPE.BFLOAT16]: 2,
  [DATA_TYPE.DOUBLE]: 8,
  [DATA_TYPE.BOOL]: 1,
  [DATA_TYPE.INT8]: 1,
  [DATA_TYPE.UINT8]: 1,
  [DATA_TYPE.INT16]: 2,
  [DATA_TYPE.UINT16]: 2,
  [DATA_TYPE.INT32]: 4,
  [DATA_TYPE.UINT32]: 4,
  [DATA_TYPE.INT64]: 8,
  [DATA_TYPE.UINT64]: 8,
};

/** float16 bits → the float they encode (IEEE 754 binary16). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
/** bfloat16 bits → the float they encode (the high half of a float32). */
const bfloatToFloat = (b: number): number => new Float32Array(new Uint32Array([b << 16]).buffer)[0];

/** The values in little-endian bytes of ONNX element type `dataType`, as the engine dtype. */
function fromBytes(bytes: Uint8Array, dataType: number): RawData {
  const copy = bytes.slice(); // aligned, and owned
  const buf = copy.buffer;
  switch (dataType) {
    case DATA_TYPE.FLOAT:
      return fromLittleEndian(copy, 'float32');
    case DATA_TYPE.DOUBLE:
      return fromLittleEndian(copy, 'float64');
    case DATA_TYPE.INT64:
    case DATA_TYPE.UINT64: // read as signed: values above 2^63 do not occur as shapes or indices
      return fromLittleEndian(copy, 'int64');
    case DATA_TYPE.BOOL:
      return Uint8Array.from(copy, (v) => (v ? 1 : 0));
    case DATA_TYPE.FLOAT16:
      return Float32Array.from(new Uint16Array(buf), halfToFloat);
    case DATA_TYPE.BFLOAT16:
      return Float32Array.from(new Uint16Array(buf), bfloatToFloat);
  }
  const ints = {
    [DATA_TYPE.INT8]: () => new Int8Array(buf),
    [DATA_TYPE.UINT8]: () => new Uint8Array(buf),
    [DATA_TYPE.INT16]: () => new Int16Array(buf),
    [DATA_TYPE.UINT16]: () => new Uint16Array(buf),
    [DATA_TYPE.INT32]: () => new Int32Array(buf),
    [DATA_TYPE.UINT32]: () => new Uint32Array(buf),
  }[dataType]!();
  return BigInt64Array.from(ints as ArrayLike<number>, (v) => BigInt(v));
}

/** The values held in the typed fields (no raw_data). */
function fromFields(t: TensorProto): RawData {
  switch (t.data_type) {
    case DATA_TYPE.FLOAT:
      return Float32Array.from(t.float_data);
    case DATA_TYPE.DOUBLE:
      return Float64Array.from(t.double_data);
    case DATA_TYPE.INT64:
      return BigInt64Array.from(t.int64_data, (v) => BigInt(int(v)));
    case DATA_TYPE.UINT32:
    case DATA_TYPE.UINT64:
      return BigInt64Array.from(t.uint64_data, (v) => BigInt(int(v)));
    case DATA_TYPE.BOOL:
      return Uint8Array.from(t.int32_data, (v) => (v ? 1 : 0));
    case DATA_TYPE.FLOAT16:
      return Float32Array.from(t.int32_data, (v) => halfToFloat(v & 0xffff));
    case DATA_TYPE.BFLOAT16:
      return Float32Array.from(t.int32_data, (v) => bfloatToFloat(v & 0xffff));
    default: // int8, uint8, int16, uint16, int32: one value per int32_data entry
      return BigInt64Array.from(t.int32_data, (v) => BigInt(v));
  }
}

/** The bytes of an external tensor: `location` relative to `dir`, from `offset`, `length` bytes (to the end when absent). */
function readExternal(t: TensorProto, modelPath: string, dir: string): Uint8Array {
  const entry = (key: string) => t.external_data.find((e) => e.key === key)?.value;
  const location = entry('location');
  if (!location) throw new InputError(`${modelPath}: tensor '${t.name}' has external data without a 'location'`);
  const file = join(dir, location);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    throw new InputError(`${modelPath}: tensor '${t.name}' has its data in '${location}', which cannot be read (${file})`);
  }
  try {
    const size = fstatSync(fd).size;
    const offset = Number(entry('offset') ?? 0);
    const length = entry('length') === undefined ? size - offset : Number(entry('length'));
    if (!(offset >= 0 && length >= 0 && offset + length <= size))
      throw new InputError(`${modelPath}: tensor '${t.name}' reads bytes ${offset}…${offset + length} of '${location}', which has ${size}`);
    const out = new Uint8Array(length);
    readSync(fd, out, 0, length, offset);
    return out;
  } finally {
    closeSync(fd);
  }
}

/**
 * The tensor a TensorProto holds, in the engine's dtypes. Errors (InputError, naming the model file
 * and the tensor): an element type dltheory cannot hold, a segmented tensor, external data that
 * cannot be read, a value count that does not fill the shape.
 */
export function decodeTensor(t: TensorProto, modelPath: string, dir: string): RawTensor {
  const dtype = ENGINE_DTYPE[t.data_type];
  if (!dtype) throw new InputError(`${modelPath}: tensor '${t.name}' has ONNX element type ${t.data_type}, which dltheory does not read`);
  if (t.segment) throw new InputError(`${modelPath}: tensor '${t.name}' is a segment of a larger tensor, which dltheory does not read`);
  const shape = t.dims.map(int);
  const bytes = t.data_location === EXTERNAL ? readExternal(t, modelPath, dir) : t.raw_data?.length ? t.raw_data : undefined;
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes && bytes.length !== count * ITEM_BYTES[t.data_type])
    throw new InputError(`${modelPath}: tensor '${t.name}' has ${bytes.length} bytes of data for shape [${shape}]`);
  const data = bytes ? fromBytes(bytes, t.data_type) : fromFields(t);
  if (data.length !== count) throw new InputError(`${modelPath}: tensor '${t.name}' holds ${data.length} values for shape [${shape}]`);
  return { dtype, shape, data };
}

/**
 * A TensorProto holding `raw` as raw_data under `name`, of ONNX type `dataType`: FLOAT or DOUBLE,
 * the types of weights dltheory trains (the values are converted to it); an Error for another type.
 */
export function encodeTensor(name: string, raw: RawTensor, dataType: number): Partial<TensorProto> {
  if (dataType !== DATA_TYPE.FLOAT && dataType !== DATA_TYPE.DOUBLE)
    throw new Error(`saveOnnx: weight '${name}' has ONNX element type ${dataType}; only float and double weights are written`);
  const data = dataType === DATA_TYPE.DOUBLE ? Float64Array.from(raw.data as Float32Array) : Float32Array.from(raw.data as Float64Array);
  return { name, dims: raw.shape, data_type: dataType, raw_data: new Uint8Array(data.buffer) };
}
