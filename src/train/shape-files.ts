/**
 * The shape lab's models (docs/papers.md §6) as values and as files: the autoencoder
 * (src/nn/models/shape-ae.ts), optionally behind moment normalisation (src/data/moments.ts) and the
 * learned front end (src/nn/models/align.ts).
 *
 * Files are safetensors: the networks' state dicts under `ae.` and `align.`, the sizes as JSON in the
 * metadata under `dltheory.shapes`, from which `loadShapeModel` rebuilds the model. A training
 * checkpoint (src/train/shapes.ts) is the same file plus the Adam moments of the phase in progress
 * under `opt.<parameter index>.m|v` and its progress as JSON under `dltheory.shapes.checkpoint`
 * (steps done, losses, learning curve, the options and a fingerprint of the data), so that a model
 * file is also where training resumes from.
 */
import { dispose } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { InputError } from '../errors.js';
import { writeSafetensors } from '../io/safetensors.js';
import type { RawTensor } from '../io/raw.js';
import { fromRaw, readWeights, toRaw } from '../nn/serialize.js';
import { ShapeAutoencoder } from '../nn/models/shape-ae.js';
import { AlignNet, type AlignMode } from '../nn/models/align.js';

export interface ShapeModel {
  ae: ShapeAutoencoder;
  align?: AlignNet;
  /** Moment normalisation (src/data/moments.ts) before the front end, or before the autoencoder without one. */
  moments?: boolean;
}

export interface ShapeModelSizes {
  size: number;
  latent: number;
  /** Autoencoder width (default 8). */
  width?: number;
  align?: AlignMode;
  /** Front-end width (default 8). */
  alignWidth?: number;
  moments?: boolean;
}

export const SHAPES_KEY = 'dltheory.shapes';
export const CHECKPOINT_KEY = 'dltheory.shapes.checkpoint';

export function buildShapeModel(s: ShapeModelSizes): ShapeModel {
  const ae = new ShapeAutoencoder({ size: s.size, latent: s.latent, width: s.width ?? 8 });
  const moments = s.moments ? { moments: true } : {};
  return s.align ? { ae, align: new AlignNet({ size: s.size, mode: s.align, width: s.alignWidth ?? 8 }), ...moments } : { ae, ...moments };
}

export function disposeShapeModel(m: ShapeModel): void {
  m.ae.dispose();
  m.align?.dispose();
}

export function shapeModelSizes(model: ShapeModel): ShapeModelSizes {
  const sizes: ShapeModelSizes = { size: model.ae.size, latent: model.ae.latent, width: model.ae.stem.weight.size(0) };
  if (model.align) Object.assign(sizes, { align: model.align.mode, alignWidth: model.align.convs[0].weight.size(0) });
  if (model.moments) sizes.moments = true;
  return sizes;
}

/** Writes the networks and their sizes (see the module comment), plus any `extra` tensors (a checkpoint's optimiser state). */
export function saveShapeModel(model: ShapeModel, path: string, metadata: Record<string, string> = {}, extra: Record<string, RawTensor> = {}): void {
  const entries = Object.fromEntries([
    ...[...model.ae.stateDict()].map(([k, t]) => [`ae.${k}`, toRaw(t)]),
    ...[...(model.align?.stateDict() ?? [])].map(([k, t]) => [`align.${k}`, toRaw(t)]),
  ]);
  writeSafetensors(path, { ...entries, ...extra }, { ...metadata, [SHAPES_KEY]: JSON.stringify(shapeModelSizes(model)) });
}

/**
 * Rebuilds a model written by saveShapeModel (in eval mode), with the file's metadata and its
 * tensors under `opt.` (a checkpoint's optimiser state, as raw tensors).
 */
export function loadShapeModel(path: string): { model: ShapeModel; metadata: Record<string, string>; optimizer: Map<string, RawTensor> } {
  const file = readWeights(path);
  const text = file.metadata[SHAPES_KEY];
  if (!text) throw new InputError(`${path}: no '${SHAPES_KEY}' entry in the safetensors metadata; not a shape model written by dltheory shapes train`);
  let sizes: ShapeModelSizes;
  try {
    sizes = JSON.parse(text) as ShapeModelSizes;
  } catch {
    throw new InputError(`${path}: '${SHAPES_KEY}' is not JSON`);
  }
  let model: ShapeModel;
  try {
    model = buildShapeModel(sizes);
  } catch (e) {
    throw new InputError(`${path}: sizes '${text}' in the metadata: ${(e as Error).message.split('\n')[0]}`);
  }
  const state = (prefix: string) =>
    new Map(Object.entries(file.tensors).filter(([k]) => k.startsWith(prefix)).map(([k, raw]) => [k.slice(prefix.length), fromRaw(raw)]));
  const parts: [string, { loadStateDict(s: Map<string, Tensor>): void } | undefined][] = [['ae.', model.ae], ['align.', model.align]];
  try {
    for (const [prefix, net] of parts) {
      const s = state(prefix);
      try {
        if (net) net.loadStateDict(s);
        else if (s.size) throw new Error(`tensors under '${prefix}' but no front end in the sizes`);
      } finally {
        dispose([...s.values()]);
      }
    }
  } catch (e) {
    disposeShapeModel(model);
    throw new InputError(`${path}: ${(e as Error).message}`);
  }
  model.ae.train(false);
  model.align?.train(false);
  const optimizer = new Map(Object.entries(file.tensors).filter(([k]) => k.startsWith('opt.')).map(([k, raw]) => [k.slice(4), raw]));
  return { model, metadata: file.metadata, optimizer };
}
