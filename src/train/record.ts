/**
 * A recorded training run: seed, build, train, evaluate exactly on both splits, save the weights
 * and commit the run with all its epochs to the run store in one transaction. The CLI's `train`
 * and every claim that trains go through here, so every figure can be traced to a stored run.
 */
import { join, relative } from 'node:path';
import { manualSeed } from '../engine/creation.js';
import { buildModel } from '../nn/models/spec.js';
import { saveModel } from '../nn/serialize.js';
import { OnnxModel } from '../nn/onnx/model.js';
import type { Module } from '../nn/module.js';
import type { Splits } from '../data/sources.js';
import type { Dataset } from '../data/dataset.js';
import { newRunId, type Metrics, type RunStore } from '../store/runs.js';
import { evaluate, train, type EpochMetrics, type TrainOptions } from './train.js';

export interface RecordedRun {
  id: string;
  model: Module;
  epochs: EpochMetrics[];
  final: {
    trainLoss: number;
    trainAccuracy: number;
    testLoss: number;
    testAccuracy: number;
    /** Train accuracy − test accuracy. */
    gap: number;
    epochs: number;
    seconds: number;
  };
}

export interface RunRequest {
  /** What the run's `spec` field records: the spec to build (or that `model` was built from), or the ONNX file `model` was read from. */
  spec: string;
  /**
   * A model to train from its current weights (one read from a file: ONNX or a dltheory
   * .safetensors) instead of one built from `spec`. It stays the caller's: returned as `model`,
   * trained, and not disposed when the run fails.
   */
  model?: Module;
  /** Data description stored with the run, e.g. `mnist` or `mnist, 2000 points, random labels`. */
  data: string;
  splits: Splits;
  /** The test points evaluated after every epoch for the learning curve (default: all of `splits.test`, which the final metrics always use). */
  curveTest?: Dataset;
  options: TrainOptions;
  kind: string;
  tag?: string;
  /** Extra hyper-parameters to store (data options and the like). */
  hparams?: Record<string, unknown>;
  /** Also write the weights here (ONNX for an OnnxModel, which needs a .onnx path). */
  savePath?: string;
  /** A deterministic run id (the zoo's, so a resumed zoo finds finished models); new by default. */
  id?: string;
  /** Measures of the trained model, stored with the final metrics in the same transaction. */
  measure?: (model: Module, splits: Splits) => Metrics;
}

/** Trains and records one run; the caller disposes the returned `model`. */
export function recordRun(store: RunStore, r: RunRequest): RecordedRun {
  const id = r.id ?? newRunId();
  manualSeed(r.options.seed);
  const model = r.model ?? buildModel(r.spec);
  try {
    return trainAndSave(store, r, id, model);
  } catch (e) {
    if (!r.model) model.dispose();
    throw e;
  }
}

function trainAndSave(store: RunStore, r: RunRequest, id: string, model: Module): RecordedRun {
  const { epochs, seconds } = train(model, r.splits.train, r.curveTest ?? r.splits.test, r.options);
  const tr = evaluate(model, r.splits.train);
  const te = evaluate(model, r.splits.test);
  const final = {
    trainLoss: tr.loss,
    trainAccuracy: tr.accuracy,
    testLoss: te.loss,
    testAccuracy: te.accuracy,
    gap: tr.accuracy - te.accuracy,
    epochs: epochs.length,
    seconds,
  };
  const measures = r.measure?.(model, r.splits) ?? {};
  // An imported graph has no spec to rebuild it from safetensors: it is saved as the ONNX file it came from, with the trained weights.
  const weights = join(store.weightsDir, `${id}${model instanceof OnnxModel ? '.onnx' : '.safetensors'}`);
  const meta = { 'dltheory.run': id, 'dltheory.data': r.data };
  saveModel(model, weights, meta);
  if (r.savePath) saveModel(model, r.savePath, meta);
  const { schedule: _schedule, onEpoch: _onEpoch, progress: _progress, augment: _augment, ...hparams } = r.options;
  store.saveRun(
    {
      id,
      kind: r.kind,
      created: new Date().toISOString(),
      spec: r.spec,
      data: r.data,
      hparams: { ...hparams, ...r.hparams },
      seed: r.options.seed,
      final: { ...final, ...measures },
      weights: relative(store.dir, weights),
      seconds,
      tag: r.tag ?? null,
    },
    epochs.map((m) => ({ epoch: m.epoch, metrics: { ...m } })),
  );
  return { id, model, epochs, final };
}
