/** `dltheory sweep`: `train` runs of models over a grid of training settings, here or on queue workers. */
import { InputError } from '../errors.js';
import { readSweep, runSweep } from '../experiments/sweep.js';
import { runSweepOnQueue } from '../queue/coordinator.js';
import { parse, required, type Command } from './args.js';
import { trainPopulation } from './populations.js';

export const sweepCommand: Command = {
  name: 'sweep',
  summary: 'train models over a grid of training settings, here or on queue workers',
  usage: `
dltheory sweep --grid FILE.json [--runs DIR] [--json]
dltheory sweep --grid FILE.json --queue redis://HOST:PORT [--attempts N] [--runs DIR] [--json]

A sweep file holds name, data (a data set name or path, as train --data), optionally dataDir, and
axes: model (specs such as mlp:784-64-10, or .onnx/.safetensors files to train from their weights),
and optionally epochs, batchSize, lr, optimizer (sgd|adam), weightDecay, trainSize (null: all),
labelNoise, seed — each a list; the sweep is their product. Each run is a \`train\` run tagged
sweep/NAME with a deterministic id: run again, a sweep trains only what is missing. With --queue the
runs are trained by \`dltheory worker\`s, as \`dltheory zoo --queue\` (paths then relative to the
workers' --data-root).
`,
  options: { grid: { type: 'string' }, runs: { type: 'string' }, json: { type: 'boolean' }, queue: { type: 'string' }, attempts: { type: 'string' } },
  async run(argv) {
    const { values: v, positionals } = parse(this, argv);
    if (positionals.length) throw new InputError(`sweep: unexpected arguments: ${positionals.join(' ')}`);
    const grid = readSweep(required(v.grid, 'grid'));
    const log = (m: string) => process.stderr.write(`${m}\n`);
    return trainPopulation(v, {
      kind: 'sweep',
      name: grid.name,
      local: (store) => runSweep(grid, { store, progress: true, log }),
      queued: (o) => runSweepOnQueue(grid, o),
      columns: ['model', 'lr', 'seed', 'train acc', 'test acc', 'gap'],
      row: (r) => [r.spec, Number(r.hparams.lr), r.seed, r.final.trainAccuracy, r.final.testAccuracy, r.final.gap],
    });
  },
};
