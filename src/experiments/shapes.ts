/**
 * The shape-lab experiment of Yu & Sabuncu (2018), docs/papers.md §6, run by the claims
 * shapes-reconstruct, shapes-retrieval and shapes-pose-invariance (src/claims/shapes.ts). No real
 * segmentations ship with dltheory, so the data are the synthetic families of src/data/shapes.ts
 * (ellipsoid, tube, comma, lens), two scans a subject, each with its own pose (rotation up to 15°
 * about a random axis, shift up to 0.05) and boundary noise.
 *
 * - training subjects (seed s) and held-out subjects (seed s + 1), two scans each;
 * - the plain autoencoder trained on the training scans (Adam with warm-up and cosine decay, soft
 *   Dice), its learning curve (held-out Dice every plan.monitorEvery steps): reconstructions and the
 *   codes without a front end;
 * - the aligned model: moment normalisation (src/data/moments.ts: centre of mass, principal axes),
 *   then a rigid front end that refines it, trained first alone against the template (the mean of
 *   the moment-normalised training scans) on the training subjects re-scanned with rotations up to
 *   plan.rotation degrees, then jointly with a copy of the plain autoencoder (template Dice +
 *   reconstruction Dice) on those scans (src/train/shapes.ts): the codes retrieval is judged on, as
 *   the paper's retrieval uses aligned shapes;
 * - the held-out subjects scanned again with rotations up to plan.rotation degrees (same subjects,
 *   shapes and noise; larger rotations), for pose invariance.
 * Baselines (src/measures/shape-baselines.ts): volume and surface area (z-scores) and PCA of the
 * voxels fitted on the training scans, with as many components as the code has entries; and PCA of
 * the moment-normalised voxels, which shows what the closed-form alignment alone is worth.
 * Each is kept per held-out scan (hit or miss, Dice), so the claims can bootstrap over subjects; the
 * scan–rescan Dice — Dice between a subject's two scans in a frame — measures each alignment against
 * the exact un-posing with the known poses (src/data/shapes.ts `unpose`), frame by frame.
 */
import { manualSeed, tensor } from '../engine/creation.js';
import { dispose, scope } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { generateShapes, shapeBatch, unpose, type ShapeScan } from '../data/shapes.js';
import { momentAlign } from '../data/moments.js';
import { diceScore } from '../nn/dice.js';
import { ShapeAutoencoder } from '../nn/models/shape-ae.js';
import { AlignNet } from '../nn/models/align.js';
import { fitPca, nearestOther, pcaFeatures, standardizeColumns, volumeAndSurface } from '../measures/shape-baselines.js';
import { alignShapes, encodeShapes, reconstructShapes, trainShapeModel, type CurvePoint } from '../train/shapes.js';
import { disposeShapeModel, type ShapeModel } from '../train/shape-files.js';
import type { Row } from '../report/chart.js';
import type { RunContext } from './context.js';

export interface ShapePlan {
  /** Cube side of the volumes. */
  size: number;
  latent: number;
  /** Widths of the autoencoder and of the front end. */
  width: number;
  alignWidth: number;
  /** Subjects per family. */
  trainSubjects: number;
  testSubjects: number;
  /** Autoencoder steps, front-end-only steps, joint steps. */
  steps: number;
  alignSteps: number;
  jointSteps: number;
  batchSize: number;
  /** Peak learning rate of the warm-up + cosine schedule, and the warm-up's share of each phase's steps. */
  lr: number;
  warmup: number;
  /** Steps between points of the plain autoencoder's learning curve. */
  monitorEvery: number;
  /** Largest rotation (degrees, about a random axis) of the rotated scans. */
  rotation: number;
}

/** Per held-out scan, whether its nearest other scan is its subject's, for each set of features. */
export interface Hits {
  /** Codes of moment normalisation + front end + autoencoder. */
  aligned: boolean[];
  /** Codes of the plain autoencoder. */
  plain: boolean[];
  volumeSurface: boolean[];
  pca: boolean[];
  /** PCA of the moment-normalised voxels. */
  pcaMoments: boolean[];
}

/** Mean scan–rescan Dice of the held-out subjects in each frame. */
export interface PairDice {
  raw: number;
  /** Un-posed exactly with the known poses: the ceiling. */
  exact: number;
  moments: number;
  /** Moments, then the learned front end. */
  frontEnd: number;
}

export interface ShapeExperiment {
  plan: ShapePlan;
  /** Dice of each held-out scan's reconstruction (thresholded at 0.5), each scan's family and subject. */
  dice: number[];
  families: string[];
  subjects: number[];
  /** Retrieval hits on the held-out scans and on the same subjects rotated up to plan.rotation°. */
  hits: Hits & { rotated: Hits };
  pairDice: PairDice & { rotated: PairDice };
  /** The plain autoencoder's learning curve, and its seconds per training step. */
  curve: CurvePoint[];
  secondsPerStep: number;
  /** Middle slices of one held-out scan per family and of its reconstruction. */
  slices: Row[];
  /** The codes' first two principal components. */
  projection: Row[];
}

/** Per item, whether the nearest other row of f [N, D] has the same subject. */
function hitsOf(f: Tensor, subjects: readonly number[]): boolean[] {
  return nearestOther(f).map((j, i) => subjects[j] === subjects[i]);
}

interface Pipelines {
  plain: ShapeModel;
  aligned: ShapeModel;
  pca: (x: Tensor) => Tensor;
  pcaMoments: (x: Tensor) => Tensor;
}

/** Retrieval hits of both models' codes and of the baselines on `scans`. */
function retrieval(p: Pipelines, x: Tensor, scans: ShapeScan[]): Hits {
  return scope(() => {
    const { volume, surface } = volumeAndSurface(x);
    const vs = standardizeColumns(tensor(volume.flatMap((v, i) => [v, surface[i]]), [volume.length, 2], 'float64'));
    const subjects = scans.map((s) => s.subject);
    return {
      aligned: hitsOf(encodeShapes(p.aligned, x), subjects),
      plain: hitsOf(encodeShapes(p.plain, x), subjects),
      volumeSurface: hitsOf(vs, subjects),
      pca: hitsOf(p.pca(x), subjects),
      pcaMoments: hitsOf(p.pcaMoments(x), subjects),
    };
  });
}

/** Mean Dice between the two scans of each subject (scans in subject, scan order, two each) in each frame. */
function pairDice(aligned: ShapeModel, x: Tensor, scans: ShapeScan[]): PairDice {
  return scope(() => {
    const pairs = (v: Tensor) => {
      const n = v.size(0);
      const [even, odd] = [0, 1].map((k) => v.indexSelect(0, tensor(Array.from({ length: n / 2 }, (_, i) => 2 * i + k), [n / 2], 'int64')));
      return diceScore(even, odd).mean().item();
    };
    return {
      raw: pairs(x),
      exact: pairs(unpose(x, scans.map((s) => s.pose))),
      moments: pairs(momentAlign(x)),
      frontEnd: pairs(alignShapes(aligned, x)),
    };
  });
}

/** Middle z-slices of the first held-out scan of each family (top row) and its reconstruction (bottom row), side by side. */
function sliceRows(x: Tensor, p: Tensor, scans: ShapeScan[]): Row[] {
  const size = x.size(-1);
  const firsts = [...new Set(scans.map((s) => s.family))].map((f) => scans.findIndex((s) => s.family === f));
  return scope(() =>
    firsts.flatMap((n, k) =>
      [x, p].flatMap((t, r) => {
        const values = t.select(0, n).select(0, 0).select(0, size / 2).toNumbers();
        return values.map((v, i) => ({ x: k * (size + 2) + (i % size), y: r * (size + 2) + Math.floor(i / size), probability: Math.round(100 * v) / 100 }));
      })
    )
  );
}

/** Trains both models on the plan's scans and measures them and the baselines; see the module comment. */
export function runShapeExperiment(plan: ShapePlan, ctx: RunContext): ShapeExperiment {
  const gen = (seed: number, subjects: number, maxRotation?: number) => generateShapes({ seed, subjects, scans: 2, size: plan.size, maxRotation });
  const [train, test] = [gen(ctx.seed, plan.trainSubjects), gen(ctx.seed + 1, plan.testSubjects)];
  const [trainRotated, testRotated] = [gen(ctx.seed, plan.trainSubjects, plan.rotation), gen(ctx.seed + 1, plan.testSubjects, plan.rotation)];
  const [x, xTest, xRotated, xTestRotated] = [train, test, trainRotated, testRotated].map(shapeBatch);
  const models: ShapeModel[] = [];
  try {
    const { size, latent, width, batchSize, lr } = plan;
    const common = { size, latent, width, batchSize, lr, schedule: 'cosine', seed: ctx.seed, progress: ctx.progress } as const;
    ctx.log(`shapes: training the autoencoder on ${train.length} scans (${plan.steps} steps)`);
    const started = performance.now();
    const warmup = (steps: number) => Math.round(plan.warmup * steps);
    const monitor = { every: plan.monitorEvery, x: xTest };
    const { model: plain, curve } = trainShapeModel(x, { ...common, steps: plan.steps, warmup: warmup(plan.steps), monitor });
    const secondsPerStep = (performance.now() - started) / 1000 / plan.steps;
    models.push(plain);
    manualSeed(ctx.seed + 1);
    const ae = new ShapeAutoencoder({ size: plan.size, latent: plan.latent, width: plan.width });
    ae.loadStateDict(plain.ae.stateDict());
    const init = { ae, align: new AlignNet({ size: plan.size, mode: 'rigid', width: plan.alignWidth }), moments: true };
    models.push(init);
    ctx.log(
      `shapes: moment normalisation, then the front end (${plan.alignSteps} steps) and both jointly (${plan.jointSteps}) on scans rotated up to ${plan.rotation}°`,
    );
    trainShapeModel(xRotated, {
      ...common,
      align: 'rigid',
      alignWidth: plan.alignWidth,
      moments: true,
      steps: plan.jointSteps,
      alignSteps: plan.alignSteps,
      // One warm-up length for both phases: the shorter phase's share.
      warmup: warmup(Math.min(plan.alignSteps, plan.jointSteps)),
      init,
    });
    // Everything below returns numbers only, so one scope frees every tensor it makes.
    return scope((): ShapeExperiment => {
      const reconstruction = reconstructShapes(plain, xTest);
      const [pca, pcaMoments] = [fitPca(x, plan.latent), fitPca(momentAlign(x), plan.latent)];
      const pipelines: Pipelines = { plain, aligned: init, pca: (v) => pcaFeatures(pca, v), pcaMoments: (v) => pcaFeatures(pcaMoments, momentAlign(v)) };
      const codes = encodeShapes(init, xTest);
      const projected = pcaFeatures(fitPca(codes, 2), codes).toNumbers();
      return {
        plan,
        dice: diceScore(reconstruction, xTest).toNumbers(),
        families: test.map((s) => s.family),
        subjects: test.map((s) => s.subject),
        hits: { ...retrieval(pipelines, xTest, test), rotated: retrieval(pipelines, xTestRotated, testRotated) },
        pairDice: { ...pairDice(init, xTest, test), rotated: pairDice(init, xTestRotated, testRotated) },
        curve,
        secondsPerStep,
        slices: sliceRows(xTest, reconstruction, test),
        projection: test.map((s, i) => ({ 'PC 1': projected[2 * i], 'PC 2': projected[2 * i + 1], family: s.family, subject: s.subject })),
      };
    });
  } finally {
    models.forEach(disposeShapeModel);
    dispose([x, xTest, xRotated, xTestRotated]);
  }
}
