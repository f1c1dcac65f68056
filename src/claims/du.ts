/**
 * Du, Zhai, Póczos, Singh (ICLR 2019) and Du, Lee, Li, Wang, Zhai (ICML 2019), docs/papers.md §3:
 * gradient descent on an over-parameterised network stays in the regime where its Gram matrix H
 * barely moves from its value at initialisation, so the squared loss ½‖u − y‖² falls linearly,
 *   ‖u(k) − y‖² ≤ (1 − ηλ₀/2)^k ‖u(0) − y‖²,   λ₀ = λ_min(H^∞);
 * and with the residual scaling c_res/(H√m) the ResNet's Gram matrix stays well conditioned at any
 * depth, where the plain fully-connected net's degenerates.
 *
 * `du-two-layer-width` judges the width sweep of src/experiments/du.ts: the theory says the drift
 * ‖H(k) − H(0)‖_F/‖H(0)‖_F, the fraction of ReLU patterns that flip and max_r ‖w_r(k) − w_r(0)‖ all
 * shrink like 1/√m, and that the loss obeys the bound.
 *
 * `du-resnet-depth` judges the depth sweep there (resmlp against fcnet, depths up to 20–30): the
 * ResNet's λ_min, relative to its mean eigenvalue, stays; the fully-connected net's collapses.
 *
 * Both repeat their sweep over several initialisation seeds (ctx.seed + k, k = 0 … S − 1; the data
 * stay those of ctx.seed, so λ₀ and η are shared) and judge the mean over seeds of each compared
 * number by its 95% Student t interval (src/measures/bootstrap.ts, meanInterval): holds when every
 * interval lies on the right side of its threshold, does not hold when one lies wholly on the wrong
 * side, inconclusive otherwise. The numbers move with the initialisation, some little (quick drift
 * slopes −0.65, −0.61, −0.62, −0.65, −0.61 over 5 seeds), some much (the log ratio of drift between
 * neighbouring widths by ±0.15; the fully-connected over ResNet rate ratio from 0.006 to 1.1), and one
 * sweep's point estimate against a threshold would decide by that noise.
 * Rule change (before: one sweep, point estimates). The last runs held: du-two-layer-width quick with
 * slope −0.65 (full −0.58), du-resnet-depth quick with the ResNet keeping 61% of its relative λ_min
 * (full 74%), the fully-connected net 7.8e-10 of its own, and rates 2.42e-3 (ResNet) against 9.27e-4.
 */
import { formatInterval, meanInterval, verdictOfBands, type Band, type Interval } from '../measures/bootstrap.js';
import { fitLinear } from '../measures/regression.js';
import { depthSweep, twoLayerWidthSweep, type DepthPoint, type WidthPoint, type WidthSweep } from '../experiments/du.js';
import { lineChart } from '../report/chart.js';
import type { Claim, ClaimContext, Mode, Outcome } from './claim.js';
import { intervalFigures } from './margins.js';

const PAPER_2L = 'Du, Zhai, Póczos, Singh. Gradient descent provably optimizes over-parameterized neural networks. ICLR 2019';
const PAPER_DEEP = 'Du, Lee, Li, Wang, Zhai. Gradient descent finds global minima of deep neural networks. ICML 2019';

/** Least-squares slope of log v on log m. */
function logLogSlope(ms: number[], vs: number[]): number {
  return fitLinear(ms.map((m) => Float64Array.of(Math.log(m))), Float64Array.from(vs, Math.log)).coefficients[1];
}

const e = (v: number) => v.toExponential(2);
const f2 = (v: number) => v.toFixed(2);
/** The mean over seeds of `f` and its 95% t interval. */
const overSeeds = <T>(runs: readonly T[], f: (r: T) => number): Interval => meanInterval(runs.map(f));
const ABOVE = (low: number): Band => ({ low, high: Infinity });
const BELOW = (high: number): Band => ({ low: -Infinity, high });

/**
 * S, the initialisation seeds per mode. A quick sweep costs 1.8 s on a quiet 2-core machine; one full sweep
 * (n = d = 1,000, m up to 16,000, its runs resolved in about 50 steps) took 8.5 min on 2 cores shared with
 * some 15 other runnable processes, so the full claim runs 3 (t interval with 2 degrees of freedom).
 */
const WIDTH_PLANS: Record<Mode, { n: number; d: number; widths: number[]; steps: number; seeds: number }> = {
  quick: { n: 100, d: 100, widths: [100, 400, 1600, 6400], steps: 400, seeds: 5 },
  full: { n: 1000, d: 1000, widths: [250, 1000, 4000, 16000], steps: 600, seeds: 3 },
};
/** The band of the drift's log-log slope against width: theory −0.5. */
const SLOPE_BAND: Band = { low: -0.75, high: -0.25 };

/** The three movements of a width point, each of which theory says shrinks like 1/√m. */
const MOVEMENTS: readonly [string, (p: WidthPoint) => number][] = [
  ['drift', (p) => p.drift],
  ['patterns changed', (p) => p.patternChange],
  ['max ‖Δw_r‖', (p) => p.maxMovement],
];

export const duTwoLayerWidth: Claim = {
  id: 'du-two-layer-width',
  group: 'converge',
  statement: 'For a two-layer ReLU network trained by gradient descent, wider networks move less: the Gram matrix drift, the flipped activation ' +
    'patterns and the largest weight movement shrink like 1/√m, and the squared loss falls linearly at rate at least ηλ₀/2.',
  paper: PAPER_2L,
  rule: `The sweep is repeated over ${WIDTH_PLANS.quick.seeds} initialisation seeds (quick; ${WIDTH_PLANS.full.seeds} full) on the same data; ` +
    'intervals are 95% Student t intervals of ' +
    'the mean over seeds. Holds when, for drift, pattern change and largest weight movement, the interval of the mean log ratio ' +
    'between each width and the next narrower lies at or below 0, the interval of the mean log-log slope of drift against width ' +
    'lies in [−0.75, −0.25], and in every seed the widest net keeps L(k) ≤ (1 − ηλ₀/2)^k L(0) at every step with a fitted linear ' +
    'rate ≥ ηλ₀/2. Does not hold when a seed breaks the bound or the rate, or an interval lies wholly on the wrong side; inconclusive otherwise.',

  async run(ctx: ClaimContext): Promise<Outcome> {
    const { seeds, ...plan } = WIDTH_PLANS[ctx.mode];
    const sweeps: WidthSweep[] = Array.from({ length: seeds },
      (_, k) => twoLayerWidthSweep({ ...plan, seed: ctx.seed, initSeed: ctx.seed + k, log: (m) => ctx.log(`${m}, seed ${k + 1} of ${seeds}`) }));
    const sweep = sweeps[0];
    const ps = sweep.points;
    const widths = ps.map((p) => p.width);
    const slopes = sweeps.map((s) => logLogSlope(widths, s.points.map((p) => p.drift)));
    const slope = meanInterval(slopes);
    // Mean over seeds of log(v at width i / v at width i − 1), per movement and width step.
    const falls = MOVEMENTS.map(([name, f]) =>
      [name, widths.slice(1).map((_, i) => overSeeds(sweeps, (s) => Math.log(f(s.points[i + 1]) / f(s.points[i]))))] as const
    );
    const floor = (sweep.lr * sweep.lambda0) / 2;
    const widests = sweeps.map((s) => s.points[s.points.length - 1]);
    const linear = widests.every((w) => w.boundHeld && w.fittedRate >= floor);
    const banded = verdictOfBands([[slope, SLOPE_BAND], ...falls.flatMap(([, steps]) => steps.map((i) => [i, BELOW(0)] as const))]);
    const verdict = linear ? banded : 'does not hold';
    const widest = ps[ps.length - 1];
    const series = (f: (p: WidthPoint) => number) => ps.map((p) => e(f(p))).join(' → ');
    const reason =
      `n = ${sweep.n}, d = ${sweep.d}, λ₀ = ${e(sweep.lambda0)}, η = ${e(sweep.lr)}, ${seeds} initialisation seeds; over m = ${widths.join(', ')}, ` +
      `seed 1: drift ${series((p) => p.drift)}, patterns changed ${series((p) => p.patternChange)}, max ‖Δw_r‖ ${series((p) => p.maxMovement)}; ` +
      `mean log-log slope of drift ${formatInterval(slope, f2)} (rule inside [−0.75, −0.25], theory −0.5); ` +
      `mean log ratio per 4× width ${falls.map(([name, steps]) => `${name} ${steps.map((i) => formatInterval(i, f2)).join(', ')}`).join('; ')} ` +
      `(rule ≤ 0); widest, over seeds: fitted rate ${widests.map((w) => e(w.fittedRate)).join(', ')} vs ηλ₀/2 = ${e(floor)}, ` +
      `bound ${widests.every((w) => w.boundHeld) ? 'held at every step in every seed' : 'broken'}, log-loss line R² ≥ ${
        Math.min(...widests.map((w) => w.lineR2)).toFixed(3)
      }`;
    const curves = ps.flatMap((p) => Array.from(p.losses, (l, k) => ({ step: k, loss: l, width: `m = ${p.width}` })).filter((_, k) => k % 4 === 0));
    const bound = Array.from({ length: Math.ceil(sweep.steps / 4) },
      (_, i) => ({ step: 4 * i, loss: (1 - floor) ** (4 * i) * widest.losses[0], width: 'bound (1 − ηλ₀/2)^k L(0), widest' }));
    const movement = ps.flatMap((p) => [
      { width: p.width, value: p.drift, quantity: '‖H(k) − H(0)‖F / ‖H(0)‖F' },
      { width: p.width, value: p.patternChange, quantity: 'fraction of patterns changed' },
      { width: p.width, value: p.maxMovement, quantity: 'max_r ‖w_r(k) − w_r(0)‖' },
    ]);
    return {
      verdict,
      reason,
      runs: [],
      figures: [
        ...intervalFigures('log-log slope of Gram drift against width, mean over seeds', slope),
        ...slopes.map((v, k) => ({ name: `log-log slope of Gram drift against width, seed ${k + 1}`, value: v, paper: -0.5 })),
        ...ps.map((p) => ({ name: `Gram drift, m = ${p.width}`, value: p.drift })),
        ...ps.map((p) => ({ name: `fraction of activation patterns changed, m = ${p.width}`, value: p.patternChange })),
        ...ps.map((p) => ({ name: `max_r ‖w_r(k) − w_r(0)‖, m = ${p.width}`, value: p.maxMovement })),
        { name: 'λ₀ = λ_min(H∞)', value: sweep.lambda0 },
        ...ps.map((p) => ({ name: `λ_min(H(0)), m = ${p.width}`, value: p.lambdaMinH0, paper: '→ λ₀ as m grows' })),
        ...widests.map((w, k) => ({ name: `fitted linear rate, widest net, seed ${k + 1}`, value: w.fittedRate, paper: `≥ ηλ₀/2 = ${e(floor)}` })),
      ],
      charts: [
        {
          name: 'du-two-layer-loss',
          title: 'Squared loss under gradient descent, by width',
          spec: lineChart({
            title: `Loss ½‖u − y‖² (n = ${sweep.n}, d = ${sweep.d}, η = ${e(sweep.lr)})`,
            data: [...curves, ...bound],
            x: 'step',
            y: 'loss',
            series: 'width',
            logY: true,
          }),
        },
        {
          name: 'du-two-layer-movement',
          title: 'How far training moves, by width',
          spec: lineChart({
            title: 'Movement from initialisation to the end of training, against width (theory: ∝ 1/√m)',
            data: movement,
            x: 'width',
            y: 'value',
            series: 'quantity',
            logX: true,
            logY: true,
          }),
        },
      ],
    };
  },
};

/** S, the initialisation seeds; the first sweeps every depth (for the charts), the others the shallowest and deepest only. */
const DEPTH_PLANS: Record<Mode, { n: number; d: number; width: number; depths: number[]; steps: number; seeds: number }> = {
  quick: { n: 50, d: 10, width: 128, depths: [2, 5, 10, 20], steps: 300, seeds: 5 },
  full: { n: 200, d: 20, width: 512, depths: [2, 5, 10, 20, 30], steps: 1000, seeds: 3 },
};

/** What one seed's sweep gives the rule: relative λ_min kept from the shallowest to the deepest net, and the ratio of rates there. */
function depthRatios(points: DepthPoint[]): { resKeep: number; fcKeep: number; rateRatio: number } {
  const of = (arch: DepthPoint['arch']) => points.filter((p) => p.arch === arch);
  const [res, fc] = [of('resmlp'), of('fcnet')];
  const keep = (ps: DepthPoint[]) => ps[ps.length - 1].relativeLambdaMin / ps[0].relativeLambdaMin;
  return { resKeep: keep(res), fcKeep: keep(fc), rateRatio: fc[fc.length - 1].rate / res[res.length - 1].rate };
}

export const duResnetDepth: Claim = {
  id: 'du-resnet-depth',
  group: 'converge',
  statement: 'At equal width, the scaled ResNet keeps the smallest eigenvalue of its Gram matrix away from zero at any depth and gradient descent ' +
    "converges, while the plain fully-connected net's smallest eigenvalue collapses with depth and it converges far slower or stalls.",
  paper: PAPER_DEEP,
  rule: `Over ${DEPTH_PLANS.quick.seeds} initialisation seeds (quick; ${DEPTH_PLANS.full.seeds} full) on the same data, ` +
    'with 95% Student t intervals of the mean over seeds, at the ' +
    "deepest depth: holds when the interval of the ResNet's relative λ_min (λ_min over the mean eigenvalue of its NTK at " +
    "initialisation) as a fraction of its value at the shallowest depth lies at or above 0.5, that of the fully-connected net's " +
    "below 0.01, and that of the fully-connected net's average linear loss rate over the ResNet's (geometric mean: the t " +
    'interval of the mean log ratio) at or below 0.5. Does not hold ' +
    'when one interval lies wholly on the wrong side; inconclusive otherwise.',

  async run(ctx: ClaimContext): Promise<Outcome> {
    const { seeds, ...plan } = DEPTH_PLANS[ctx.mode];
    const H = plan.depths[plan.depths.length - 1];
    const points = depthSweep({ ...plan, seed: ctx.seed, log: ctx.log });
    const ratios = [depthRatios(points), ...Array.from({ length: seeds - 1 }, (_, k) =>
      depthRatios(
        depthSweep({ ...plan, depths: [plan.depths[0], H], seed: ctx.seed, initSeed: ctx.seed + k + 1,
          log: (m) => ctx.log(`${m}, seed ${k + 2} of ${seeds}`) }),
      ))];
    const resKeep = overSeeds(ratios, (r) => r.resKeep);
    const fcKeep = overSeeds(ratios, (r) => r.fcKeep);
    // The rate ratio spreads over two orders of magnitude between seeds (quick: 0.006 to 1.1), so its mean is the geometric one.
    const logRatio = overSeeds(ratios, (r) => Math.log(r.rateRatio));
    const rateRatio = { estimate: Math.exp(logRatio.estimate), lower: Math.exp(logRatio.lower), upper: Math.exp(logRatio.upper) };
    const verdict = verdictOfBands([[resKeep, ABOVE(0.5)], [fcKeep, BELOW(0.01)], [rateRatio, BELOW(0.5)]]);
    const of = (arch: DepthPoint['arch']) => points.filter((p) => p.arch === arch);
    const [res, fc] = [of('resmlp'), of('fcnet')];
    const lambdas = (ps: DepthPoint[]) => ps.map((p) => e(p.relativeLambdaMin)).join(' → ');
    const list = (f: (r: (typeof ratios)[number]) => number) => ratios.map((r) => f(r).toPrecision(2)).join(', ');
    const reason = `m = ${plan.width}, n = ${plan.n}, depths ${plan.depths.join(', ')}, softplus, ${seeds} initialisation seeds; seed 1: ` +
      `relative λ_min ResNet ${lambdas(res)}, fully-connected ${lambdas(fc)}; loss rate at H = ${H} over ${plan.steps} steps ResNet ` +
      `${e(res[res.length - 1].rate)}, fully-connected ${e(fc[fc.length - 1].rate)}. Over seeds, relative λ_min kept from ` +
      `H = ${plan.depths[0]} to ${H}: ResNet ${list((r) => r.resKeep)}, mean ${formatInterval(resKeep, f2)} (rule ≥ 0.5); ` +
      `fully-connected ${list((r) => r.fcKeep)}, mean ${formatInterval(fcKeep, e)} (rule < 0.01); rate fully-connected / ResNet ` +
      `${list((r) => r.rateRatio)}, geometric mean ${formatInterval(rateRatio, f2)} (rule ≤ 0.5)`;
    const net = (p: DepthPoint) => (p.arch === 'resmlp' ? 'ResNet' : 'fully-connected');
    const curves = points.flatMap((p) =>
      Array.from(p.losses, (l, k) => ({ step: k, relativeLoss: l / p.losses[0], net: `${net(p)}, H = ${p.depth}` })).filter((_, k) => k % 5 === 0)
    );
    const spectrum = points.map((p) => ({ depth: p.depth, relativeLambdaMin: Math.max(p.relativeLambdaMin, 1e-18), net: net(p) }));
    return {
      verdict,
      reason,
      runs: [],
      figures: [
        ...points.map((p) => ({ name: `relative λ_min at init, ${p.arch}, H = ${p.depth}, seed 1`, value: p.relativeLambdaMin })),
        ...points.map((p) => ({ name: `average linear loss rate, ${p.arch}, H = ${p.depth}, seed 1`, value: p.rate })),
        ...intervalFigures(`ResNet relative λ_min kept from H = ${plan.depths[0]} to ${H}, mean over seeds (paper: bounded away from 0)`, resKeep),
        ...intervalFigures(`fully-connected relative λ_min kept from H = ${plan.depths[0]} to ${H}, mean over seeds (paper: falls exponentially in H)`, fcKeep),
        ...intervalFigures(`fully-connected over ResNet loss rate at H = ${H}, geometric mean over seeds`, rateRatio),
      ],
      charts: [
        {
          name: 'du-depth-lambda-min',
          title: 'Smallest Gram eigenvalue against depth',
          spec: lineChart({
            title: `λ_min / mean eigenvalue of the NTK at initialisation (m = ${plan.width})`,
            data: spectrum,
            x: 'depth',
            y: 'relativeLambdaMin',
            series: 'net',
            logY: true,
          }),
        },
        {
          name: 'du-depth-loss',
          title: 'Gradient descent by depth',
          spec: lineChart({ title: 'L(k)/L(0), η = 1/λ_max of each net', data: curves, x: 'step', y: 'relativeLoss', series: 'net', logY: true }),
        },
      ],
    };
  },
};

export const DU_CLAIMS: readonly Claim[] = [duTwoLayerWidth, duResnetDepth];
