/**
 * Allen-Zhu, Li, Song (ICML 2019), docs/papers.md §4: SGD from random initialisation reaches
 * 100% training accuracy on over-parameterised ReLU networks, in a number of iterations polynomial
 * in the number of points n and the depth L.
 *
 * The claim judges the SGD experiment of src/experiments/allen-zhu.ts (their network on MNIST subsets
 * of n digits, SGD until loss ≤ ε at 100% training accuracy) by the iteration counts T(n, L) and the
 * fit of the power law log T = a + b·log n + c·log L.
 */
import { powerLawFit, sgdIterations, type SgdPlan } from '../experiments/allen-zhu.js';
import { lineChart } from '../report/chart.js';
import { verdictOf, type Claim, type ClaimContext, type Mode, type Outcome } from './claim.js';

const PLANS: Record<Mode, SgdPlan> = {
  quick: { ns: [100, 200, 400], depths: [1, 2, 4], width: 256, lr: 0.2, epsilon: 0.01, maxEpochs: 1500 },
  full: { ns: [100, 200, 400, 800, 1600], depths: [1, 2, 4, 8], width: 1024, lr: 0.2, epsilon: 0.01, maxEpochs: 3000 },
};

export const allenZhuSgd: Claim = {
  id: 'allenzhu-sgd-100',
  group: 'converge',
  statement: 'SGD from random initialisation reaches 100% training accuracy on over-parameterised ReLU networks, in a number of iterations ' +
    'that grows polynomially in the number of points n and the depth L.',
  paper: 'Allen-Zhu, Li, Song. A convergence theory for deep learning via over-parameterization. ICML 2019',
  rule: 'Holds when every run reaches 100% training accuracy with loss ≤ ε within its epoch budget and the power law ' +
    'log T = a + b·log n + c·log L fits the iteration counts with R² ≥ 0.8. Does not hold when a run stops short of 100% or the ' +
    'power law fits worse.',

  async run(ctx: ClaimContext): Promise<Outcome> {
    const plan = PLANS[ctx.mode];
    const runs = sgdIterations(plan, ctx.seed, ctx.log);
    const failed = runs.filter((r) => r.iterations === null);
    const fit = powerLawFit(runs);
    const holds = failed.length === 0 && fit.r2 >= 0.8;
    const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
    const short = failed.map((r) => `n = ${r.n}, L = ${r.depth}: ${pct(r.finalAccuracy)}, loss ${r.finalLoss.toFixed(3)}`);
    const reason = (failed.length
      ? `${failed.length} of ${runs.length} runs stopped short (${short.join('; ')}); `
      : `all ${runs.length} runs reached 100% training accuracy with loss ≤ ${plan.epsilon}; `) +
      `iterations ${runs.map((r) => `T(${r.n}, ${r.depth}) = ${r.iterations ?? '—'}`).join(', ')}; ` +
      `power law T ∝ n^${fit.nExponent.toFixed(2)} · L^${fit.depthExponent.toFixed(2)}, R² ${fit.r2.toFixed(3)} (width ${plan.width}, SGD step ${plan.lr})`;
    const rows = runs.filter((r) => r.iterations !== null).map((r) => ({ n: r.n, iterations: r.iterations!, depth: `L = ${r.depth}` }));
    return {
      verdict: verdictOf(holds),
      reason,
      runs: [],
      figures: [
        ...runs.map((r) => ({ name: `iterations to loss ≤ ${plan.epsilon} at 100%, n = ${r.n}, L = ${r.depth}`, value: r.iterations ?? NaN })),
        { name: 'exponent of n', value: fit.nExponent, paper: 'polynomial (a loose bound)' },
        { name: 'exponent of L', value: fit.depthExponent, paper: 'polynomial (a loose bound)' },
        { name: 'R² of the power law', value: fit.r2 },
      ],
      charts: [
        {
          name: 'allenzhu-iterations',
          title: 'SGD iterations to fit, by n and depth',
          spec: lineChart({
            title: `Iterations to loss ≤ ${plan.epsilon} at 100% training accuracy (width ${plan.width})`,
            data: rows,
            x: 'n',
            y: 'iterations',
            series: 'depth',
            logX: true,
            logY: true,
          }),
        },
      ],
    };
  },
};
