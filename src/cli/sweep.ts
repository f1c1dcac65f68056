/** `dltheory sweep`: `train` runs of models over a grid of training settings, here or on queue workers. */
import { InputError } from '../errors.js';
import { openStore, type RunRecord } from '../store/runs.js';
import { formatTable } from '../report/progress.js';
import { readSweep, runSweep } from '../experiments/sweep.js';
import { runSweepOnQueue } from '../queue/coordinator.js';
import { numberOpt, parse, required, type Command } from './args.js';

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
    if (v.attempts !== undefined && v.queue === undefined) throw new InputError('--attempts applies to a sweep on a queue: give --queue too');
    using store = openStore(v.runs as string | undefined);
    const log = (m: string) => process.stderr.write(`${m}\n`);
    let runs: RunRecord[];
    let failed = 0;
    if (typeof v.queue === 'string') {
      const attempts = numberOpt(v.attempts, 'attempts', 3, { integer: true, min: 1 });
      const done = await runSweepOnQueue(grid, { store, url: v.queue, attempts, progress: true, json: Boolean(v.json), log });
      runs = done.ids.map((id) => store.getRun(id)!.run);
      failed = done.failed.length;
      if (failed) log(`sweep ${grid.name}: ${failed} runs failed after their last attempt (dltheory queue status, runs ls --kind failed)`);
    } else runs = runSweep(grid, { store, progress: true, log });
    if (v.json) console.log(JSON.stringify(runs));
    else
      console.log(
        formatTable(['id', 'model', 'lr', 'seed', 'train acc', 'test acc', 'gap'],
          runs.map((r) => [r.id, r.spec, Number(r.hparams.lr), r.seed, r.final.trainAccuracy, r.final.testAccuracy, r.final.gap])),
      );
    return failed ? 1 : 0;
  },
};
