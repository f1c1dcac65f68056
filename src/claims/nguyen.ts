/**
 * Nguyen, Mukkamala, Hein (ICLR 2019), docs/papers.md §2: a network with M ≥ N hidden units
 * connected straight to the output (softplus activations, cross-entropy) has no bad local valleys —
 * from every starting point a non-increasing path leads to zero loss — because the N×M matrix of
 * skip features has rank N and the loss is convex in the skip weights.
 *
 * `nguyen-no-bad-valleys` judges the random-label fits of src/experiments/nguyen.ts (skip net and
 * trunk alone from ≥ 10 random initialisations each); `landscape-path` judges the straight path from
 * initialisation to solution and the 2-D slice around it, for the skip net on random labels.
 */
import { landscapes, randomLabelFits, SLICE_GRID, type ValleyPlan, type ValleyRun } from '../experiments/nguyen.js';
import { quantile } from '../measures/quantiles.js';
import { heatmapChart, lineChart } from '../report/chart.js';
import { verdictOf, type Claim, type ClaimContext, type Mode, type Outcome } from './claim.js';

const PAPER = 'Nguyen, Mukkamala, Hein. On the loss landscape of a class of deep neural networks with no bad local valleys. ICLR 2019';
/** "Near-zero" mean cross-entropy: an average probability ≥ 0.99 on the assigned label. */
const NEAR_ZERO = 0.01;

/** The series name of a net in the charts. */
const netName = (kind: 'skip' | 'trunk', p: ValleyPlan) => (kind === 'skip' ? `with ${p.n} skip units` : 'trunk alone');

const PLANS: Record<Mode, ValleyPlan> = {
  quick: { n: 300, trunkWidth: 4, inits: 10, epochs: 300, lr: 0.01 },
  full: { n: 1000, trunkWidth: 8, inits: 10, epochs: 600, lr: 0.01 },
};

export const nguyenNoBadValleys: Claim = {
  id: 'nguyen-no-bad-valleys',
  group: 'converge',
  statement: 'With at least N hidden units connected straight to the output (N training points, softplus), training reaches near-zero loss ' +
    'from every initialisation, even on random labels; the same trunk without them does not.',
  paper: PAPER,
  rule: `Holds when the skip-feature matrix has rank N at every initialisation, every skip-net run on random labels ends with mean ` +
    `cross-entropy ≤ ${NEAR_ZERO}, and the trunk alone ends above ${NEAR_ZERO} in most runs with a median loss ≥ 10× the skip net's. ` +
    'Does not hold otherwise.',

  async run(ctx: ClaimContext): Promise<Outcome> {
    const p = PLANS[ctx.mode];
    const { runs, trueAccuracy: trueAcc } = randomLabelFits(p, ctx.seed, ctx.log);
    const median = (v: number[]) => quantile(Float64Array.from(v).sort(), 0.5);
    const [skipMed, trunkMed] = [median(runs.skip.map((r) => r.loss)), median(runs.trunk.map((r) => r.loss))];
    const fullRank = runs.skip.every((r) => r.rank === p.n);
    const allReach = runs.skip.every((r) => r.loss <= NEAR_ZERO);
    const trunkFails = runs.trunk.filter((r) => r.loss > NEAR_ZERO).length > p.inits / 2 && trunkMed >= 10 * skipMed;
    const holds = fullRank && allReach && trunkFails;
    const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
    const list = (rs: ValleyRun[]) => rs.map((r) => r.loss.toExponential(1)).join(', ');
    const ranks = [...new Set(runs.skip.map((r) => r.rank))].join('/');
    const reason = `N = ${p.n} random labels, ${p.inits} initialisations, ${p.epochs} full-batch Adam steps: skip net (M = ${p.n}, skip-feature rank ` +
      `${ranks}) final loss ${list(runs.skip)} (median ${skipMed.toExponential(1)}); trunk alone ${list(runs.trunk)} ` +
      `(median ${trunkMed.toExponential(1)}); true labels: skip net train ${pct(trueAcc.skip.train)} / test ${pct(trueAcc.skip.test)}, ` +
      `trunk alone ${pct(trueAcc.trunk.train)} / ${pct(trueAcc.trunk.test)}`;
    const rows = (['skip', 'trunk'] as const).flatMap((kind) => runs[kind].map((r) => ({ init: r.seed - ctx.seed + 1, loss: r.loss, net: netName(kind, p) })));
    return {
      verdict: verdictOf(holds),
      reason,
      runs: [],
      figures: [
        { name: 'skip-feature rank at initialisation (min over runs)', value: Math.min(...runs.skip.map((r) => r.rank!)), paper: p.n },
        { name: 'largest final loss of the skip net, random labels', value: Math.max(...runs.skip.map((r) => r.loss)), paper: '→ 0' },
        { name: 'median final loss of the trunk alone, random labels', value: trunkMed },
        { name: 'lowest train accuracy of the skip net, random labels', value: Math.min(...runs.skip.map((r) => r.accuracy)), paper: 1 },
        { name: 'skip net, true labels: train accuracy', value: trueAcc.skip.train },
        { name: 'skip net, true labels: test accuracy', value: trueAcc.skip.test },
        { name: 'trunk alone, true labels: test accuracy', value: trueAcc.trunk.test },
      ],
      charts: [
        {
          name: 'nguyen-final-loss',
          title: 'Final training loss on random labels, by initialisation',
          spec: lineChart({
            title: `Cross-entropy after ${p.epochs} steps, N = ${p.n} random labels`,
            data: rows,
            x: 'init',
            y: 'loss',
            series: 'net',
            logY: true,
          }),
        },
      ],
    };
  },
};

export const landscapePath: Claim = {
  id: 'landscape-path',
  group: 'converge',
  statement: 'On the straight line from its initialisation to the solution gradient descent finds, the loss of a skip-to-output network never ' +
    'rises above its starting value, and the solution is the lowest point of a filter-normalised 2-D slice around it.',
  paper: `${PAPER}; slices after Li, Xu, Taylor, Studer, Goldstein, NeurIPS 2018`,
  rule: 'Holds when, for the skip net on random labels, L(α) ≤ L(0) for every α in [0, 1] on a grid of step 0.05 and the centre of the ' +
    '21 × 21 slice over [−1, 1]² has the lowest loss of the slice. Does not hold otherwise.',

  async run(ctx: ClaimContext): Promise<Outcome> {
    const p = PLANS[ctx.mode];
    const { paths, surface } = landscapes(p, ctx.seed, ctx.log);
    const inside = paths.skip.filter((r) => r.alpha >= -1e-9 && r.alpha <= 1 + 1e-9);
    const start = inside[0].loss;
    const peak = Math.max(...inside.map((r) => r.loss));
    const centre = surface[10][10];
    const lowest = Math.min(...surface.flat());
    const holds = peak <= start * (1 + 1e-9) && centre <= lowest;
    const trunkInside = paths.trunk.filter((r) => r.alpha >= -1e-9 && r.alpha <= 1 + 1e-9);
    const solved = inside[inside.length - 1].loss;
    const [trunkStart, trunkEnd] = [trunkInside[0].loss, trunkInside[trunkInside.length - 1].loss];
    const reason =
      `skip net (M = ${p.n}, N = ${p.n} random labels): L(0) ${start.toFixed(3)}, max on [0, 1] ${peak.toFixed(3)}, L(1) ${solved.toExponential(2)}; ` +
      `slice centre ${centre.toExponential(2)} vs lowest ${lowest.toExponential(2)}; trunk alone: L(0) ${trunkStart.toFixed(3)}, L(1) ${trunkEnd.toFixed(3)}`;
    const rows = (['skip', 'trunk'] as const).flatMap((kind) => paths[kind].map((r) => ({ alpha: r.alpha, loss: r.loss, net: netName(kind, p) })));
    // Numbers, not strings, so that the ordinal axes sort numerically.
    const coordinate = (i: number) => Number(SLICE_GRID[i].toFixed(1));
    const cells = surface.flatMap((row, i) => row.map((v, j) => ({ a: coordinate(i), b: coordinate(j), logLoss: Math.log10(v) })));
    return {
      verdict: verdictOf(holds),
      reason,
      runs: [],
      figures: [
        { name: 'loss at initialisation (α = 0)', value: start },
        { name: 'largest loss on the path, α in [0, 1]', value: peak, paper: '≤ L(0): a non-increasing path exists' },
        { name: 'loss at the solution (α = 1)', value: solved },
        { name: 'slice centre minus slice minimum', value: centre - lowest, paper: 0 },
      ],
      charts: [
        {
          name: 'landscape-path',
          title: 'Loss on the straight line from initialisation to solution',
          spec: lineChart({ title: 'L((1 − α)θ₀ + αθ₁), random labels', data: rows, x: 'alpha', y: 'loss', series: 'net', logY: true }),
        },
        {
          name: 'landscape-slice',
          title: 'Filter-normalised 2-D slice around the solution',
          spec: heatmapChart({ title: 'log10 loss at θ* + aδ + bη (skip net)', data: cells, x: 'a', y: 'b', value: 'logLoss' }),
        },
      ],
    };
  },
};

export const NGUYEN_CLAIMS: readonly Claim[] = [nguyenNoBadValleys, landscapePath];
