/**
 * The depth experiments of Schilling et al. (2018, docs/papers.md §5), shared by `dltheory depth` and
 * the claims gdv-dbn-depth and gdv-backprop: the GDV (src/measures/gdv.ts) of the representation after
 * every layer, on a labelled sample of points the networks were not trained on (the first points of
 * the test split of a data set loaded by name: dbnDepthCurves, mlpDepthCurves).
 * - DBN (src/nn/dbn.ts), trained without labels: layer 0 is the input, layer l the hidden
 *   probabilities of RBM l.
 * - MLPs `mlp:IN-W×d-OUT:init=he` trained by backprop (src/train/record.ts): the input, the
 *   pre-activation of each of the d hidden layers (the model's probe points) and the logits, at
 *   relative depth l/(d + 1). He initialisation, because with PyTorch's default (variance 1/(3·fan_in))
 *   the signal of a 16-layer ReLU MLP fades and it trained to 70.7% test accuracy in 10 epochs.
 */
import { noGrad } from '../engine/autograd.js';
import { scope, dispose } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { check } from '../errors.js';
import { disposeDataset, standardize } from '../data/dataset.js';
import { loadData, type DataChoice } from '../data/load.js';
import type { Splits } from '../data/sources.js';
import { gdv, gdvPerLayer, type GdvResult } from '../measures/gdv.js';
import { dbnInputs, trainDbn, type DbnOptions } from '../nn/dbn.js';
import { disposeRbm, hiddenProbs } from '../nn/rbm.js';
import type { RunStore } from '../store/runs.js';
import { recordRun } from '../train/record.js';

/** The GDV of one layer's representation. */
export interface LayerGdv extends GdvResult {
  /** 0 for the input. */
  layer: number;
  /** The layer's name: `input`, `rbm 3`, `layers.2`, `logits`. */
  name: string;
  /** layer / number of layers after the input. */
  relativeDepth: number;
}

/** A labelled sample: points [n, ...] and their labels. */
export interface Sample {
  x: Tensor;
  y: number[];
}

/** A DBN layer's GDV, with its RBM's reconstruction error after the last epoch (null for the input). */
export type DbnLayerGdv = LayerGdv & { reconstructionError: number | null };

/** The layer with the lowest GDV (the first, on a tie). */
export function lowest<T extends { gdv: number }>(layers: T[]): T {
  return layers.reduce((best, l) => (l.gdv < best.gdv ? l : best));
}

/**
 * Trains a DBN greedily on train [n, ...] (flattened) and returns the GDV of sample after every
 * layer, input included, with each RBM's reconstruction error after its last epoch.
 */
export function dbnGdvCurve(train: Tensor, sample: Sample, o: DbnOptions, log: (m: string) => void = () => {}): DbnLayerGdv[] {
  const [x, s] = scope(() => dbnInputs(o.visible ?? 'binary', train.flatten(1), sample.x.flatten(1)));
  let h = s;
  const at = (layer: number, name: string, reconstructionError: number | null) => ({ layer, name, relativeDepth: layer / o.layers, reconstructionError,
    ...gdv(h, sample.y) });
  const curve = [at(0, 'input', null)];
  try {
    const rbms = trainDbn(x, o, (l, rbm, errors) => {
      const next = noGrad(() => hiddenProbs(rbm, h));
      h.dispose();
      h = next;
      curve.push(at(l, `rbm ${l}`, errors[errors.length - 1] ?? null));
      log(`DBN width ${o.width}: layer ${l}/${o.layers}, GDV ${curve[l].gdv.toFixed(4)}, reconstruction error ${curve[l].reconstructionError?.toFixed(3)}`);
    });
    rbms.forEach(disposeRbm);
  } finally {
    dispose([x, h]);
  }
  return curve;
}

export interface MlpDepthOptions {
  /** Hidden layers of each MLP. */
  depths: number[];
  width: number;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  /** Points of the test split the GDV is measured on (the first ones). */
  samplePoints: number;
  progress?: boolean;
}

export interface MlpCurve {
  depth: number;
  spec: string;
  runId: string;
  testAccuracy: number;
  layers: LayerGdv[];
}

/**
 * Trains one MLP per depth (Adam, recorded in the store as kind `kind`) on splits (inputs already
 * standardised) and measures the GDV at its input, hidden pre-activations and logits on the first
 * samplePoints test points.
 */
export function mlpGdvCurves(store: RunStore, splits: Splits, o: MlpDepthOptions, kind: string, log: (m: string) => void = () => {}): MlpCurve[] {
  const n = Math.min(o.samplePoints, splits.test.y.size(0));
  check(n >= 4, () => `GDV sample of ${n} points: need at least 4`);
  const inputs = splits.train.x.shape.slice(1).reduce((a, b) => a * b, 1);
  return o.depths.map((depth) => {
    const spec = `mlp:${[inputs, ...Array(depth).fill(o.width), splits.train.classes.length].join('-')}:init=he`;
    log(`depth: training ${spec}`);
    const run = recordRun(store, {
      spec,
      data: `${splits.train.name} (${splits.train.y.size(0)} train)`,
      splits,
      kind,
      tag: `depth/mlp-${depth}`,
      options: { epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, optimizer: 'adam', seed: o.seed, progress: o.progress },
    });
    try {
      return scope(() => {
        const x = splits.test.x.narrow(0, 0, n);
        const y = splits.test.y.narrow(0, 0, n).toNumbers();
        const hidden = gdvPerLayer(run.model, x, y);
        const logits = gdv(noGrad(() => run.model.eval().forward(x)), y);
        const layers = [...hidden.map(({ probe, ...r }, l) => ({ ...r, layer: l, name: probe })), { ...logits, layer: depth + 1, name: 'logits' }];
        const relative = layers.map((l) => ({ ...l, relativeDepth: l.layer / (depth + 1) }));
        return { depth, spec, runId: run.id, testAccuracy: run.final.testAccuracy, layers: relative };
      });
    } finally {
      run.model.dispose();
    }
  });
}

/** What a depth run measured on: the data set's test split name, its training points, the GDV sample's points. */
export interface DepthSource {
  name: string;
  trainSize: number;
  samplePoints: number;
}

/** Loads `data` by name and runs `f` on its splits, releasing them after. */
function withData<T>(data: DataChoice, f: (splits: Splits) => T): T {
  const splits = loadData(data);
  try {
    return f(splits);
  } finally {
    disposeDataset(splits.train);
    disposeDataset(splits.test);
  }
}

const sourceOf = (splits: Splits, samplePoints: number): DepthSource => ({ name: splits.test.name, trainSize: splits.train.y.size(0),
  samplePoints: Math.min(samplePoints, splits.test.y.size(0)) });

/**
 * One DBN per width (the other options `o`) trained on the training split of `data`, and the GDV
 * after every layer on its first samplePoints test points.
 */
export function dbnDepthCurves(data: DataChoice, samplePoints: number, widths: number[], o: Omit<DbnOptions, 'width'>, log: (m: string) => void = () => {}): {
  source: DepthSource;
  curves: { width: number; layers: DbnLayerGdv[] }[];
} {
  return withData(data, (splits) => {
    const source = sourceOf(splits, samplePoints);
    const n = source.samplePoints;
    const sample = { x: splits.test.x.narrow(0, 0, n), y: scope(() => splits.test.y.narrow(0, 0, n).toNumbers()) };
    try {
      return { source, curves: widths.map((width) => ({ width, layers: dbnGdvCurve(splits.train.x, sample, { ...o, width }, log) })) };
    } finally {
      sample.x.dispose();
    }
  });
}

/** mlpGdvCurves on `data`, its inputs standardised with the training split's statistics. */
export function mlpDepthCurves(store: RunStore, data: DataChoice, o: MlpDepthOptions, kind: string, log: (m: string) => void = () => {}): {
  source: DepthSource;
  curves: MlpCurve[];
} {
  return withData(data, (raw) => {
    const [train, test] = standardize(raw.train, raw.test);
    try {
      return { source: sourceOf(raw, o.samplePoints), curves: mlpGdvCurves(store, { train, test }, o, kind, log) };
    } finally {
      disposeDataset(train);
      disposeDataset(test);
    }
  });
}
