/**
 * Yu & Sabuncu (2018), docs/papers.md §6: a 3-D convolutional autoencoder learns shape codes of binary
 * brain-structure volumes; an alignment front end makes them pose-invariant; codes retrieve a
 * subject's other scan. No real segmentations ship with dltheory, so the data are the synthetic
 * families of src/data/shapes.ts (ellipsoid, tube, comma, lens), two scans a subject, each with its
 * own pose (rotation up to 15° about a random axis, shift up to 0.05) and boundary noise.
 *
 * One experiment serves the three claims (run once per process, mode and seed):
 * - training subjects (seed s) and held-out subjects (seed s + 1), two scans each;
 * - the plain autoencoder trained on the training scans (Adam, soft Dice): reconstructions
 *   (shapes-reconstruct) and the codes without a front end;
 * - the aligned model: a rigid front end trained first alone against the template (the mean of the
 *   training scans, which sit within 15° of the canonical frame) on the training subjects re-scanned
 *   with rotations up to ROTATION degrees, then jointly with a copy of the plain autoencoder
 *   (template Dice + reconstruction Dice) on those scans (src/train/shapes.ts): the codes of
 *   shapes-retrieval, as the paper's retrieval uses aligned shapes;
 * - the held-out subjects scanned again with rotations up to ROTATION degrees (same subjects, shapes
 *   and noise; larger rotations), for shapes-pose-invariance.
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
import { fitPca, pcaFeatures, standardiseColumns, topOneAccuracy, volumeAndSurface } from '../measures/shape-baselines.js';
import { disposeShapeModel, encodeShapes, reconstructShapes, trainShapeModel, type ShapeModel } from '../train/shapes.js';
import { barChart, heatmapChart, scatterChart, type Row } from '../report/chart.js';
import { verdictOf, type Claim, type ClaimContext, type Outcome } from './claim.js';

const PAPER = 'Yu & Sabuncu. A convolutional autoencoder approach to learn volumetric shape representations for brain structures. arXiv:1810.07746, 2018 (docs/papers.md §6)';

/** Largest rotation (degrees, about a random axis) of the rotated scans. */
const ROTATION = 45;
const RECONSTRUCTION_DICE = 0.9;
const RETRIEVAL = 0.9;
/** How far top-1 accuracy may drop under rotation and still "stay high", and must drop to "fall". */
const DROP = 0.1;

const PLANS = {
  quick: { size: 32, latent: 32, width: 4, alignWidth: 8, trainSubjects: 12, testSubjects: 8, steps: 250, alignSteps: 300, jointSteps: 40, batchSize: 8, lr: 3e-3 },
  full: { size: 32, latent: 64, width: 8, alignWidth: 8, trainSubjects: 30, testSubjects: 15, steps: 1400, alignSteps: 600, jointSteps: 200, batchSize: 8, lr: 3e-3 },
} as const;

interface Experiment {
  plan: (typeof PLANS)['quick' | 'full'];
  dice: number[];
  families: string[];
  /** Top-1 accuracy on the held-out scans and on the same subjects rotated up to ROTATION°. */
  top1: Top1 & { rotated: Top1 };
  /** Middle slices of one held-out scan per family and of its reconstruction. */
  slices: Row[];
  /** The codes' first two principal components. */
  projection: Row[];
}

const cache = new Map<string, Experiment>();

const subjectsOf = (scans: ShapeScan[]) => scans.map((s) => s.subject);

interface Top1 {
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
    const vs = standardiseColumns(tensor(volume.flatMap((v, i) => [v, surface[i]]), [volume.length, 2], 'float64'));
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
  return scope(() => firsts.flatMap((n, k) => [x, p].flatMap((t, r) => {
    const values = t.select(0, n).select(0, 0).select(0, size / 2).toNumbers();
    return values.map((v, i) => ({ x: k * (size + 2) + (i % size), y: r * (size + 2) + Math.floor(i / size), probability: Math.round(100 * v) / 100 }));
  })));
}

function runExperiment(ctx: ClaimContext): Experiment {
  const key = `${ctx.mode}|${ctx.seed}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const plan = PLANS[ctx.mode];
  const gen = (seed: number, subjects: number, maxRotation?: number) => generateShapes({ seed, subjects, scans: 2, size: plan.size, maxRotation });
  const [train, test, trainRotated, testRotated] = [gen(ctx.seed, plan.trainSubjects), gen(ctx.seed + 1, plan.testSubjects), gen(ctx.seed, plan.trainSubjects, ROTATION), gen(ctx.seed + 1, plan.testSubjects, ROTATION)];
  const [x, xTest, xRotated, xTestRotated] = [train, test, trainRotated, testRotated].map(shapeBatch);
  const models: ShapeModel[] = [];
  try {
    const common = { size: plan.size, latent: plan.latent, width: plan.width, batchSize: plan.batchSize, lr: plan.lr, seed: ctx.seed, progress: ctx.progress };
    ctx.log(`shapes: training the autoencoder on ${train.length} scans (${plan.steps} steps)`);
    const plain = trainShapeModel(x, { ...common, steps: plan.steps }).model;
    models.push(plain);
    manualSeed(ctx.seed + 1);
    const ae = new ShapeAutoencoder({ size: plan.size, latent: plan.latent, width: plan.width });
    ae.loadStateDict(plain.ae.stateDict());
    const init = { ae, align: new AlignNet({ size: plan.size, mode: 'rigid', width: plan.alignWidth }) };
    models.push(init);
    ctx.log(`shapes: training the front end (${plan.alignSteps} steps) and both jointly (${plan.jointSteps}) on scans rotated up to ${ROTATION}°`);
    const template = scope(() => x.mean(0, true));
    try {
      trainShapeModel(xRotated, { ...common, align: 'rigid', alignWidth: plan.alignWidth, steps: plan.jointSteps, alignSteps: plan.alignSteps, template, init });
    } finally {
      template.dispose();
    }
    // Everything below returns numbers only, so one scope frees every tensor it makes.
    const result: Experiment = scope(() => {
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
    cache.set(key, result);
    return result;
  } finally {
    models.forEach(disposeShapeModel);
    dispose([x, xTest, xRotated, xTestRotated]);
  }
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const setting = (e: Experiment) => `${e.plan.size}³, latent ${e.plan.latent}, ${e.plan.trainSubjects * 4} training and ${e.plan.testSubjects * 4} held-out subjects, 2 scans each`;

/** The slices as one heatmap of voxels, without the hundreds of voxel-index ticks. */
function sliceChart(e: Experiment, size: number) {
  const spec = heatmapChart({
    title: `Middle z-slices, one held-out scan per family (${[...new Set(e.families)].join(', ')}): input (top), reconstruction probability (bottom), ${size}³`,
    x: 'x', y: 'y', value: 'probability', data: e.slices, width: 4 * (size + 2) * 5, height: 2 * (size + 2) * 5,
  });
  const encoding = (spec as unknown as { encoding: Record<string, Record<string, unknown>> }).encoding;
  for (const axis of [encoding.x, encoding.y]) axis.axis = null;
  return spec;
}

export const shapesReconstruct: Claim = {
  id: 'shapes-reconstruct',
  group: 'shapes',
  statement: 'The 3-D convolutional autoencoder reconstructs held-out brain-structure shapes from their codes with a mean Dice of at least 0.9.',
  paper: PAPER,
  rule: `Holds when the mean Dice (reconstruction thresholded at 0.5) over the held-out scans is ≥ ${RECONSTRUCTION_DICE}; does not hold otherwise.`,
  async run(ctx): Promise<Outcome> {
    const e = runExperiment(ctx);
    const m = mean(e.dice);
    const perFamily = [...new Set(e.families)].map((f) => ({ family: f, dice: mean(e.dice.filter((_, i) => e.families[i] === f)) }));
    const size = e.plan.size;
    return {
      verdict: m >= RECONSTRUCTION_DICE ? 'holds' : 'does not hold',
      reason: `mean Dice ${m.toFixed(3)} (target ≥ ${RECONSTRUCTION_DICE}) on ${e.dice.length} held-out scans; ${perFamily.map((f) => `${f.family} ${f.dice.toFixed(3)}`).join(', ')} (${setting(e)})`,
      figures: [{ name: 'mean Dice of held-out reconstructions', value: m, paper: `≥ ${RECONSTRUCTION_DICE} (the claim's bar)` }, ...perFamily.map((f) => ({ name: `mean Dice, ${f.family}`, value: f.dice }))],
      charts: [{ name: 'shapes-reconstruct-slices', title: 'Middle slices of held-out scans (top) and their reconstructions (bottom)', spec: sliceChart(e, size) }],
      runs: [],
    };
  },
};

export const shapesRetrieval: Claim = {
  id: 'shapes-retrieval',
  group: 'shapes',
  statement: "Shape codes find a subject's other scan: top-1 retrieval accuracy of at least 0.9, above volume-and-surface features and PCA of the voxels.",
  paper: PAPER,
  rule:
    `Each held-out scan retrieves the other held-out scans by Euclidean distance between codes of the front end + autoencoder; holds when the fraction whose nearest one is the same subject's other scan ` +
    `is ≥ ${RETRIEVAL} and above both baselines' (volume and surface area z-scores; PCA of the voxels, as many components as the code); does not hold otherwise.`,
  async run(ctx): Promise<Outcome> {
    const e = runExperiment(ctx);
    const t = e.top1;
    const holds = t.aligned >= RETRIEVAL && t.aligned > t.volumeSurface && t.aligned > t.pca;
    return {
      verdict: verdictOf(holds),
      reason: `top-1 codes ${pct(t.aligned)} (target ≥ ${pct(RETRIEVAL)}; without the front end ${pct(t.plain)}), volume + surface ${pct(t.volumeSurface)}, PCA ${pct(t.pca)} (${setting(e)})`,
      figures: [
        { name: 'top-1 accuracy, codes (front end + autoencoder)', value: t.aligned, paper: `≥ ${RETRIEVAL} (the claim's bar)` },
        { name: 'top-1 accuracy, codes of the autoencoder alone', value: t.plain },
        { name: 'top-1 accuracy, volume + surface area', value: t.volumeSurface },
        { name: `top-1 accuracy, PCA of the voxels (${e.plan.latent} components)`, value: t.pca },
      ],
      charts: [{
        name: 'shapes-codes-pca',
        title: 'Codes of the held-out scans, first two principal components',
        spec: scatterChart({ title: 'Shape codes (front end + autoencoder) of held-out scans, PCA to 2-D, coloured by family', x: 'PC 1', y: 'PC 2', color: 'family', data: e.projection }),
      }],
      runs: [],
    };
  },
};

export const shapesPoseInvariance: Claim = {
  id: 'shapes-pose-invariance',
  group: 'shapes',
  statement: 'With the alignment front end, retrieval stays high when the scans are rotated at random; without it, it falls.',
  paper: PAPER,
  rule:
    `Top-1 accuracy of each pipeline — with the front end (rigid, trained on rotated training scans) and without it (the plain autoencoder) — on the held-out scans (rotations up to 15°) and on the same subjects ` +
    `rotated up to ${ROTATION}° about random axes. Holds when with the front end the rotated accuracy is at least its unrotated one minus ${DROP} (stays), without it at most its unrotated one minus ${DROP} (falls), ` +
    `and with above without on the rotated scans; does not hold otherwise; inconclusive when the front end's unrotated accuracy is below ${RETRIEVAL} (nothing high to stay high).`,
  async run(ctx): Promise<Outcome> {
    const e = runExperiment(ctx);
    const { rotated: r, ...t } = e.top1;
    const [stays, falls] = [r.aligned >= t.aligned - DROP, r.plain <= t.plain - DROP];
    const holds = stays && falls && r.aligned > r.plain;
    const verdict = t.aligned < RETRIEVAL ? 'inconclusive' : verdictOf(holds);
    const bars = [
      ['front end, ≤ 15°', t.aligned], [`front end, rotated ≤ ${ROTATION}°`, r.aligned], ['no front end, ≤ 15°', t.plain], [`no front end, rotated ≤ ${ROTATION}°`, r.plain],
      [`volume + surface, rotated ≤ ${ROTATION}°`, r.volumeSurface], [`PCA, rotated ≤ ${ROTATION}°`, r.pca],
    ] as const;
    return {
      verdict,
      reason:
        `top-1 with the front end ${pct(t.aligned)} → ${pct(r.aligned)} rotated ≤ ${ROTATION}°${stays ? '' : ' (does not stay)'}; without it ${pct(t.plain)} → ${pct(r.plain)}${falls ? '' : ' (does not fall)'}` +
        `${t.aligned < RETRIEVAL ? ` (front end below ${pct(RETRIEVAL)} unrotated)` : ''}; volume + surface ${pct(r.volumeSurface)}, PCA ${pct(r.pca)} rotated`,
      figures: bars.map(([name, value]) => ({ name: `top-1 accuracy, ${name}`, value })),
      charts: [{
        name: 'shapes-pose-invariance',
        title: 'Top-1 retrieval accuracy with and without the alignment front end',
        spec: barChart({ title: `Top-1 retrieval of held-out scans, rotated up to ${ROTATION}° or not`, x: 'features', y: 'top-1 accuracy', data: bars.map(([features, v]) => ({ features, 'top-1 accuracy': v })) }),
      }],
      runs: [],
    };
  },
};

export const SHAPE_CLAIMS: Claim[] = [shapesReconstruct, shapesRetrieval, shapesPoseInvariance];
