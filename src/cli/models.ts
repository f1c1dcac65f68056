/** The --model option of the commands that take a saved model or a spec. */
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { manualSeed } from '../engine/creation.js';
import { loadModel } from '../nn/serialize.js';
import { buildModel } from '../nn/models/spec.js';
import type { Module } from '../nn/module.js';

/**
 * Whether a --model value names a file: one that exists, or a value with a path separator or a
 * file extension (`x.onnx`, `runs/a.safetensors`), which no spec has (KIND:SIZES[:OPTIONS], whose
 * only dots are in numbers: `mlp:784-10:dropout=0.5`), so that a mistyped file name reads as a
 * missing file, not as a spec that does not parse.
 */
export function isModelFile(value: string): boolean {
  return existsSync(value) || /[/\\]/.test(value) || /^\.[A-Za-z]\w*$/.test(extname(value));
}

/** A saved model (see isModelFile: .safetensors or ONNX), else an untrained one from a spec seeded with `seed`. */
export function openModel(value: string, seed: number): Module {
  if (isModelFile(value)) return loadModel(value).model;
  manualSeed(seed);
  return buildModel(value);
}
