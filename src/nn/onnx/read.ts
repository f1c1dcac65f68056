/**
 * Reading an ONNX model file (ONNX IR spec, https://onnx.ai/onnx/repo-docs/IR.html) into a graph
 * dltheory can run, checking at load time everything that would otherwise fail mid-run. Each
 * problem is an InputError of one line naming the file: not an ONNX file (or truncated), no graph,
 * a tensor that cannot be read (external data missing), more than one graph input, a node input
 * that nothing defines, a cycle, an operator dltheory does not implement (naming op, node and opset).
 */
import { dirname } from 'node:path';
import { InputError } from '../../errors.js';
import { readInputFile } from '../../io/files.js';
import type { RawTensor } from '../../io/raw.js';
import { Attributes } from './op.js';
import { OPS } from './ops/registry.js';
import { int, ModelProto, type ModelProtoMessage, type NodeProto } from './schema.js';
import { decodeTensor } from './tensor-proto.js';

/** A graph ready to run: nodes in an order where each input is computed before it is read. */
export interface OnnxGraph {
  path: string;
  /** The decoded model, kept whole so that saveOnnx can write it back. */
  proto: ModelProtoMessage;
  /** The default domain's opset version. */
  opset: number;
  /** Nodes to run, in topological order (Constant nodes are folded into `constants`). */
  nodes: NodeProto[];
  /** Initializers by name, with their ONNX element type. */
  initializers: Map<string, { raw: RawTensor; dataType: number }>;
  /** The values of Constant nodes, by output name. */
  constants: Map<string, RawTensor>;
  /**
   * Identity nodes of an initializer, by output name, folded into initializers of their own (a
   * copy under the output's name): torch's exporter merges initializers that hold equal values,
   * so on a fresh model BatchNorm's `running_var` (ones) is `Identity(bn.weight)`, and a running
   * statistic would otherwise be a parameter. saveOnnx writes them back as initializers.
   */
  aliases: Map<string, NodeProto>;
  /** The graph input: name, ONNX element type (0 when the file does not say) and shape (null for a symbolic or unknown size). */
  input: { name: string; type: number; shape: (number | null)[] | undefined };
  /** The first graph output: the model's output. */
  output: string;
}

const isDefaultDomain = (d: string | undefined): boolean => !d || d === 'ai.onnx';

/** The value of a Constant node (operator Constant: value, value_float(s), value_int(s)). */
function constantValue(node: NodeProto, where: string): RawTensor {
  const attrs = new Attributes(node.attribute, where);
  const t = attrs.tensor('value');
  if (t) return t;
  const f = attrs.floats('value_floats');
  if (f) return { dtype: 'float32', shape: [f.length], data: Float32Array.from(f) };
  const i = attrs.ints('value_ints');
  if (i) return { dtype: 'int64', shape: [i.length], data: BigInt64Array.from(i, BigInt) };
  if (attrs.has('value_float')) return { dtype: 'float32', shape: [], data: Float32Array.of(attrs.float('value_float', 0)) };
  if (attrs.has('value_int')) return { dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(attrs.int('value_int', 0))) };
  throw new InputError(`${where}: Constant node '${node.name}' has no value dltheory reads (value, value_float(s), value_int(s))`);
}

/** Decodes the file's bytes, or says why they are not an ONNX model. */
function decode(path: string): ModelProtoMessage {
  const bytes = readInputFile(path);
  let proto: ModelProtoMessage;
  try {
    proto = ModelProto.decode(bytes) as unknown as ModelProtoMessage;
  } catch (e) {
    throw new InputError(`${path}: not an ONNX model file, or a truncated one (protobuf: ${(e as Error).message})`);
  }
  if (!proto.graph || int(proto.ir_version) <= 0)
    throw new InputError(`${path}: not an ONNX model file (no ${proto.graph ? 'IR version' : 'graph'} in its ModelProto)`);
  return proto;
}

/** Reads and checks an ONNX model file. */
export function readOnnx(path: string): OnnxGraph {
  const proto = decode(path);
  const graph = proto.graph!;
  const opset = int(proto.opset_import.find((o) => isDefaultDomain(o.domain))?.version ?? 1);
  const dir = dirname(path);
  const initializers = new Map(graph.initializer.map((t) => [t.name, { raw: decodeTensor(t, path, dir), dataType: t.data_type }]));

  const inputs = graph.input.filter((v) => !initializers.has(v.name));
  if (inputs.length !== 1)
    throw new InputError(`${path}: the graph has ${inputs.length} inputs (${inputs.map((v) => v.name).join(', ')}); dltheory runs graphs with one`);
  if (graph.output.length === 0) throw new InputError(`${path}: the graph has no output`);
  const tensorType = inputs[0].type?.tensor_type;
  const input = {
    name: inputs[0].name,
    type: tensorType?.elem_type ?? 0,
    shape: tensorType?.shape?.dim.map((d) => (d.dim_value != null && int(d.dim_value) > 0 ? int(d.dim_value) : null)),
  };

  const constants = new Map<string, RawTensor>();
  const aliases = new Map<string, NodeProto>();
  const rest: NodeProto[] = [];
  for (const node of graph.node) {
    const what = `node '${node.name}' (${node.domain ? `${node.domain}.` : ''}${node.op_type}, opset ${opset})`;
    if (isDefaultDomain(node.domain) && node.op_type === 'Constant') {
      constants.set(node.output[0], constantValue(node, path));
      continue;
    }
    const source = isDefaultDomain(node.domain) && node.op_type === 'Identity' ? initializers.get(node.input[0]) : undefined;
    if (source && node.output[0] && !initializers.has(node.output[0])) {
      const { raw, dataType } = source;
      initializers.set(node.output[0], { raw: { ...raw, data: raw.data.slice() } as RawTensor, dataType });
      aliases.set(node.output[0], node);
      continue;
    }
    const spec = isDefaultDomain(node.domain) ? OPS[node.op_type] : undefined;
    if (!spec) throw new InputError(`${path}: ${what}: operator not supported by dltheory (docs/onnx.md lists those it runs)`);
    const why = spec.unsupported?.(new Attributes(node.attribute, path), opset, node.output);
    if (why) throw new InputError(`${path}: ${what}: ${why} is not supported by dltheory`);
    rest.push(node);
  }
  return { path, proto, opset, nodes: topologicalOrder(path, rest, new Set([input.name, ...initializers.keys(), ...constants.keys()]), graph.output[0].name),
    initializers, constants, aliases, input, output: graph.output[0].name };
}

/**
 * The nodes in an order where each runs after the nodes producing its inputs (Kahn's algorithm,
 * keeping the file's order among ready nodes). Errors: an input nothing defines, a cycle, an output nothing computes.
 */
function topologicalOrder(path: string, nodes: NodeProto[], given: Set<string>, output: string): NodeProto[] {
  const producer = new Map<string, NodeProto>();
  for (const n of nodes) for (const o of n.output) if (o) producer.set(o, n);
  for (const n of nodes) {
    for (const i of n.input) {
      if (i && !given.has(i) && !producer.has(i))
        throw new InputError(`${path}: node '${n.name}' (${n.op_type}) reads '${i}', which no node, initializer or graph input defines`);
    }
  }
  if (!given.has(output) && !producer.has(output)) throw new InputError(`${path}: the graph output '${output}' is computed by no node`);
  const available = new Set(given);
  const order: NodeProto[] = [];
  let waiting = nodes;
  while (waiting.length > 0) {
    const ready = waiting.filter((n) => n.input.every((i) => !i || available.has(i)));
    if (ready.length === 0) {
      const n = waiting[0];
      throw new InputError(`${path}: the graph has a cycle through node '${n.name}' (${n.op_type}): its inputs depend on its own outputs`);
    }
    for (const n of ready) for (const o of n.output) available.add(o);
    order.push(...ready);
    waiting = waiting.filter((n) => !ready.includes(n));
  }
  return order;
}
