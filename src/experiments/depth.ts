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
import { dbnInputs, propagateUp, trainDbn, type DbnOptions } from '../nn/dbn.js';
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
  /** The GDV of each of the sample's disjoint blocks (see Sample.blocks); empty without blocks. */
  blockGdv: number[];
}

/** A labelled sample: points [n, ...] and their labels. */
export interface Sample {
  x: Tensor;
  y: number[];
  /**
   * Also measure the GDV on each of this many disjoint contiguous blocks of ⌊n / blocks⌋ points
   * (default 0): independent estimates, whose spread is the GDV's sampling noise at that size.
   */
  blocks?: number;
}

/** The GDV of rows [n, D] (labels y) on each of `blocks` disjoint contiguous blocks of ⌊n / blocks⌋ rows. */
export function blockGdvs(rows: Tensor, y: number[], blocks = 0): number[] {
  const size = blocks ? Math.floor(y.length / blocks) : 0;
  check(!blocks || size >= 4, () => `${blocks} blocks of ${y.length} points: need at least 4 points a block`);
  return Array.from({ length: blocks }, (_, b) => scope(() => gdv(rows.narrow(0, b * size, size), y.slice(b * size, (b + 1) * size)).gdv));
}

/** Saturation of a layer's hidden probabilities p [n, H] over the n points of a sample. */
export interface Saturation {
  /** Fraction of the n·H probabilities below 0.01 or above 0.99. */
  saturated: number;
  /** Mean probability. */
  meanActivation: number;
  /** Fraction of the H units below 0.01 on every point (dead) and above 0.99 on every point (always on). */
  dead: number;
  alwaysOn: number;
  /** Mean over the units of the variance of p over the points (population variance; at most 0.25). */
  unitVariance: number;
}

/** The Saturation of p [n, H] (probabilities). */
export function saturation(p: Tensor): Saturation {
  return noGrad(() =>
    scope(() => {
      const mean = (t: Tensor) => t.to('float64').mean().item();
      return {
        saturated: mean(p.lt(0.01).logicalOr(p.gt(0.99))),
        meanActivation: mean(p),
        dead: mean(p.amax(0).lt(0.01)),
        alwaysOn: mean(p.amin(0).gt(0.99)),
        unitVariance: mean(p.to('float64').var(0, { correction: 0 })),
      };
    })
  );
}

/**
 * A DBN layer's GDV, with its RBM's reconstruction error after the last epoch and the saturation of
 * its hidden probabilities on the sample (both null for the input).
 */
export type DbnLayerGdv = LayerGdv & { reconstructionError: number | null; saturation: Saturation | null };

/** The layer with the lowest GDV (the first, on a tie). */
export function lowest<T extends { gdv: number }>(layers: T[]): T {
  return layers.reduce((best, l) => (l.gdv < best.gdv ? l : best));
}

/**
 * Trains a DBN greedily on train [n, ...] (flattened) and returns the GDV of sample after every
 * layer, input included, with each RBM's reconstruction error after its last epoch. Layer l's
 * representation is p(h | what layer l − 1 passes up), as in trainDbn (src/nn/dbn.ts).
 */
export function dbnGdvCurve(train: Tensor, sample: Sample, o: DbnOptions, log: (m: string) => void = () => {}): DbnLayerGdv[] {
  const [x, s] = scope(() => dbnInputs(o.visible ?? 'binary', train.flatten(1), sample.x.flatten(1)));
  let h = s;
  const at = (layer: number, name: string, p: Tensor, reconstructionError: number | null) => ({ layer, name, relativeDepth: layer / o.layers,
    reconstructionError, saturation: layer ? saturation(p) : null, ...gdv(p, sample.y), blockGdv: blockGdvs(p, sample.y, sample.blocks) });
  const curve = [at(0, 'input', h, null)];
  try {
    const rbms = trainDbn(x, o, (l, rbm, errors) => {
      scope(() => curve.push(at(l, `rbm ${l}`, hiddenProbs(rbm, h), errors[errors.length - 1] ?? null)));
      const next = propagateUp(rbm, h, o.propagate);
      h.dispose();
      h = next;
      const { gdv: g, reconstructionError: e, saturation: sat } = curve[l];
      log(`DBN width ${o.width}, ${o.epochs} epochs: layer ${l}/${o.layers}, GDV ${g.toFixed(4)}, reconstruction error ${e?.toFixed(3)}, ` +
        `saturated ${(100 * sat!.saturated).toFixed(1)}%, mean p ${sat!.meanActivation.toFixed(3)}`);
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
  /** Also measure on this many disjoint blocks of the sample (Sample.blocks; default 0). */
  blocks?: number;
  progress?: boolean;
}

export interface MlpCurve {
  depth: number;
  spec: string;
  runId: string;
  testAccuracy: number;
  /** Test points the accuracy is measured on. */
  testPoints: number;
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
        const measure = (x: Tensor, y: number[]) => [...gdvPerLayer(run.model, x, y), gdv(noGrad(() => run.model.eval().forward(x)), y)];
        const y = splits.test.y.narrow(0, 0, n).toNumbers();
        const size = o.blocks ? Math.floor(n / o.blocks) : 0;
        check(!o.blocks || size >= 4, () => `${o.blocks} blocks of ${n} points: need at least 4 points a block`);
        const blocks = Array.from({ length: o.blocks ?? 0 }, (_, b) => measure(splits.test.x.narrow(0, b * size, size), y.slice(b * size, (b + 1) * size)));
        const layers = measure(splits.test.x.narrow(0, 0, n), y).map((r, l) => {
          const { probe, ...rest } = { probe: 'logits', ...r };
          return { ...rest, layer: l, name: probe, relativeDepth: l / (depth + 1), blockGdv: blocks.map((b) => b[l].gdv) };
        });
        return { depth, spec, runId: run.id, testAccuracy: run.final.testAccuracy, testPoints: splits.test.y.size(0), layers };
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
 * One DBN per run (its width and epochs a layer; the other options `o`) trained on the training
 * split of `data`, and the GDV after every layer on the first sample.points test points (and on
 * sample.blocks disjoint blocks of them).
 */
export function dbnDepthCurves(data: DataChoice, sample: { points: number; blocks?: number }, runs: Pick<DbnOptions, 'width' | 'epochs'>[],
  o: Omit<DbnOptions, 'width' | 'epochs'>, log: (m: string) => void = () => {}
): {
  source: DepthSource;
  curves: { width: number; epochs: number; layers: DbnLayerGdv[] }[];
} {
  return withData(data, (splits) => {
    const source = sourceOf(splits, sample.points);
    const n = source.samplePoints;
    const measured = { x: splits.test.x.narrow(0, 0, n), y: scope(() => splits.test.y.narrow(0, 0, n).toNumbers()), blocks: sample.blocks };
    try {
      return { source, curves: runs.map((r) => ({ ...r, layers: dbnGdvCurve(splits.train.x, measured, { ...o, ...r }, log) })) };
    } finally {
      measured.x.dispose();
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
