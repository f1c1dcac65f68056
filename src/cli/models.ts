/** The --model option of the commands that take a saved model or a spec. */
import { existsSync } from 'node:fs';
import { manualSeed } from '../engine/creation.js';
import { loadModel } from '../nn/serialize.js';
import { buildModel } from '../nn/models/spec.js';
import type { Module } from '../nn/module.js';

/** A saved model (an existing file, or a name ending .safetensors), else an untrained one from a spec seeded with `seed`. */
export function openModel(value: string, seed: number): Module {
  if (existsSync(value) || value.endsWith('.safetensors')) return loadModel(value).model;
  manualSeed(seed);
  return buildModel(value);
}
