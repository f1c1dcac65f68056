/**
 * The shape-lab experiment of Yu & Sabuncu (2018), docs/papers.md §6, run by the claims
 * shapes-reconstruct, shapes-retrieval and shapes-pose-invariance (src/claims/shapes.ts). No real
 * segmentations ship with dltheory, so the data are the synthetic families of src/data/shapes.ts
 * (ellipsoid, tube, comma, lens), two scans a subject, each with its own pose (rotation up to 15°
 * about a random axis, shift up to 0.05) and boundary noise.
 *
 * - training subjects (seed s) and held-out subjects (seed s + 1), two scans each;
 * - the plain autoencoder trained on the training scans (Adam, soft Dice): reconstructions and the
 *   codes without a front end;
 * - the aligned model: a rigid front end trained first alone against the template (the mean of the
 *   training scans, which sit within 15° of the canonical frame) on the training subjects re-scanned
 *   with rotations up to plan.rotation degrees, then jointly with a copy of the plain autoencoder
 *   (template Dice + reconstruction Dice) on those scans (src/train/shapes.ts): the codes retrieval
 *   is judged on, as the paper's retrieval uses aligned shapes;
 * - the held-out subjects scanned again with rotations up to plan.rotation degrees (same subjects,
 *   shapes and noise; larger rotations), for pose invariance.
 * Baselines (src/measures/shape-baselines.ts): volume and surface area (z-scores) and PCA of the
 * voxels fitted on the training scans, with as many components as the code has entries.
 */
import { manualSeed, tensor } from '../engine/creation.js';
import { dispose, scope } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { generateShapes, shapeBatch, type ShapeScan } from '../data/shapes.js';
import { diceScore } from '../nn/dice.js';
import { ShapeAutoencoder } from '../nn/models/shape-ae.js';
import { AlignNet } from '../nn/models/align.js';
import { fitPca, pcaFeatures, standardizeColumns, topOneAccuracy, volumeAndSurface } from '../measures/shape-baselines.js';
import { disposeShapeModel, encodeShapes, reconstructShapes, trainShapeModel, type ShapeModel } from '../train/shapes.js';
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
  lr: number;
  /** Largest rotation (degrees, about a random axis) of the rotated scans. */
  rotation: number;
}

export interface ShapeExperiment {
  plan: ShapePlan;
  /** Dice of each held-out scan's reconstruction (thresholded at 0.5), and each scan's family. */
  dice: number[];
  families: string[];
  /** Top-1 accuracy on the held-out scans and on the same subjects rotated up to plan.rotation°. */
  top1: Top1 & { rotated: Top1 };
  /** Middle slices of one held-out scan per family and of its reconstruction. */
  slices: Row[];
  /** The codes' first two principal components. */
  projection: Row[];
}

const subjectsOf = (scans: ShapeScan[]) => scans.map((s) => s.subject);

export interface Top1 {
  /** Codes of the front end + autoencoder. */
  aligned: number;
  /** Codes of the plain autoencoder. */
  plain: number;
  volumeSurface: number;
  pca: number;
}

/** Top-1 accuracy of both models' codes and of both baselines on `scans`. */
function retrieval(models: { plain: ShapeModel; aligned: ShapeModel }, x: Tensor, scans: ShapeScan[], pcaOf: (x: Tensor) => Tensor): Top1 {
  return scope(() => {
    const { volume, surface } = volumeAndSurface(x);
    const vs = standardizeColumns(tensor(volume.flatMap((v, i) => [v, surface[i]]), [volume.length, 2], 'float64'));
    const subjects = subjectsOf(scans);
    return {
      aligned: topOneAccuracy(encodeShapes(models.aligned, x), subjects),
      plain: topOneAccuracy(encodeShapes(models.plain, x), subjects),
      volumeSurface: topOneAccuracy(vs, subjects),
      pca: topOneAccuracy(pcaOf(x), subjects),
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
    const common = { size, latent, width, batchSize, lr, seed: ctx.seed, progress: ctx.progress };
    ctx.log(`shapes: training the autoencoder on ${train.length} scans (${plan.steps} steps)`);
    const plain = trainShapeModel(x, { ...common, steps: plan.steps }).model;
    models.push(plain);
    manualSeed(ctx.seed + 1);
    const ae = new ShapeAutoencoder({ size: plan.size, latent: plan.latent, width: plan.width });
    ae.loadStateDict(plain.ae.stateDict());
    const init = { ae, align: new AlignNet({ size: plan.size, mode: 'rigid', width: plan.alignWidth }) };
    models.push(init);
    ctx.log(`shapes: training the front end (${plan.alignSteps} steps) and both jointly (${plan.jointSteps}) on scans rotated up to ${plan.rotation}°`);
    const template = scope(() => x.mean(0, true));
    try {
      const joint = { align: 'rigid', alignWidth: plan.alignWidth, steps: plan.jointSteps, alignSteps: plan.alignSteps, template, init } as const;
      trainShapeModel(xRotated, { ...common, ...joint });
    } finally {
      template.dispose();
    }
    // Everything below returns numbers only, so one scope frees every tensor it makes.
    return scope((): ShapeExperiment => {
      const reconstruction = reconstructShapes(plain, xTest);
      const pca = fitPca(x, plan.latent);
      const pcaOf = (v: Tensor) => pcaFeatures(pca, v);
      const both = { plain, aligned: init };
      const codes = encodeShapes(init, xTest);
      const projected = pcaFeatures(fitPca(codes, 2), codes).toNumbers();
      return {
        plan,
        dice: diceScore(reconstruction, xTest).toNumbers(),
        families: test.map((s) => s.family),
        top1: { ...retrieval(both, xTest, test, pcaOf), rotated: retrieval(both, xTestRotated, testRotated, pcaOf) },
        slices: sliceRows(xTest, reconstruction, test),
        projection: test.map((s, i) => ({ 'PC 1': projected[2 * i], 'PC 2': projected[2 * i + 1], family: s.family, subject: s.subject })),
      };
    });
  } finally {
    models.forEach(disposeShapeModel);
    dispose([x, xTest, xRotated, xTestRotated]);
  }
}
