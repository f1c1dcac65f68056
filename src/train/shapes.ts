/**
 * Training and using the shape lab's models (docs/papers.md §6, Yu & Sabuncu 2018; the models and
 * their files in src/train/shape-files.ts): the 3-D autoencoder alone, or behind the alignment front
 * end, optionally with moment normalisation (src/data/moments.ts) applied first, once per volume.
 *
 * With a front end, training has two phases, both Adam on seeded minibatches:
 *   1. the front end alone, `alignSteps` steps of the soft Dice between the aligned volumes and the
 *      template T (a mean shape in the common frame): L = D(align(x), T);
 *   2. both networks jointly, `steps` steps of L = D(ae(align(x)), align(x)) + D(align(x), T).
 * Without one, phase 2 is L = D(ae(x), x). D is the soft Dice loss of src/nn/dice.ts. The first
 * phase teaches the front end to find the template's frame before the reconstruction term, which
 * alone would be as happy with any pose, can pull it elsewhere.
 *
 * Learning rate, per phase of T steps with `warmup` W: η_t = η·(t + 1)/W for t < W, then the cosine
 * decay η·(1 + cos(π(t − W)/(T − W)))/2 (Loshchilov & Hutter 2017, without restarts; schedule
 * 'cosine'), or η throughout ('constant'). The warm-up keeps the first Adam steps, whose
 * second-moment estimates rest on a handful of gradients, small; the decay lets the weights settle
 * below the noise floor that minibatch steps at a fixed rate leave.
 *
 * Checkpoints (`checkpoint.path`, every `checkpoint.every` steps and at the end) hold the networks,
 * the Adam state of the phase in progress and the step; `resume` continues from one. Minibatches are
 * a function of the seed and the step, so a resumed run takes the same steps as an uninterrupted one.
 */
import { manualSeed, tensor } from '../engine/creation.js';
import { noGrad } from '../engine/autograd.js';
import { cat } from '../engine/ops.js';
import { dispose, keep, scope } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { check, InputError } from '../errors.js';
import { Rng } from '../data/rng.js';
import { momentAlign } from '../data/moments.js';
import { fromRaw, toRaw } from '../nn/serialize.js';
import type { RawTensor } from '../io/raw.js';
import { diceScore, softDiceLoss } from '../nn/dice.js';
import type { AlignMode } from '../nn/models/align.js';
import { Adam } from '../nn/optim/adam.js';
import type { Optimizer } from '../nn/optim/optimizer.js';
import { cosineSchedule } from '../nn/optim/schedule.js';
import type { ShapeAutoencoder } from '../nn/models/shape-ae.js';
import { progress } from '../report/progress.js';
import { buildShapeModel, CHECKPOINT_KEY, disposeShapeModel, loadShapeModel, saveShapeModel, type ShapeModel, type ShapeModelSizes } from './shape-files.js';

export type ShapeSchedule = 'constant' | 'cosine';

export interface ShapeTrainOptions extends ShapeModelSizes {
  /** Joint (or autoencoder-only) steps. */
  steps: number;
  /** Front-end-only steps before them (default 0). */
  alignSteps?: number;
  batchSize: number;
  /** Peak learning rate η. */
  lr: number;
  /** Default 'constant'; see the module comment. */
  schedule?: ShapeSchedule;
  /** Warm-up steps W of each phase (default 0; at most its steps). */
  warmup?: number;
  seed: number;
  /** The front end's target frame [1, 1, S, S, S] (default: the mean of the training volumes, moment-normalised if the model is). */
  template?: Tensor;
  /** Start from these networks (trained further in place) instead of new ones. */
  init?: ShapeModel;
  /** Every `every` steps and at the end: the mean loss since the last point and the held-out Dice of reconstructions of `x`. */
  monitor?: { every: number; x: Tensor };
  /** Write a checkpoint to `path` every `every` steps and after the last. */
  checkpoint?: { path: string; every: number };
  /** A checkpoint written with the same options and data to continue from. */
  resume?: string;
  /** Called after each step (and its checkpoint), with the step (1-based, over both phases) and its loss. */
  onStep?: (step: number, loss: number) => void;
  progress?: boolean;
}

/** One point of a learning curve. */
export interface CurvePoint {
  /** Steps done, over both phases. */
  step: number;
  phase: string;
  /** Mean training loss over the steps since the previous point. */
  loss: number;
  /** Mean Dice (threshold 0.5) of the reconstructions of the monitored volumes, in the model's frame. */
  heldOutDice: number;
}

export interface ShapeTraining {
  model: ShapeModel;
  /** Each step's loss, both phases. */
  losses: number[];
  curve: CurvePoint[];
}

/** What a checkpoint must agree on to be resumed. */
interface Progress {
  step: number;
  losses: number[];
  curve: CurvePoint[];
  /** The Adam step count t of each parameter of the phase in progress, by index. */
  adam: Record<string, number>;
  options: Record<string, unknown>;
  data: { volumes: number; mass: number };
}

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

/** The learning rate of step t (0-based) of a phase of `total` steps; see the module comment. */
export function learningRate(t: number, total: number, o: { lr: number; schedule?: ShapeSchedule; warmup?: number }): number {
  const w = Math.min(o.warmup ?? 0, total);
  if (t < w) return (o.lr * (t + 1)) / w;
  return o.schedule === 'cosine' ? cosineSchedule(total - w)(t - w, o.lr) : o.lr;
}

/** The options a resumed run must share with its checkpoint. */
const resumable = (o: ShapeTrainOptions) => ({
  ...buildSizes(o),
  steps: o.steps,
  alignSteps: o.alignSteps ?? 0,
  batchSize: o.batchSize,
  lr: o.lr,
  schedule: o.schedule ?? 'constant',
  warmup: o.warmup ?? 0,
  seed: o.seed,
});
const buildSizes = (o: ShapeModelSizes): ShapeModelSizes => ({
  size: o.size,
  latent: o.latent,
  width: o.width ?? 8,
  ...(o.align && { align: o.align as AlignMode, alignWidth: o.alignWidth ?? 8 }),
  ...(o.moments && { moments: true }),
});

/** The checkpoint of `path`: its model (to train further), Adam state and progress, checked against the options and data. */
function readCheckpoint(path: string, o: ShapeTrainOptions,
  data: Progress['data']): { model: ShapeModel; optimizer: Map<string, RawTensor>; progress: Progress }
{
  const { model, metadata, optimizer } = loadShapeModel(path);
  try {
    const text = metadata[CHECKPOINT_KEY];
    if (!text) throw new InputError(`${path}: no '${CHECKPOINT_KEY}' entry; not a checkpoint of dltheory shapes train`);
    const p = JSON.parse(text) as Progress;
    const [want, got] = [JSON.stringify(resumable(o)), JSON.stringify(p.options)];
    if (want !== got) throw new InputError(`${path}: written with other training options (${got}), not ${want}`);
    if (p.data.volumes !== data.volumes || Math.abs(p.data.mass - data.mass) > 0.5) {
      throw new InputError(`${path}: written for other data (${p.data.volumes} volumes of total mass ${p.data.mass}), not ${data.volumes} of ${data.mass}`);
    }
    return { model, optimizer, progress: p };
  } catch (e) {
    disposeShapeModel(model);
    throw e;
  }
}

function writeCheckpoint(path: string, model: ShapeModel, opt: Adam | undefined, p: Progress): void {
  const state = opt?.state() ?? [];
  const extra = Object.fromEntries(state.flatMap(({ index, m, v }) => [[`opt.${index}.m`, toRaw(m)], [`opt.${index}.v`, toRaw(v)]]));
  p.adam = Object.fromEntries(state.map(({ index, t }) => [String(index), t]));
  saveShapeModel(model, path, { [CHECKPOINT_KEY]: JSON.stringify(p) }, extra);
}

/** The moment-normalised volumes when the model asks for them, else x itself (kept either way; the caller disposes a new one). */
const framed = (model: ShapeModel, x: Tensor): Tensor => (model.moments ? keep(momentAlign(x)) : x);

/** Trains on volumes x [N, 1, S, S, S] (0/1 float32); see the module comment. */
export function trainShapeModel(x: Tensor, o: ShapeTrainOptions): ShapeTraining {
  check(x.ndim === 5 && x.size(1) === 1 && x.shape.slice(2).every((d) => d === o.size),
    () => `training volumes must be [N, 1, ${o.size}, ${o.size}, ${o.size}], got [${x.shape}]`);
  check(o.init === undefined || (Boolean(o.init.align) === Boolean(o.align) && Boolean(o.init.moments) === Boolean(o.moments)),
    'the initial model and the options disagree about the front end');
  check(o.init === undefined || o.resume === undefined, 'resume from a checkpoint or start from a model, not both');
  const data = { volumes: x.size(0), mass: scope(() => x.sum().item()) };
  manualSeed(o.seed);
  const resumed = o.resume ? readCheckpoint(o.resume, o, data) : undefined;
  const model = resumed?.model ?? o.init ?? buildShapeModel(o);
  const progressed: Progress = resumed?.progress ?? { step: 0, losses: [], curve: [], adam: {}, options: resumable(o), data };
  const rng = new Rng(o.seed);
  const xs = framed(model, x);
  const monitored = o.monitor ? framed(model, o.monitor.x) : undefined;
  const template = o.template ? keep(o.template.float()) : keep(scope(() => xs.mean(0, true)));
  const phases = [
    ...(model.align && o.alignSteps ? [{ name: 'front end', steps: o.alignSteps, params: model.align.parameters(), reconstruct: false }] : []),
    { name: model.align ? 'joint' : 'autoencoder', steps: o.steps, params: [...model.ae.parameters(), ...(model.align?.parameters() ?? [])],
      reconstruct: true },
  ];
  const { losses, curve } = progressed;
  const resumedAt = progressed.step;
  setMode(model, true);
  try {
    let first = 0;
    for (const phase of phases) {
      const plan = batches(x.size(0), o.batchSize, phase.steps, rng);
      const done = Math.min(Math.max(progressed.step - first, 0), phase.steps);
      first += phase.steps;
      if (done === phase.steps) continue;
      const opt = new Adam(phase.params, { lr: o.lr });
      const bar = o.progress ? progress({ total: phase.steps, label: `shapes: ${phase.name}` }) : undefined;
      try {
        if (done > 0 && resumed) {
          scope(() =>
            opt.loadState(Object.entries(progressed.adam).map(([i, t]) => {
              const [m, v] = ['m', 'v'].map((k) => resumed.optimizer.get(`${i}.${k}`));
              if (!m || !v) throw new InputError(`${o.resume}: no Adam state for parameter ${i}`);
              return { index: Number(i), m: fromRaw(m), v: fromRaw(v), t };
            }))
          );
          bar?.tick(done);
        }
        for (let t = done; t < phase.steps; t++) {
          opt.lr = learningRate(t, phase.steps, o);
          const idx = plan[t];
          const loss = scope(() => {
            opt.zeroGrad();
            const xb = xs.indexSelect(0, tensor(idx, [idx.length], 'int64'));
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
          progressed.step = losses.length;
          const last = t === phase.steps - 1;
          if (o.monitor && monitored && (progressed.step % o.monitor.every === 0 || last)) {
            const since = curve.length ? curve[curve.length - 1].step : 0;
            const window = losses.slice(since);
            // `monitored` is moment-normalised already: the model without that step takes it from here.
            const inFrame = { ...model, moments: false };
            const heldOutDice = scope(() => diceScore(reconstructShapes(inFrame, monitored), alignShapes(inFrame, monitored)).mean().item());
            setMode(model, true);
            curve.push({ step: progressed.step, phase: phase.name, loss: window.reduce((a, b) => a + b, 0) / window.length, heldOutDice });
          }
          if (o.checkpoint && (progressed.step % o.checkpoint.every === 0 || last)) writeCheckpoint(o.checkpoint.path, model, opt, progressed);
          bar?.tick(1, { loss });
          o.onStep?.(progressed.step, loss);
        }
      } finally {
        bar?.done();
        opt.dispose();
      }
    }
    // A finished checkpoint resumed: nothing trained, but the file asked for is still written.
    if (o.checkpoint && losses.length === resumedAt) writeCheckpoint(o.checkpoint.path, model, undefined, progressed);
  } catch (e) {
    if (!o.init) disposeShapeModel(model);
    throw e;
  } finally {
    dispose([template, ...(xs === x ? [] : [xs]), ...(monitored && monitored !== o.monitor?.x ? [monitored] : [])]);
    setMode(model, false);
  }
  return { model, losses, curve };
}

/** f over x in batches of `batchSize`, concatenated, without autograd, in eval mode; moment-normalised first if the model is. */
function batched(model: ShapeModel, x: Tensor, batchSize: number, f: (xb: Tensor) => Tensor): Tensor {
  setMode(model, false);
  return noGrad(() =>
    scope(() => {
      const parts: Tensor[] = [];
      for (let i = 0; i < x.size(0); i += batchSize) {
        const xb = x.narrow(0, i, Math.min(batchSize, x.size(0) - i));
        parts.push(f(model.moments ? momentAlign(xb) : xb));
      }
      return cat(parts, 0);
    })
  );
}

/** The volumes in the model's frame: moment-normalised and through the front end, as the model has them (x itself, copied, with neither). */
export function alignShapes(model: ShapeModel, x: Tensor, batchSize = 16): Tensor {
  return batched(model, x, batchSize, (xb) => (model.align ? model.align.forward(xb) : xb.clone()));
}

/** The codes [N, L] of volumes x [N, 1, S, S, S], aligned first as the model has it. */
export function encodeShapes(model: ShapeModel, x: Tensor, batchSize = 16): Tensor {
  return batched(model, x, batchSize, (xb) => model.ae.encode(model.align ? model.align.forward(xb) : xb));
}

/** Voxel probabilities of the reconstructions, in the model's frame (see alignShapes). */
export function reconstructShapes(model: ShapeModel, x: Tensor, batchSize = 16): Tensor {
  return batched(model, x, batchSize, (xb) => model.ae.forward(model.align ? model.align.forward(xb) : xb));
}
