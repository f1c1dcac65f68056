/**
 * Yu & Sabuncu (2018), docs/papers.md §6: a 3-D convolutional autoencoder learns shape codes of binary
 * brain-structure volumes; an alignment front end makes them pose-invariant; codes retrieve a
 * subject's other scan. No real segmentations ship with dltheory, so the data are the synthetic
 * families of src/data/shapes.ts (ellipsoid, tube, comma, lens), two scans a subject, each with its
 * own pose (rotation up to 15° about a random axis, shift up to 0.05) and boundary noise.
 *
 * One experiment (src/experiments/shapes.ts) serves the three claims, run once per cache (ctx.cache),
 * mode and seed: shapes-reconstruct judges the plain autoencoder's reconstructions of held-out scans,
 * shapes-retrieval the codes of the front end + autoencoder against the baselines, and
 * shapes-pose-invariance both pipelines on the held-out subjects rotated up to ROTATION degrees.
 */
import { runShapeExperiment, type ShapeExperiment as Experiment, type ShapePlan } from '../experiments/shapes.js';
import { barChart, heatmapChart, scatterChart } from '../report/chart.js';
import { verdictOf, type Claim, type ClaimContext, type Mode, type Outcome } from './claim.js';

const PAPER =
  'Yu & Sabuncu. A convolutional autoencoder approach to learn volumetric shape representations for brain structures. arXiv:1810.07746, 2018 (docs/papers.md §6)';

/** Largest rotation (degrees, about a random axis) of the rotated scans. */
const ROTATION = 45;
const RECONSTRUCTION_DICE = 0.9;
const RETRIEVAL = 0.9;
/** How far top-1 accuracy may drop under rotation and still "stay high", and must drop to "fall". */
const DROP = 0.1;

const PLANS: Record<Mode, ShapePlan> = {
  quick: {
    size: 32,
    latent: 32,
    width: 4,
    alignWidth: 8,
    trainSubjects: 12,
    testSubjects: 8,
    steps: 250,
    alignSteps: 300,
    jointSteps: 40,
    batchSize: 8,
    lr: 3e-3,
    rotation: ROTATION,
  },
  full: {
    size: 32,
    latent: 64,
    width: 8,
    alignWidth: 8,
    trainSubjects: 30,
    testSubjects: 15,
    steps: 1400,
    alignSteps: 600,
    jointSteps: 200,
    batchSize: 8,
    lr: 3e-3,
    rotation: ROTATION,
  },
};

/** The experiment of the mode and seed, run once per cache and shared by the three claims. */
const experiment = (ctx: ClaimContext): Experiment => ctx.cache.get(`shapes|${ctx.mode}|${ctx.seed}`, () => runShapeExperiment(PLANS[ctx.mode], ctx));

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const setting = (e: Experiment) =>
  `${e.plan.size}³, latent ${e.plan.latent}, ${e.plan.trainSubjects * 4} training and ${e.plan.testSubjects * 4} held-out subjects, 2 scans each`;

/** The slices as one heatmap of voxels, without the hundreds of voxel-index ticks. */
function sliceChart(e: Experiment, size: number) {
  const spec = heatmapChart({
    title: `Middle z-slices, one held-out scan per family (${[...new Set(e.families)].join(', ')}): ` +
      `input (top), reconstruction probability (bottom), ${size}³`,
    x: 'x',
    y: 'y',
    value: 'probability',
    data: e.slices,
    width: 4 * (size + 2) * 5,
    height: 2 * (size + 2) * 5,
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
    const e = experiment(ctx);
    const m = mean(e.dice);
    const perFamily = [...new Set(e.families)].map((f) => ({ family: f, dice: mean(e.dice.filter((_, i) => e.families[i] === f)) }));
    const size = e.plan.size;
    return {
      verdict: m >= RECONSTRUCTION_DICE ? 'holds' : 'does not hold',
      reason: `mean Dice ${m.toFixed(3)} (target ≥ ${RECONSTRUCTION_DICE}) on ${e.dice.length} held-out scans; ` +
        `${perFamily.map((f) => `${f.family} ${f.dice.toFixed(3)}`).join(', ')} (${setting(e)})`,
      figures: [
        { name: 'mean Dice of held-out reconstructions', value: m, paper: `≥ ${RECONSTRUCTION_DICE} (the claim's bar)` },
        ...perFamily.map((f) => ({ name: `mean Dice, ${f.family}`, value: f.dice })),
      ],
      charts: [
        { name: 'shapes-reconstruct-slices', title: 'Middle slices of held-out scans (top) and their reconstructions (bottom)', spec: sliceChart(e, size) },
      ],
      runs: [],
    };
  },
};

export const shapesRetrieval: Claim = {
  id: 'shapes-retrieval',
  group: 'shapes',
  statement: "Shape codes find a subject's other scan: top-1 retrieval accuracy of at least 0.9, above volume-and-surface features and PCA of the voxels.",
  paper: PAPER,
  rule: 'Each held-out scan retrieves the other held-out scans by Euclidean distance between codes of the front end + autoencoder; ' +
    "holds when the fraction whose nearest one is the same subject's other scan " +
    `is ≥ ${RETRIEVAL} and above both baselines' (volume and surface area z-scores; PCA of the voxels, as many components as the code); ` +
    'does not hold otherwise.',
  async run(ctx): Promise<Outcome> {
    const e = experiment(ctx);
    const t = e.top1;
    const holds = t.aligned >= RETRIEVAL && t.aligned > t.volumeSurface && t.aligned > t.pca;
    return {
      verdict: verdictOf(holds),
      reason: `top-1 codes ${pct(t.aligned)} (target ≥ ${pct(RETRIEVAL)}; without the front end ${pct(t.plain)}), ` +
        `volume + surface ${pct(t.volumeSurface)}, PCA ${pct(t.pca)} (${setting(e)})`,
      figures: [
        { name: 'top-1 accuracy, codes (front end + autoencoder)', value: t.aligned, paper: `≥ ${RETRIEVAL} (the claim's bar)` },
        { name: 'top-1 accuracy, codes of the autoencoder alone', value: t.plain },
        { name: 'top-1 accuracy, volume + surface area', value: t.volumeSurface },
        { name: `top-1 accuracy, PCA of the voxels (${e.plan.latent} components)`, value: t.pca },
      ],
      charts: [{
        name: 'shapes-codes-pca',
        title: 'Codes of the held-out scans, first two principal components',
        spec: scatterChart({
          title: 'Shape codes (front end + autoencoder) of held-out scans, PCA to 2-D, coloured by family',
          x: 'PC 1',
          y: 'PC 2',
          color: 'family',
          data: e.projection,
        }),
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
  rule: 'Top-1 accuracy of each pipeline — with the front end (rigid, trained on rotated training scans) and without it (the plain ' +
    'autoencoder) — on the held-out scans (rotations up to 15°) and on the same subjects ' +
    `rotated up to ${ROTATION}° about random axes. Holds when with the front end the rotated accuracy is at least its unrotated one ` +
    `minus ${DROP} (stays), without it at most its unrotated one minus ${DROP} (falls), ` +
    "and with above without on the rotated scans; does not hold otherwise; inconclusive when the front end's unrotated accuracy is " +
    `below ${RETRIEVAL} (nothing high to stay high).`,
  async run(ctx): Promise<Outcome> {
    const e = experiment(ctx);
    const { rotated: r, ...t } = e.top1;
    const [stays, falls] = [r.aligned >= t.aligned - DROP, r.plain <= t.plain - DROP];
    const holds = stays && falls && r.aligned > r.plain;
    const verdict = t.aligned < RETRIEVAL ? 'inconclusive' : verdictOf(holds);
    const bars = [
      ['front end, ≤ 15°', t.aligned],
      [`front end, rotated ≤ ${ROTATION}°`, r.aligned],
      ['no front end, ≤ 15°', t.plain],
      [`no front end, rotated ≤ ${ROTATION}°`, r.plain],
      [`volume + surface, rotated ≤ ${ROTATION}°`, r.volumeSurface],
      [`PCA, rotated ≤ ${ROTATION}°`, r.pca],
    ] as const;
    return {
      verdict,
      reason: `top-1 with the front end ${pct(t.aligned)} → ${pct(r.aligned)} rotated ≤ ${ROTATION}°${stays ? '' : ' (does not stay)'}; ` +
        `without it ${pct(t.plain)} → ${pct(r.plain)}${falls ? '' : ' (does not fall)'}` +
        `${t.aligned < RETRIEVAL ? ` (front end below ${pct(RETRIEVAL)} unrotated)` : ''}; volume + surface ${pct(r.volumeSurface)}, PCA ${pct(r.pca)} rotated`,
      figures: bars.map(([name, value]) => ({ name: `top-1 accuracy, ${name}`, value })),
      charts: [{
        name: 'shapes-pose-invariance',
        title: 'Top-1 retrieval accuracy with and without the alignment front end',
        spec: barChart({
          title: `Top-1 retrieval of held-out scans, rotated up to ${ROTATION}° or not`,
          x: 'features',
          y: 'top-1 accuracy',
          data: bars.map(([features, v]) => ({ features, 'top-1 accuracy': v })),
        }),
      }],
      runs: [],
    };
  },
};

export const SHAPE_CLAIMS: Claim[] = [shapesReconstruct, shapesRetrieval, shapesPoseInvariance];
