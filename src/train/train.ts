/**
 * Supervised training with seeded shuffling and mini-batches: cross-entropy, SGD or Adam, a
 * learning-rate schedule, per-epoch train/test loss and accuracy, early stop at a target train
 * loss or accuracy. Train metrics per epoch are the running means over that epoch's batches;
 * `evaluate` gives exact ones. Every step runs in a scope, so native memory stays flat.
 */
import type { Tensor } from '../engine/tensor.js';
import { manualSeed, randperm } from '../engine/creation.js';
import { noGrad } from '../engine/autograd.js';
import { scope } from '../engine/memory.js';
import { check, InputError } from '../errors.js';
import { evalMode, type Module } from '../nn/module.js';
import { crossEntropy } from '../nn/functional.js';
import { SGD } from '../nn/optim/sgd.js';
import { Adam } from '../nn/optim/adam.js';
import type { Optimizer } from '../nn/optim/optimizer.js';
import { constant, type Schedule } from '../nn/optim/schedule.js';
import type { Dataset } from '../data/dataset.js';
import { progress } from '../report/progress.js';

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: 'sgd' | 'adam';
  momentum?: number;
  weightDecay?: number;
  schedule?: Schedule;
  seed: number;
  /** Stop once an epoch's running train accuracy reaches this (0–1). */
  targetTrainAccuracy?: number;
  /** Stop once an epoch's running train loss falls to this. */
  targetTrainLoss?: number;
  /** Applied to each training batch's inputs (e.g. random shifts), inside the step's scope. */
  augment?: (x: Tensor) => Tensor;
  /** Progress on stderr: a bar on a TTY, JSON lines otherwise; off by default. */
  progress?: boolean;
  onEpoch?: (m: EpochMetrics) => void;
}

export interface EpochMetrics {
  epoch: number;
  lr: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss?: number;
  testAccuracy?: number;
}

export interface Evaluation {
  loss: number;
  accuracy: number;
}

export interface TrainResult {
  epochs: EpochMetrics[];
  /** Wall time of the training loop alone (no data loading or final evaluation). */
  seconds: number;
}

export function makeOptimizer(model: Module, o: Pick<TrainOptions, 'optimizer' | 'lr' | 'momentum' | 'weightDecay'>): Optimizer {
  return o.optimizer === 'adam'
    ? new Adam(model.parameters(), { lr: o.lr, weightDecay: o.weightDecay })
    : new SGD(model.parameters(), { lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay });
}

/**
 * Checks that `model` takes the inputs of `ds` and that every label is one of its outputs, so that a
 * mismatch is an InputError naming the data set, not a libtorch message from the middle of training.
 */
export function checkFits(model: Module, ds: Dataset, labelsName = ds.name): void {
  const n = ds.y.size(0);
  check(n >= 1, `${ds.name}: no points`);
  let classes: number;
  try {
    using _eval = evalMode(model);
    classes = noGrad(() => scope(() => model.forward(ds.x.narrow(0, 0, 1).to(model.dtype)).size(1)));
  } catch (e) {
    throw new InputError(`${ds.name}: inputs [${ds.x.shape}] do not fit model ${model.label}: ${(e as Error).message.split('\n')[0]}`);
  }
  const bad = scope(() => {
    const outside = ds.y.lt(0).logicalOr(ds.y.ge(classes));
    return outside.any().item() ? outside.to('int64').argmax().item() : -1;
  });
  check(bad < 0, () => `${labelsName}: label of point ${bad} is ${scope(() => ds.y.select(0, bad).item())}, outside the model's ${classes} classes`);
}

/** Mean cross-entropy and accuracy of the model on ds, in eval mode, without autograd. */
export function evaluate(model: Module, ds: Dataset, batchSize = 1000): Evaluation {
  using _eval = evalMode(model);
  const n = ds.y.size(0);
  let loss = 0;
  let correct = 0;
  noGrad(() => {
    for (let i = 0; i < n; i += batchSize) {
      scope(() => {
        const len = Math.min(batchSize, n - i);
        const logits = model.forward(ds.x.narrow(0, i, len));
        const y = ds.y.narrow(0, i, len);
        loss += crossEntropy(logits, y, 'sum').item();
        correct += logits.argmax(1).eq(y).sum().item();
      });
    }
  });
  return { loss: loss / n, accuracy: correct / n };
}

/** Trains model on train (reporting test each epoch when given). */
export function train(model: Module, trainSet: Dataset, testSet: Dataset | undefined, o: TrainOptions): TrainResult {
  checkFits(model, trainSet);
  if (testSet) checkFits(model, testSet);
  manualSeed(o.seed);
  const opt = makeOptimizer(model, o);
  const schedule = o.schedule ?? constant;
  const n = trainSet.y.size(0);
  const steps = Math.ceil(n / o.batchSize);
  const bar = o.progress ? progress({ total: o.epochs * steps, label: 'train' }) : undefined;
  const epochs: EpochMetrics[] = [];
  let seconds = 0;
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      opt.lr = schedule(epoch, o.lr);
      const start = performance.now();
      model.train();
      let lossSum = 0;
      let correct = 0;
      const perm = randperm(n);
      try {
        for (let i = 0; i < n; i += o.batchSize) {
          scope(() => {
            const idx = perm.narrow(0, i, Math.min(o.batchSize, n - i));
            const xb = trainSet.x.indexSelect(0, idx);
            const logits = model.forward(o.augment ? o.augment(xb) : xb);
            const y = trainSet.y.indexSelect(0, idx);
            const loss = crossEntropy(logits, y);
            const value = loss.item();
            // A diverged run would go on to save weights no loader accepts; stop and say where.
            if (!Number.isFinite(value))
              throw new Error(`training diverged: loss ${value} at epoch ${epoch + 1}, step ${i / o.batchSize + 1} (lower the learning rate)`);
            opt.zeroGrad();
            loss.backward();
            opt.step();
            lossSum += value * idx.size(0);
            correct += noGrad(() => logits.argmax(1).eq(y).sum().item());
          });
          bar?.tick(1, { epoch });
        }
      } finally {
        perm.dispose();
      }
      seconds += (performance.now() - start) / 1000;
      const m: EpochMetrics = { epoch: epoch + 1, lr: opt.lr, trainLoss: lossSum / n, trainAccuracy: correct / n };
      if (testSet) {
        const t = evaluate(model, testSet);
        m.testLoss = t.loss;
        m.testAccuracy = t.accuracy;
      }
      epochs.push(m);
      o.onEpoch?.(m);
      if ((o.targetTrainAccuracy !== undefined && m.trainAccuracy >= o.targetTrainAccuracy) ||
        (o.targetTrainLoss !== undefined && m.trainLoss <= o.targetTrainLoss)) break;
    }
  } finally {
    bar?.done();
    opt.dispose();
  }
  return { epochs, seconds };
}
