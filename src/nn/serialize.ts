/**
 * Model files: safetensors with PyTorch `state_dict` names and layouts, and the model spec in the
 * header metadata under `dltheory.model`, so one file rebuilds the model; or ONNX models
 * (docs/onnx.md), read and written by onnx/.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { tensor } from '../engine/creation.js';
import type { Tensor } from '../engine/tensor.js';
import { InputError } from '../errors.js';
import { readSafetensors, writeSafetensors, type Safetensors } from '../io/safetensors.js';
import type { RawTensor } from '../io/raw.js';
import type { Module } from './module.js';
import { buildModel } from './models/spec.js';
import { OnnxModel } from './onnx/model.js';
import { saveOnnx } from './onnx/write.js';

export const SPEC_KEY = 'dltheory.model';

/** The engine tensor for a raw one (copies). */
export function fromRaw(raw: RawTensor): Tensor {
  return tensor(raw.data, raw.shape, raw.dtype);
}
/** The raw copy of an engine tensor. */
export function toRaw(t: Tensor): RawTensor {
  return { dtype: t.dtype, shape: t.shape, data: t.toArray() };
}

/**
 * Writes the model's state dict (and its spec, plus any extra metadata) to path; an OnnxModel, or
 * a path ending in `.onnx`, is written as an ONNX model with the current weights (saveOnnx; no metadata).
 */
export function saveModel(model: Module, path: string, metadata: Record<string, string> = {}): void {
  if (model instanceof OnnxModel || path.toLowerCase().endsWith('.onnx')) {
    if (!(model instanceof OnnxModel)) throw new InputError(`${path}: only a model loaded from ONNX can be saved as ONNX (use .safetensors)`);
    saveOnnx(model, path);
    return;
  }
  if (!model.spec) throw new Error('saveModel: the model has no spec string; build it with buildModel');
  const entries: Record<string, RawTensor> = {};
  for (const [name, t] of model.stateDict()) entries[name] = toRaw(t);
  writeSafetensors(path, entries, { ...metadata, [SPEC_KEY]: model.spec });
}

/**
 * Reads a weights file (readSafetensors) and checks that every floating-point tensor is finite: a
 * NaN or ±Inf in a parameter or buffer would make every measure NaN without saying why, so it is an
 * InputError naming the file, the tensor and the position of its first bad value.
 */
export function readWeights(path: string): Safetensors {
  const file = readSafetensors(path);
  for (const [name, raw] of Object.entries(file.tensors)) checkFinite(path, name, raw);
  return file;
}

/** Throws the InputError readWeights describes when the floating-point tensor `name` of file `path` holds a NaN or ±Inf. */
function checkFinite(path: string, name: string, raw: RawTensor): void {
  if (raw.dtype !== 'float32' && raw.dtype !== 'float64') return;
  const at = (raw.data as Float32Array | Float64Array).findIndex((v) => !Number.isFinite(v));
  if (at < 0) return;
  let rest = at;
  const index = raw.shape.map((_, k) => raw.shape.slice(k + 1).reduce((a, b) => a * b, 1)).map((stride) => {
    const i = Math.floor(rest / stride);
    rest -= i * stride;
    return i;
  });
  throw new InputError(`${path}: tensor '${name}' holds ${raw.data[at]} at index [${index}] (shape [${raw.shape}]); weights must be finite`);
}

/**
 * Whether path holds an ONNX model: its name ends in `.onnx`, or it is not safetensors (whose
 * 8-byte header length is followed by '{') and starts as a ModelProto does, with field 1
 * (ir_version, a varint: byte 0x08).
 */
function isOnnx(path: string): boolean {
  if (path.toLowerCase().endsWith('.onnx')) return true;
  const head = new Uint8Array(9);
  try {
    const fd = openSync(path, 'r');
    try {
      readSync(fd, head, 0, 9, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return false; // readSafetensors says why the file cannot be read
  }
  return head[0] === 0x08 && head[8] !== 0x7b;
}

/** An ONNX model (OnnxModel.load) whose weights are finite. */
function loadOnnx(path: string): OnnxModel {
  const model = OnnxModel.load(path);
  try {
    for (const [name, t] of model.stateDict()) checkFinite(path, name, toRaw(t));
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/**
 * Rebuilds the model a file describes and loads its weights (read by readWeights), or loads an
 * ONNX model (an OnnxModel, metadata empty); the model is in eval mode.
 */
export function loadModel(path: string): { model: Module; metadata: Record<string, string> } {
  if (isOnnx(path)) return { model: loadOnnx(path).eval(), metadata: {} };
  const file = readWeights(path);
  const spec = file.metadata[SPEC_KEY];
  if (!spec) throw new InputError(`${path}: no '${SPEC_KEY}' entry in the safetensors metadata, so the model cannot be rebuilt`);
  let model: Module;
  try {
    model = buildModel(spec);
  } catch (e) {
    throw new InputError(`${path}: model spec '${spec}' in the metadata: ${(e as Error).message.split('\n')[0]}`);
  }
  const state = new Map(Object.entries(file.tensors).map(([k, raw]) => [k, fromRaw(raw)]));
  try {
    model.loadStateDict(state);
  } catch (e) {
    model.dispose();
    throw new InputError(`${path}: ${(e as Error).message}`);
  } finally {
    for (const t of state.values()) t.dispose();
  }
  return { model: model.eval(), metadata: file.metadata };
}
