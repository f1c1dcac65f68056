/**
 * Training and using the shape lab's models (docs/papers.md §6, Yu & Sabuncu 2018): the 3-D autoencoder
 * (src/nn/models/shape-ae.ts), alone or behind the alignment front end (src/nn/models/align.ts).
 *
 * With a front end, training has two phases, both Adam on seeded minibatches:
 *   1. the front end alone, `alignSteps` steps of the soft Dice between the aligned volumes and the
 *      template T (a mean shape in the common frame): L = D(align(x), T);
 *   2. both networks jointly, `steps` steps of L = D(ae(align(x)), align(x)) + D(align(x), T).
 * Without one, phase 2 is L = D(ae(x), x). D is the soft Dice loss of src/nn/dice.ts. The first
 * phase teaches the front end to find the template's frame before the reconstruction term, which
 * alone would be as happy with any pose, can pull it elsewhere.
 *
 * Files: safetensors with the networks' state dicts under `ae.` and `align.` and the sizes as JSON
 * in the metadata under `dltheory.shapes`, from which `loadShapeModel` rebuilds both.
 */
import { manualSeed, tensor } from '../engine/creation.js';
import { noGrad } from '../engine/autograd.js';
import { cat } from '../engine/ops.js';
import { dispose, keep, scope } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { check, InputError } from '../errors.js';
import { Rng } from '../data/rng.js';
import { writeSafetensors } from '../io/safetensors.js';
import { fromRaw, readWeights, toRaw } from '../nn/serialize.js';
import { softDiceLoss } from '../nn/dice.js';
import { ShapeAutoencoder } from '../nn/models/shape-ae.js';
import { AlignNet, type AlignMode } from '../nn/models/align.js';
import { Adam } from '../nn/optim/adam.js';
import type { Optimizer } from '../nn/optim/optimizer.js';
import { progress } from '../report/progress.js';

export interface ShapeModel {
  ae: ShapeAutoencoder;
  align?: AlignNet;
}

export interface ShapeModelSizes {
  size: number;
  latent: number;
  /** Autoencoder width (default 8). */
  width?: number;
  align?: AlignMode;
  /** Front-end width (default 8). */
  alignWidth?: number;
}

export interface ShapeTrainOptions extends ShapeModelSizes {
  /** Joint (or autoencoder-only) steps. */
  steps: number;
  /** Front-end-only steps before them (default 0). */
  alignSteps?: number;
  batchSize: number;
  lr: number;
  seed: number;
  /** The front end's target frame [1, 1, S, S, S] (default: the mean of the training volumes). */
  template?: Tensor;
  /** Start from these networks (trained further in place) instead of new ones. */
  init?: ShapeModel;
  progress?: boolean;
}

export const SHAPES_KEY = 'dltheory.shapes';

/** One optimiser step of the plain autoencoder on x, reconstructing x under the soft Dice loss; the loss before the step. */
export function autoencoderStep(ae: ShapeAutoencoder, opt: Optimizer, x: Tensor): number {
  return scope(() => {
    opt.zeroGrad();
    const loss = softDiceLoss(ae.forward(x), x);
    loss.backward();
    opt.step();
    return loss.item();
  });
}

export function buildShapeModel(s: ShapeModelSizes): ShapeModel {
  const ae = new ShapeAutoencoder({ size: s.size, latent: s.latent, width: s.width ?? 8 });
  return s.align ? { ae, align: new AlignNet({ size: s.size, mode: s.align, width: s.alignWidth ?? 8 }) } : { ae };
}

export function disposeShapeModel(m: ShapeModel): void {
  m.ae.dispose();
  m.align?.dispose();
}

function setMode(m: ShapeModel, training: boolean): void {
  m.ae.train(training);
  m.align?.train(training);
}

/** Minibatch indices of `steps` steps, epoch after epoch of seeded permutations. */
function batches(n: number, batchSize: number, steps: number, rng: Rng): number[][] {
  const out: number[][] = [];
  let order: number[] = [];
  while (out.length < steps) {
    if (order.length < batchSize) order = order.concat(Array.from(rng.permutation(n)));
    out.push(order.splice(0, Math.min(batchSize, n)));
  }
  return out;
}

/** Trains on volumes x [N, 1, S, S, S] (0/1 float32); see the module comment. Returns the model and each step's loss. */
export function trainShapeModel(x: Tensor, o: ShapeTrainOptions): { model: ShapeModel; losses: number[] } {
  check(x.ndim === 5 && x.size(1) === 1 && x.shape.slice(2).every((d) => d === o.size),
    () => `training volumes must be [N, 1, ${o.size}, ${o.size}, ${o.size}], got [${x.shape}]`);
  check(o.init === undefined || Boolean(o.init.align) === Boolean(o.align), 'the initial model and the options disagree about the front end');
  manualSeed(o.seed);
  const model = o.init ?? buildShapeModel(o);
  const rng = new Rng(o.seed);
  const template = o.template ? keep(o.template.float()) : keep(scope(() => x.mean(0, true)));
  const phases = [
    ...(model.align && o.alignSteps ? [{ name: 'front end', steps: o.alignSteps, params: model.align.parameters(), reconstruct: false }] : []),
    { name: model.align ? 'joint' : 'autoencoder', steps: o.steps, params: [...model.ae.parameters(), ...(model.align?.parameters() ?? [])],
      reconstruct: true },
  ];
  const losses: number[] = [];
  setMode(model, true);
  try {
    for (const phase of phases) {
      const opt = new Adam(phase.params, { lr: o.lr });
      const bar = o.progress ? progress({ total: phase.steps, label: `shapes: ${phase.name}` }) : undefined;
      try {
        for (const idx of batches(x.size(0), o.batchSize, phase.steps, rng)) {
          const loss = scope(() => {
            opt.zeroGrad();
            const xb = x.indexSelect(0, tensor(idx, [idx.length], 'int64'));
            const aligned = model.align ? model.align.forward(xb) : xb;
            const toTemplate = model.align ? softDiceLoss(aligned, template.expand(aligned.shape)) : undefined;
            const reconstruction = phase.reconstruct ? softDiceLoss(model.ae.forward(aligned), aligned) : undefined;
            const total = toTemplate && reconstruction ? toTemplate.add(reconstruction) : (toTemplate ?? reconstruction)!;
            total.backward();
            opt.step();
            return total.item();
          });
          if (!Number.isFinite(loss)) throw new Error(`training diverged: loss ${loss} at step ${losses.length + 1}`);
          losses.push(loss);
          bar?.tick(1, { loss });
        }
      } finally {
        bar?.done();
        opt.dispose();
      }
    }
  } catch (e) {
    if (!o.init) disposeShapeModel(model);
    throw e;
  } finally {
    template.dispose();
    setMode(model, false);
  }
  return { model, losses };
}

/** f over x in batches of `batchSize`, concatenated, without autograd, in eval mode. */
function batched(model: ShapeModel, x: Tensor, batchSize: number, f: (xb: Tensor) => Tensor): Tensor {
  setMode(model, false);
  return noGrad(() =>
    scope(() => {
      const parts: Tensor[] = [];
      for (let i = 0; i < x.size(0); i += batchSize) parts.push(f(x.narrow(0, i, Math.min(batchSize, x.size(0) - i))));
      return cat(parts, 0);
    })
  );
}

/** The front end's aligned volumes (x itself, copied, without one). */
export function alignShapes(model: ShapeModel, x: Tensor, batchSize = 16): Tensor {
  return batched(model, x, batchSize, (xb) => (model.align ? model.align.forward(xb) : xb.clone()));
}

/** The codes [N, L] of volumes x [N, 1, S, S, S], aligned first when the model has a front end. */
export function encodeShapes(model: ShapeModel, x: Tensor, batchSize = 16): Tensor {
  return batched(model, x, batchSize, (xb) => model.ae.encode(model.align ? model.align.forward(xb) : xb));
}

/** Voxel probabilities of the reconstructions, in the aligned frame when the model has a front end. */
export function reconstructShapes(model: ShapeModel, x: Tensor, batchSize = 16): Tensor {
  return batched(model, x, batchSize, (xb) => model.ae.forward(model.align ? model.align.forward(xb) : xb));
}

/** Writes both networks and their sizes (see the module comment). */
export function saveShapeModel(model: ShapeModel, path: string, metadata: Record<string, string> = {}): void {
  const sizes: ShapeModelSizes = { size: model.ae.size, latent: model.ae.latent, width: model.ae.stem.weight.size(0) };
  if (model.align) Object.assign(sizes, { align: model.align.mode, alignWidth: model.align.convs[0].weight.size(0) });
  const entries = Object.fromEntries([
    ...[...model.ae.stateDict()].map(([k, t]) => [`ae.${k}`, toRaw(t)]),
    ...[...(model.align?.stateDict() ?? [])].map(([k, t]) => [`align.${k}`, toRaw(t)]),
  ]);
  writeSafetensors(path, entries, { ...metadata, [SHAPES_KEY]: JSON.stringify(sizes) });
}

/** Rebuilds a model written by saveShapeModel (in eval mode). */
export function loadShapeModel(path: string): { model: ShapeModel; metadata: Record<string, string> } {
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
  setMode(model, false);
  return { model, metadata: file.metadata };
}
