/**
 * `dltheory converge`: the optimisation lab's experiments (src/experiments/du.ts, allen-zhu.ts,
 * nguyen.ts) with the user's sizes; the claims run them with fixed ones:
 *   width  — two-layer ReLU nets of several widths under gradient descent (Du et al. ICLR 2019)
 *   depth  — Du et al.'s ResNet against their fully-connected net over depths (ICML 2019)
 *   sgd    — SGD iterations to fit MNIST subsets by n and depth (Allen-Zhu et al. 2019)
 *   skip   — skip-to-output nets against their trunk on random labels (Nguyen et al. 2019)
 *   landscape — the straight path from initialisation to solution and a 2-D slice (Nguyen et al.)
 */
import { InputError } from '../errors.js';
import { twoLayerWidthSweep, depthSweep } from '../experiments/du.js';
import { growthComparison, powerLawFit, sgdIterations } from '../experiments/allen-zhu.js';
import { landscapes, randomLabelFits, type ValleyPlan } from '../experiments/nguyen.js';
import { formatTable } from '../report/progress.js';
import { intListOpt, numberOpt, parse, type Command } from './args.js';

const e = (v: number) => v.toExponential(3);

/** The options each experiment reads besides --seed and --json; any other is refused rather than ignored. */
const OPTIONS: Record<string, string[]> = {
  width: ['n', 'd', 'widths', 'steps'],
  depth: ['n', 'd', 'width', 'depths', 'steps'],
  sgd: ['ns', 'depths', 'width', 'lr', 'epsilon', 'max-epochs'],
  skip: ['n', 'trunk-width', 'inits', 'epochs', 'lr'],
  landscape: ['n', 'trunk-width', 'inits', 'epochs', 'lr'],
};

export const convergeCommand: Command = {
  name: 'converge',
  summary: 'convergence experiments: width, depth, SGD iterations, skip-to-output nets, landscapes (Du; Allen-Zhu; Nguyen)',
  usage: `
dltheory converge width [--n 100] [--d 100] [--widths 100,400,1600,6400] [--steps 400] [--seed 0] [--json]
dltheory converge depth [--n 50] [--d 10] [--width 128] [--depths 2,5,10,20] [--steps 300] [--seed 0] [--json]
dltheory converge sgd [--ns 100,200,400] [--depths 1,2,4] [--width 256] [--lr 0.2] [--epsilon 0.01]
                      [--max-epochs 1500] [--seed 0] [--json]
dltheory converge skip|landscape [--n 300] [--trunk-width 4] [--inits 10] [--epochs 300] [--lr 0.01] [--seed 0] [--json]

  width  relu2 nets (fixed ±1 output) on n points uniform on the unit sphere in d dims with N(0, 1)
         targets, full-batch GD with η = 1/λ_max(H∞): Gram drift, activation patterns changed, largest
         weight movement, fitted linear rate against ηλ₀/2
  depth  resmlp against fcnet (softplus) of one width: λ_min of the NTK at initialisation relative to
         its mean eigenvalue, and the average linear loss rate with η = 1/λ_max of each net
  sgd    mlp:784-m-…-10:init=allenzhu on unit-norm MNIST subsets, SGD (batch 32): iterations until the
         loss is ≤ ε at 100% training accuracy, the power law T ∝ n^b L^c, and along n and along the
         depth whether a power law or an exponential predicts T better (leave-one-out)
  skip   skip:784-W-10:m=N against mlp:784-W-10:softplus on N MNIST digits with random labels, full-batch
         Adam from --inits seeds: final loss, skip-feature rank, the readout alone at initialisation by
         L-BFGS (to 0.01 for the skip net, to its minimum for the trunk), the trend of the loss curve's
         last half and the step it reaches 0.01; and each once on the true labels
  landscape  the same two nets: loss on the line from initialisation to solution (α from −0.25 to
         1.25), and the skip net's loss on a filter-normalised 21 × 21 slice over [−1, 1]²
`,
  options: {
    n: { type: 'string' },
    d: { type: 'string' },
    widths: { type: 'string' },
    steps: { type: 'string' },
    seed: { type: 'string' },
    width: { type: 'string' },
    depths: { type: 'string' },
    ns: { type: 'string' },
    lr: { type: 'string' },
    epsilon: { type: 'string' },
    'max-epochs': { type: 'string' },
    'trunk-width': { type: 'string' },
    inits: { type: 'string' },
    epochs: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(argv) {
    const { values: v, positionals } = parse(this, argv);
    const [what, ...extra] = positionals;
    if (!['width', 'depth', 'sgd', 'skip', 'landscape'].includes(what ?? '') || extra.length)
      throw new InputError(`converge: give one experiment, width, depth, sgd, skip or landscape${what ? ` (got '${[what, ...extra].join(' ')}')` : ''}`);
    const foreign = Object.keys(v).filter((k) => k !== 'seed' && k !== 'json' && !OPTIONS[what].includes(k));
    if (foreign.length)
      throw new InputError(
        `converge ${what}: ${foreign.map((k) => `--${k}`).join(', ')} is not an option of this experiment (it takes ${
          OPTIONS[what].map((k) => `--${k}`).join(', ')
        })`,
      );
    const seed = numberOpt(v.seed, 'seed', 0, { integer: true, min: 0 });
    const log = (m: string) => process.stderr.write(`${m}\n`);
    const out = (json: unknown, header: string[], rows: (string | number)[][], footer: string) =>
      process.stdout.write(v.json ? `${JSON.stringify(json)}\n` : `${formatTable(header, rows)}\n${footer}\n`);
    if (what === 'width') {
      const r = twoLayerWidthSweep({
        n: numberOpt(v.n, 'n', 100, { integer: true, min: 2 }),
        d: numberOpt(v.d, 'd', 100, { integer: true, min: 1 }),
        widths: intListOpt(v.widths, 'widths', [100, 400, 1600, 6400], { min: 1 }),
        steps: numberOpt(v.steps, 'steps', 400, { integer: true, min: 1 }),
        seed,
        log,
      });
      const points = r.points.map(({ losses, ...p }) => ({ ...p, steps: losses.length, finalLoss: losses[losses.length - 1] }));
      out({ ...r, points }, ['width', 'drift', 'patterns changed', 'max ‖Δw_r‖', 'λ_min H(0)', 'fitted rate', 'bound held', 'final loss'],
        points.map((p) => [p.width, e(p.drift), e(p.patternChange), e(p.maxMovement), e(p.lambdaMinH0), e(p.fittedRate), String(p.boundHeld), e(p.finalLoss)]),
        `λ₀ = λ_min(H∞) = ${e(r.lambda0)}, η = ${e(r.lr)}, ηλ₀/2 = ${e((r.lr * r.lambda0) / 2)}`);
    } else if (what === 'depth') {
      const points = depthSweep({
        n: numberOpt(v.n, 'n', 50, { integer: true, min: 2 }),
        d: numberOpt(v.d, 'd', 10, { integer: true, min: 1 }),
        width: numberOpt(v.width, 'width', 128, { integer: true, min: 1 }),
        depths: intListOpt(v.depths, 'depths', [2, 5, 10, 20], { min: 1 }),
        steps: numberOpt(v.steps, 'steps', 300, { integer: true, min: 1 }),
        seed,
        log,
      }).map(({ losses, ...p }) => ({ ...p, steps: losses.length, finalRelativeLoss: losses[losses.length - 1] / losses[0] }));
      out(points, ['net', 'depth', 'λ_min', 'λ_min / mean', 'condition', 'η', 'rate', 'L(T)/L(0)'],
        points.map((p) => [p.arch, p.depth, e(p.lambdaMin), e(p.relativeLambdaMin), e(p.condition), e(p.lr), e(p.rate), e(p.finalRelativeLoss)]), '');
    } else if (what === 'skip' || what === 'landscape') {
      const plan: ValleyPlan = {
        n: numberOpt(v.n, 'n', 300, { integer: true, min: 10, max: 8000 }),
        trunkWidth: numberOpt(v['trunk-width'], 'trunk-width', 4, { integer: true, min: 1 }),
        inits: numberOpt(v.inits, 'inits', 10, { integer: true, min: 1 }),
        epochs: numberOpt(v.epochs, 'epochs', 300, { integer: true, min: 1 }),
        lr: numberOpt(v.lr, 'lr', 0.01, { min: 1e-12 }),
      };
      if (what === 'skip') {
        const r = randomLabelFits(plan, seed, log);
        // Loss curves as plain arrays: JSON writes a Float64Array as an object keyed by index.
        const plain = (k: 'skip' | 'trunk') => r.runs[k].map((x) => ({ ...x, losses: Array.from(x.losses ?? []) }));
        out({ ...r, runs: { skip: plain('skip'), trunk: plain('trunk') } }, ['net', 'seed', 'final loss', 'train accuracy', 'skip-feature rank',
          'readout alone', 'L-BFGS iterations', 'trend', 'steps to 0.01'], (['skip', 'trunk'] as const).flatMap((k) =>
            r.runs[k].map((
              x,
            ) => [k, x.seed, e(x.loss), x.accuracy.toFixed(4), x.rank ?? '—', e(x.readout!.loss), x.readout!.iterations, x.tail?.trend ?? '—',
              x.tail ? e(x.tail.stepsToTarget) : '—']
            )
          ),
          `true labels: skip net train ${r.trueAccuracy.skip.train.toFixed(4)} / test ${r.trueAccuracy.skip.test.toFixed(4)}, trunk ${
            r.trueAccuracy.trunk.train.toFixed(4)
          } / ${r.trueAccuracy.trunk.test.toFixed(4)}`);
      } else {
        const r = landscapes(plan, seed, log);
        out(r, ['alpha', 'skip net', 'trunk alone'], r.paths.skip.map((p, i) => [p.alpha.toFixed(2), e(p.loss), e(r.paths.trunk[i].loss)]),
          `skip net slice over [−1, 1]²: centre ${e(r.surface[10][10])}, lowest ${e(Math.min(...r.surface.flat()))}, highest ${
            e(Math.max(...r.surface.flat()))
          }`);
      }
    } else {
      const runs = sgdIterations({
        ns: intListOpt(v.ns, 'ns', [100, 200, 400], { min: 1, max: 8000 }),
        depths: intListOpt(v.depths, 'depths', [1, 2, 4], { min: 1 }),
        width: numberOpt(v.width, 'width', 256, { integer: true, min: 1 }),
        lr: numberOpt(v.lr, 'lr', 0.2, { min: 1e-12 }),
        epsilon: numberOpt(v.epsilon, 'epsilon', 0.01, { min: 0 }),
        maxEpochs: numberOpt(v['max-epochs'], 'max-epochs', 1500, { integer: true, min: 1 }),
      }, seed, log);
      const rows = runs.map((r) => [r.n, r.depth, r.iterations ?? '—', e(r.finalLoss), r.finalAccuracy.toFixed(4)]);
      const header = ['n', 'depth', 'iterations', 'final loss', 'train accuracy'];
      // The fits take the runs that reached the target; with fewer than powerLawFit's 4 they would print NaN.
      const finished = runs.filter((r) => r.iterations !== null).length;
      if (finished < 4) {
        out({ runs }, header, rows,
          `only ${finished} of ${runs.length} runs reached loss ≤ ε at 100% training accuracy within --max-epochs: no power law fitted (it needs 4)`);
        return 0;
      }
      const fit = powerLawFit(runs);
      const growth = (['n', 'depth'] as const).map((along) => growthComparison(runs, along, seed));
      out({ runs, fit, growth }, header, rows, `power law T ∝ n^${fit.nExponent.toFixed(2)} · L^${fit.depthExponent.toFixed(2)}, R² ${fit.r2.toFixed(3)}\n` +
        growth.map((g) =>
          `along ${g.along}: ${g.growth}, leave-one-out error of log T exponential − power law ${e(g.difference.estimate)} ` +
          `(95% ${e(g.difference.lower)} to ${e(g.difference.upper)})`
        ).join('\n'));
    }
    return 0;
  },
};
