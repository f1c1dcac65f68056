/**
 * OnnxModel: an ONNX graph run on dltheory tensors, node by node in topological order, so that
 * autograd, `to('float64')`, memory scopes, `using`, train/eval and probe points work as for the
 * built-in models.
 *
 * Weights: a float initializer that some node computes with (Conv/Gemm/MatMul weights and biases,
 * normalisation scales and shifts, anything else a node consumes as data) is a parameter under its
 * ONNX name (`conv1.weight` as torch exports it); BatchNormalization's running mean and variance
 * are buffers; integer initializers and float ones read only as values (shapes, axes, scales,
 * Clip's bounds) are constants, like Constant nodes' values — neither trained nor saved.
 *
 * Probe points: `input` and every node output, by its ONNX name. `defaultProbePoints()` picks the
 * input, three stage outputs and the output (docs/onnx.md, "Probe points").
 */
import { tensor, zeros } from '../../engine/creation.js';
import { noGrad } from '../../engine/autograd.js';
import { keep, scope } from '../../engine/memory.js';
import type { Tensor } from '../../engine/tensor.js';
import { InputError } from '../../errors.js';
import type { RawTensor } from '../../io/raw.js';
import { evalMode, Module } from '../module.js';
import { Attributes, isFloating, type OpSpec } from './op.js';
import { OPS } from './ops/registry.js';
import { type OnnxGraph, readOnnx } from './read.js';
import { DATA_TYPE, type NodeProto } from './schema.js';

interface Step {
  node: NodeProto;
  spec: OpSpec;
  attrs: Attributes;
}

/** Ops whose outputs may end a stage: activations, pooling, normalisation. */
const STAGE_OPS = new Set([
  'Relu',
  'LeakyRelu',
  'Elu',
  'Selu',
  'Sigmoid',
  'Tanh',
  'Softplus',
  'Clip',
  'HardSigmoid',
  'HardSwish',
  'Gelu',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'BatchNormalization',
  'LayerNormalization',
  'InstanceNormalization',
]);
const fromRaw = (raw: RawTensor): Tensor => tensor(raw.data, raw.shape, raw.dtype);
/** How many hidden probe points defaultProbePoints picks. */
const STAGES = 3;

/** k entries of xs evenly spaced, first and last included (all of them when there are at most k). */
function evenlySpaced<T>(xs: T[], k: number): T[] {
  if (xs.length <= k) return xs;
  return Array.from({ length: k }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (k - 1))]);
}

export class OnnxModel extends Module {
  readonly graph: OnnxGraph;
  readonly #steps: Step[];
  /** Integer initializers, value-only float initializers and Constant nodes' values. */
  readonly #constants = new Map<string, Tensor>();
  /** Parameters and buffers by ONNX name. */
  readonly #weights = new Map<string, Tensor>();
  #points: string[] | undefined;
  #defaults: string[] | undefined;
  /** The floating dtype it computes in (a graph may have no parameters to tell it). */
  #dtype: 'float32' | 'float64' = 'float32';
  /**
   * The shape of one point, batch excluded ([3, 32, 32] for a torch export of a CIFAR model): the
   * graph input's static dims, undefined when the file leaves one open. `dltheory layers` reads it.
   */
  readonly inputShape: number[] | undefined;

  /** Reads and checks `path` (readOnnx); the model starts in training mode, as every Module. */
  static load(path: string): OnnxModel {
    return new OnnxModel(readOnnx(path));
  }

  constructor(graph: OnnxGraph) {
    super();
    this.graph = graph;
    this.#steps = graph.nodes.map((node) => ({ node, spec: OPS[node.op_type], attrs: new Attributes(node.attribute, graph.path) }));
    const role = this.#roles();
    for (const [name, { raw }] of graph.initializers) {
      const t = fromRaw(raw);
      const r = isFloating(raw.dtype) ? role.get(name) ?? 'constant' : 'constant';
      if (r === 'parameter') this.#weights.set(name, this.param(name, t));
      else if (r === 'buffer') this.#weights.set(name, this.buffer(name, t));
      else this.#constants.set(name, keep(t));
    }
    for (const [name, raw] of graph.constants) this.#constants.set(name, keep(fromRaw(raw)));
    this.#dtype = super.dtype;
    const dims = graph.input.shape?.slice(1);
    this.inputShape = dims?.every((d) => d !== null) ? (dims as number[]) : undefined;
  }

  /** The file the graph was read from: no spec rebuilds it. */
  override get label(): string {
    return this.graph.path;
  }

  /** What each float initializer is, from the inputs that read it: a buffer, a parameter, or (read only as a value) a constant. */
  #roles(): Map<string, 'parameter' | 'buffer' | 'constant'> {
    const roles = new Map<string, 'parameter' | 'buffer' | 'constant'>();
    const rank = { constant: 0, parameter: 1, buffer: 2 } as const;
    for (const { node, spec } of this.#steps) {
      node.input.forEach((name, i) => {
        if (!this.graph.initializers.has(name)) return;
        const r = spec.bufferInputs?.includes(i) ? 'buffer' : spec.valueInputs?.includes(i) ? 'constant' : 'parameter';
        if (rank[r] >= rank[roles.get(name) ?? 'constant']) roles.set(name, r);
      });
    }
    return roles;
  }

  /** The model's output for x (the graph's input; a float x is converted to the model's dtype). */
  forward(x: Tensor): Tensor {
    const values = new Map<string, Tensor>([...this.#constants, ...this.#weights]);
    // A point shaped otherwise than the file declares fails somewhere deep in the graph, or not at
    // all where broadcasting lets it through (onnxruntime refuses it): say so at the input.
    const point = x.shape.slice(1);
    if (this.inputShape && point.join() !== this.inputShape.join())
      throw new InputError(`input '${this.graph.input.name}' of ${this.graph.path} takes points of shape [${this.inputShape}], not [${point}]`);
    const input = isFloating(x.dtype) && x.dtype !== this.dtype ? x.to(this.dtype) : x;
    values.set(this.graph.input.name, this.tap('input', input));
    const base = { training: this.training, dtype: this.dtype, opset: this.graph.opset };
    for (const { node, spec, attrs } of this.#steps) {
      const inputs = node.input.map((name) => (name ? values.get(name) : undefined));
      let outputs: (Tensor | undefined)[];
      try {
        outputs = spec.run(inputs, attrs, { ...base, outputs: node.output.length });
      } catch (e) {
        const message = `${this.graph.path}: node '${node.name}' (${node.op_type}): ${(e as Error).message.split('\n')[0]}`;
        throw e instanceof InputError ? new InputError(message) : new Error(message);
      }
      node.output.forEach((name, i) => {
        const t = outputs[i];
        if (name && t) values.set(name, this.tap(name, t));
      });
    }
    return values.get(this.graph.output)!;
  }

  /** `input`, then every node output by its ONNX name, in the order the nodes run. */
  override probePoints(): string[] {
    this.#points ??= [...new Set(['input', ...this.#steps.flatMap((s) => s.node.output.filter(Boolean))])];
    return [...this.#points];
  }

  /** The graph's (first) output, a node output and so a probe point. */
  override outputPoint(): string {
    return this.graph.output;
  }

  /**
   * Each BatchNormalization that normalises a Conv's output, as `bn` → `conv` when the initializers
   * have PyTorch's names (`bn.weight`, `bn.bias`, `bn.running_mean`, `bn.running_var`, `conv.weight`,
   * `conv.bias` if any: torch exports with TrainingMode.PRESERVE) and epsilon is PyTorch's 1e-5, which
   * the norm measures assume; undefined when any BatchNormalization is not such, or reads a non-Conv.
   */
  override batchNormInputs(): Map<string, string> | undefined {
    const producer = new Map(this.#steps.flatMap((s) => s.node.output.map((o) => [o, s.node] as const)));
    const prefix = (name: string | undefined, suffix: string) => (name?.endsWith(suffix) ? name.slice(0, -suffix.length) : undefined);
    const sources = new Map<string, string>();
    for (const { node, attrs } of this.#steps) {
      if (node.op_type !== 'BatchNormalization') continue;
      const [x, ...rest] = node.input;
      const bn = prefix(rest[0], '.weight');
      const conv = producer.get(x);
      const src = conv?.op_type === 'Conv' ? prefix(conv.input[1], '.weight') : undefined;
      const named = bn !== undefined && rest.join() === ['weight', 'bias', 'running_mean', 'running_var'].map((k) => `${bn}.${k}`).join();
      // float32 1e-5 as the file holds it.
      if (!named || src === undefined || (conv?.input[2] && conv.input[2] !== `${src}.bias`) || Math.abs(attrs.float('epsilon', 1e-5) - 1e-5) > 1e-9)
        return undefined;
      sources.set(bn, src);
    }
    return sources;
  }

  /** The node computing a probe point and the number of parameters (learnable float initializers) it reads. */
  override describeProbePoint(point: string): { operator: string; parameters: number } {
    if (point === 'input') return { operator: 'input', parameters: 0 };
    const step = this.#steps.find((s) => s.node.output.includes(point));
    if (!step) throw new Error(`no probe point '${point}' in ${this.graph.path}`);
    const params = new Set(this.namedParameters().map(([n]) => n));
    const own = new Set(step.node.input.filter((n) => params.has(n)));
    return { operator: step.node.op_type, parameters: [...own].reduce((a, n) => a + this.#weights.get(n)!.numel, 0) };
  }

  /**
   * The input, three stage outputs and the model's output (docs/onnx.md, "Probe points"). A stage
   * output is the last output of an activation, pooling or normalisation node at each spatial size
   * (4-D outputs) and the last such 2-D output, in run order, measured in one forward pass on zeros
   * of batch 2 in eval mode; three evenly spaced ones are kept. When the graph has fewer than three
   * (a transformer's 3-D token tensors, an input shape the file leaves open), three evenly spaced
   * outputs of all such nodes are kept instead.
   */
  override defaultProbePoints(): string[] {
    this.#defaults ??= ['input', ...evenlySpaced(this.#stageCandidates(), STAGES), this.graph.output];
    return [...new Set(this.#defaults)];
  }

  #stageCandidates(): string[] {
    const sigmoidOf = new Map(this.#steps.filter((s) => s.node.op_type === 'Sigmoid').map((s) => [s.node.output[0], s.node.input[0]]));
    // x·sigmoid(x) (SiLU/swish, which exporters write as Sigmoid then Mul) is an activation too.
    const silu = ({ node }: Step) => node.op_type === 'Mul' && node.input.some((i, k) => sigmoidOf.get(i) === node.input[1 - k]);
    const all = this.#steps.filter((s) => STAGE_OPS.has(s.node.op_type) || silu(s)).map((s) => s.node.output[0]).filter((n) => n !== this.graph.output);
    const shapes = this.#shapes();
    if (!shapes) return all;
    const lastAt = new Map<string, string>(); // spatial size (or '2-D') → the last candidate there
    for (const name of all) {
      const s = shapes.get(name);
      if (s?.length === 4) lastAt.set(`${s[2]}x${s[3]}`, name);
      else if (s?.length === 2) lastAt.set('2-D', name);
    }
    const stages = all.filter((n) => [...lastAt.values()].includes(n));
    return stages.length >= STAGES ? stages : all;
  }

  /** The shape of every node output for a zero input of batch 2, or undefined when the file leaves a non-batch size open. */
  #shapes(): Map<string, number[]> | undefined {
    const dims = this.inputShape;
    if (!dims) return undefined;
    const shapes = new Map<string, number[]>();
    using _eval = evalMode(this);
    scope(() =>
      noGrad(() => {
        const float = [0, DATA_TYPE.FLOAT, DATA_TYPE.DOUBLE, DATA_TYPE.FLOAT16, DATA_TYPE.BFLOAT16].includes(this.graph.input.type);
        const x = zeros([2, ...dims], float ? this.dtype : this.graph.input.type === DATA_TYPE.BOOL ? 'bool' : 'int64');
        const points = this.probePoints();
        const { probes } = this.forwardWithProbes(x, points);
        for (const [n, t] of probes) shapes.set(n, t.shape);
      })
    );
    return shapes;
  }

  /** Converts parameters, buffers and float constants (so that a float64 model computes in float64 throughout). */
  override to(dtype: 'float32' | 'float64'): this {
    super.to(dtype);
    this.#dtype = dtype;
    for (const t of this.#constants.values()) {
      if (!isFloating(t.dtype)) continue;
      const converted = t.to(dtype);
      t.setData_(converted);
      converted.dispose();
    }
    return this;
  }

  override get dtype(): 'float32' | 'float64' {
    return this.#dtype;
  }

  override dispose(): void {
    super.dispose();
    for (const t of this.#constants.values()) t.dispose();
  }
}
