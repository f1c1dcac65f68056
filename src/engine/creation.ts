/**
 * Tensor creation. Random draws come from libtorch's default generator, so `manualSeed(s)` makes
 * every later draw repeat exactly (on CPU; and on CUDA for the same libtorch build).
 */
import { N } from './native.js';
import { type Tensor, wrap, type DType, type TypedArray } from './tensor.js';

type Nested = number | boolean | Nested[];

function inferShape(data: Nested): number[] {
  const shape: number[] = [];
  let d: Nested = data;
  while (Array.isArray(d)) {
    shape.push(d.length);
    d = d[0];
  }
  return shape;
}

function typedFor(dtype: DType, values: ArrayLike<number | bigint | boolean>): TypedArray {
  const n = values.length;
  switch (dtype) {
    case 'float32':
      return Float32Array.from({ length: n }, (_, i) => Number(values[i]));
    case 'float64':
      return Float64Array.from({ length: n }, (_, i) => Number(values[i]));
    case 'int64':
      return BigInt64Array.from({ length: n }, (_, i) => BigInt(Math.trunc(Number(values[i]))));
    case 'bool':
      return Uint8Array.from({ length: n }, (_, i) => (values[i] ? 1 : 0));
    default:
      throw new Error(`unknown dtype '${String(dtype)}' (float32, float64, int64, bool)`);
  }
}

const naturalDtype = (a: unknown): DType | undefined =>
  a instanceof Float32Array ? 'float32' : a instanceof Float64Array ? 'float64' : a instanceof BigInt64Array ? 'int64' : undefined;

/**
 * A tensor holding a copy of `data`: a Float32Array, Float64Array or BigInt64Array (dtype taken from
 * it unless given), any other typed array, or nested arrays of numbers (float32 unless `dtype` says).
 * `shape` defaults to the nesting, or [length] for a flat array.
 */
export function tensor(
  data: Nested | ArrayLike<number> | TypedArray | Int32Array,
  shape?: number[],
  dtype?: DType,
): Tensor {
  let flat: ArrayLike<number | bigint | boolean>;
  let inferred: number[];
  if (ArrayBuffer.isView(data)) {
    flat = data as unknown as ArrayLike<number | bigint>;
    inferred = [flat.length];
  } else if (Array.isArray(data)) {
    inferred = inferShape(data as Nested);
    flat = (data as unknown[]).flat(Infinity as 1) as (number | boolean)[];
  } else if (typeof data === 'number' || typeof data === 'boolean') {
    inferred = [];
    flat = [data];
  } else {
    flat = data as ArrayLike<number>;
    inferred = [flat.length];
  }
  const natural = naturalDtype(data);
  const dt: DType = dtype ?? natural ?? 'float32';
  const buf = natural === dt ? (data as TypedArray) : typedFor(dt, flat);
  return wrap(N.fromBuffer(buf, shape ?? inferred, dt));
}

/** A 0-d tensor. */
export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  return wrap(N.full([], value, dtype));
}
export function zeros(shape: number[], dtype: DType = 'float32'): Tensor {
  return wrap(N.zeros(shape, dtype));
}
export function ones(shape: number[], dtype: DType = 'float32'): Tensor {
  return wrap(N.ones(shape, dtype));
}
export function full(shape: number[], value: number, dtype: DType = 'float32'): Tensor {
  return wrap(N.full(shape, value, dtype));
}
export function zerosLike(t: Tensor): Tensor {
  return wrap(N.zerosLike(t.id));
}
export function onesLike(t: Tensor): Tensor {
  return wrap(N.onesLike(t.id));
}
export function randnLike(t: Tensor): Tensor {
  return wrap(N.randnLike(t.id));
}
/** start, start+step, … < end. */
export function arange(start: number, end: number, step = 1, dtype: DType = 'float32'): Tensor {
  return wrap(N.arange(start, end, step, dtype));
}
export function linspace(start: number, end: number, steps: number, dtype: DType = 'float32'): Tensor {
  return wrap(N.linspace(start, end, steps, dtype));
}
export function eye(n: number, dtype: DType = 'float32'): Tensor {
  return wrap(N.eye(n, dtype));
}
/** Standard normal draws. */
export function randn(shape: number[], dtype: DType = 'float32'): Tensor {
  return wrap(N.randn(shape, dtype));
}
/** Uniform draws on [0, 1). */
export function rand(shape: number[], dtype: DType = 'float32'): Tensor {
  return wrap(N.rand(shape, dtype));
}
/** Integers uniform on [low, high). */
export function randint(low: number, high: number, shape: number[], dtype: DType = 'int64'): Tensor {
  return wrap(N.randint(low, high, shape, dtype));
}
/** A random permutation of 0 … n−1. */
export function randperm(n: number): Tensor {
  return wrap(N.randperm(n, 'int64'));
}
/** Seeds libtorch's default generators (CPU and every CUDA device). */
export function manualSeed(seed: number): void {
  N.manualSeed(seed);
}
