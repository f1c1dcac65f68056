/** `dltheory bench`: the benchmarks of bench/, side by side with PyTorch in one run. */
import { InputError } from '../errors.js';
import { runBench, formatBenchTable, benchMarkdown } from '../../bench/suite.js';
import { runMarginsBench, formatMarginsBench } from '../../bench/margins.js';
import { runGdvBench, formatGdvBench } from '../../bench/gdv.js';
import { numberOpt, parse, type Command } from './args.js';

const STEPS = ['mlp', 'cnn', 'matmul'];

export const benchCommand: Command = {
  name: 'bench',
  summary: 'time dltheory against PyTorch on the same work, same threads',
  usage: `
dltheory bench [--threads N] [--quick] [--only CASE,...] [--json] [--markdown]

Cases: mlp (MLP 784-1024-1024-10 SGD step, batch 128), cnn (small CNN step, batch 128),
matmul (2048×2048 float32), margins (normalised margins of 10,000 MNIST points through
cnn:1x28x28-10 at four probe points), gdv (GDV of 10,000 × 512 points in 10 classes against numpy
and against the N²·D floor at the measured matmul rate); margins and gdv run only when named.
PyTorch runs from /usr/bin/python3 (Debian python3-torch). Ratio = reference time / dltheory time:
above 1 means dltheory is faster.
`,
  options: { threads: { type: 'string' }, quick: { type: 'boolean' }, only: { type: 'string' }, json: { type: 'boolean' }, markdown: { type: 'boolean' } },
  async run(argv) {
    const { values: v } = parse(this, argv);
    const only = typeof v.only === 'string' ? v.only.split(',') : STEPS;
    const unknown = only.filter((c) => c !== 'margins' && c !== 'gdv' && !STEPS.includes(c));
    if (unknown.length) throw new InputError(`--only: unknown case ${unknown.join(', ')} (${[...STEPS, 'margins', 'gdv'].join(', ')})`);
    const steps = only.filter((c) => STEPS.includes(c));
    if (steps.length) {
      const report = await runBench({
        threads: v.threads === undefined ? undefined : numberOpt(v.threads, 'threads', 1, { integer: true, min: 1 }),
        quick: Boolean(v.quick),
        only: steps,
      });
      console.log(v.json ? JSON.stringify(report) : v.markdown ? benchMarkdown(report) : formatBenchTable(report));
    }
    if (only.includes('margins')) {
      const report = await runMarginsBench({ reps: v.quick ? 1 : undefined });
      console.log(v.json ? JSON.stringify(report) : formatMarginsBench(report));
    }
    if (only.includes('gdv')) {
      const report = await runGdvBench({ reps: v.quick ? 1 : undefined });
      console.log(v.json ? JSON.stringify(report) : formatGdvBench(report));
    }
    return 0;
  },
};
