/**
 * Writing an OnnxModel back to a file: the model proto it was read from, unchanged but for the
 * initializers of its parameters and buffers, which hold the current values (raw_data, in the
 * element type the file had). A model fine-tuned by dltheory thus runs in any ONNX runtime.
 * Initializers that were external data are written inline (raw_data).
 */
import { noGrad } from '../../engine/autograd.js';
import { writeFileAtomic } from '../../io/files.js';
import type { OnnxModel } from './model.js';
import { ModelProto } from './schema.js';
import { encodeTensor } from './tensor-proto.js';

/** Writes `model` (its graph with the current weights) to `path` as an ONNX model file. */
export function saveOnnx(model: OnnxModel, path: string): void {
  const state = model.stateDict();
  const graph = model.graph.proto.graph!;
  const encode = (name: string) => {
    const current = state.get(name)!;
    const data = noGrad(() => current.toArray());
    return encodeTensor(name, { dtype: current.dtype, shape: current.shape, data }, model.graph.initializers.get(name)!.dataType);
  };
  const initializer = graph.initializer.map((t) => (state.has(t.name) ? encode(t.name) : t));
  // An Identity of an initializer was read as an initializer of its own (see OnnxGraph.aliases):
  // it is written as one, with its current value, in place of the node.
  const aliases = model.graph.aliases;
  for (const name of aliases.keys()) if (state.has(name)) initializer.push(encode(name));
  const node = graph.node.filter((n) => !(aliases.get(n.output[0]) === n && state.has(n.output[0])));
  const proto = { ...model.graph.proto, graph: { ...graph, node, initializer } };
  writeFileAtomic(path, ModelProto.encode(ModelProto.fromObject(proto)).finish());
}
