/**
 * What an operator implementation sees: its inputs as engine tensors, its attributes, and the
 * model's mode (ONNX IR spec, "Nodes" and "Attributes"). Operators live in ops/*.ts by family and
 * are looked up by op type in ops/registry.ts.
 */
import { tensor } from '../../engine/creation.js';
import type { DType, Tensor } from '../../engine/tensor.js';
import type { RawTensor } from '../../io/raw.js';
import { type AttributeProto, int } from './schema.js';
import { decodeTensor } from './tensor-proto.js';

/** The state a node runs in. */
export interface OpContext {
  /** Module.training: BatchNormalization on batch statistics, Dropout dropping. */
  training: boolean;
  /** The model's floating dtype: what float constants and Cast to a float type give. */
  dtype: 'float32' | 'float64';
  /** The default domain's opset version the model imports. */
  opset: number;
  /** How many outputs the node names (Split divides into that many pieces by default). */
  outputs: number;
}

/** A node's attributes by name, read with defaults as the operator spec gives them. */
export class Attributes {
  readonly #byName: Map<string, AttributeProto>;
  constructor(protos: AttributeProto[], readonly where: string) {
    this.#byName = new Map(protos.map((a) => [a.name, a]));
  }
  has(name: string): boolean {
    return this.#byName.has(name);
  }
  int(name: string, fallback: number): number {
    const a = this.#byName.get(name);
    return a ? int(a.i) : fallback;
  }
  float(name: string, fallback: number): number {
    const a = this.#byName.get(name);
    return a ? a.f : fallback;
  }
  string(name: string, fallback: string): string {
    const a = this.#byName.get(name);
    return a ? new TextDecoder().decode(a.s) : fallback;
  }
  ints(name: string): number[] | undefined {
    return this.#byName.get(name)?.ints.map(int);
  }
  floats(name: string): number[] | undefined {
    return this.#byName.get(name)?.floats;
  }
  /** A tensor attribute (Constant's value, ConstantOfShape's value), decoded. */
  tensor(name: string): RawTensor | undefined {
    const t = this.#byName.get(name)?.t;
    return t ? decodeTensor(t, this.where, '.') : undefined;
  }
}

/** An operator: outputs (as many as the node names, or fewer when trailing ones are optional) from inputs; a missing optional input is undefined. */
export type OpFn = (inputs: (Tensor | undefined)[], attrs: Attributes, ctx: OpContext) => (Tensor | undefined)[];

export interface OpSpec {
  run: OpFn;
  /**
   * Inputs read as values (shapes, axes, pads, scales, bounds) rather than computed on: a float
   * initializer there is a constant, not a parameter.
   */
  valueInputs?: number[];
  /** Inputs that are running statistics (BatchNormalization's mean and variance): buffers, not parameters. */
  bufferInputs?: number[];
  /** Why the node cannot run with these attributes and output names ('' for an output not asked for), checked at load time; undefined when it can. */
  unsupported?: (attrs: Attributes, opset: number, outputs: string[]) => string | undefined;
}

/** The values of a small int64 tensor (shapes, axes, pads) as numbers. */
export const values = (t: Tensor): number[] => t.toNumbers();
/** Axis a (negative counts from the end) of a tensor of `rank`. */
export const axis = (a: number, rank: number): number => (a < 0 ? a + rank : a);
/** The product of a list of sizes. */
export const product = (xs: number[]): number => xs.reduce((a, b) => a * b, 1);
/** A 1-D int64 tensor of xs (gather indices, shapes). */
export const longs = (xs: number[]): Tensor => tensor(xs, [xs.length], 'int64');
/** Whether a dtype is floating (float32 or float64). */
export const isFloating = (dtype: DType): boolean => dtype === 'float32' || dtype === 'float64';
