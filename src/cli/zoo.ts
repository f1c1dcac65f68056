/** `dltheory zoo`: trains a population of models over a grid and measures each one. */
import { existsSync } from 'node:fs';
import { InputError } from '../errors.js';
import { GRIDS, readGrid, runZoo, type ZooGrid } from '../experiments/zoo.js';
import { ZOO_MEASURES } from '../experiments/margins.js';
import { runZooOnQueue } from '../queue/coordinator.js';
import { parse, type Command } from './args.js';
import { trainPopulation } from './populations.js';

/** A built-in grid by name, or a JSON grid file. */
export function resolveGrid(name: string): ZooGrid {
  if (GRIDS[name]) return GRIDS[name];
  if (existsSync(name)) return readGrid(name);
  throw new InputError(`--grid: '${name}' is neither a built-in grid (${Object.keys(GRIDS).join(', ')}) nor a file`);
}

export const zooCommand: Command = {
  name: 'zoo',
  summary: 'train a population of models over a hyper-parameter grid, with every measure',
  usage: `
dltheory zoo [--grid quick|paper|train-size|FILE.json] [--runs DIR] [--json]
dltheory zoo --queue redis://HOST:PORT [--attempts N] [--grid …] [--runs DIR] [--json]

Trains each model of the grid that the run store does not hold yet (killed and run again, it trains
only the missing ones), computes the margin signature and the baseline measures on its training set,
and commits the model, its metrics and measures in one transaction. A grid file holds the fields of
the built-in grids (src/experiments/zoo.ts): name, data, arch (mlp|cnn|nin), optimizer, batchSize, epochs,
targetTrainAccuracy, axes { width, depth, weightDecay, dropout, batchNorm, trainSize, labelNoise, lr,
augment, seed }, and optionally sample (a seeded sample of that many cells).

With --queue, the models are trained by \`dltheory worker\`s on any machines that reach that Redis:
this process enqueues the missing ones, commits each returned run into the store, and shows the
jobs waiting, active, done and failed. A job is tried --attempts times (default 3), with backoff;
one that still fails is listed by \`dltheory queue status\` and \`runs ls --kind failed\`, and the zoo
exits 1 once the others are stored. The grid's data is a built-in name or a path relative to the
workers' --data-root.
`,
  options: { grid: { type: 'string' }, runs: { type: 'string' }, json: { type: 'boolean' }, queue: { type: 'string' }, attempts: { type: 'string' } },
  async run(argv) {
    const { values: v, positionals } = parse(this, argv);
    if (positionals.length) throw new InputError(`zoo: unexpected arguments: ${positionals.join(' ')}`);
    const grid = resolveGrid((v.grid as string | undefined) ?? 'quick');
    const log = (m: string) => process.stderr.write(`${m}\n`);
    return trainPopulation(v, {
      kind: 'zoo',
      name: grid.name,
      local: (store) => runZoo(grid, { store, measures: ZOO_MEASURES, progress: true, log }),
      queued: (o) => runZooOnQueue(grid, o),
      columns: ['spec', 'train size', 'noise', 'train acc', 'test acc', 'gap'],
      row: (r) => [r.spec, Number(r.hparams.trainSize), Number(r.hparams.labelNoise), r.final.trainAccuracy, r.final.testAccuracy, r.final.gap],
    });
  },
};
