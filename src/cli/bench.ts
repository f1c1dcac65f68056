/** `dltheory bench`: the benchmarks of bench/, side by side with PyTorch in one run. */
import { InputError } from '../errors.js';
import { runBench, formatBenchTable, benchMarkdown } from '../../bench/suite.js';
import { runMarginsBench, formatMarginsBench } from '../../bench/margins.js';
import { runGdvBench, formatGdvBench } from '../../bench/gdv.js';
import { runGramBench, formatGramBench } from '../../bench/gram.js';
import { runShapeAeBench, formatShapeAeBench } from '../../bench/shape-ae.js';
import { runOnnxBench, formatOnnxBench } from '../../bench/onnx.js';
import { runHessianBench, formatHessianBench } from '../../bench/hessian.js';
import { numberOpt, parse, type Command } from './args.js';

const STEPS = ['mlp', 'cnn', 'matmul'];

/** The benchmarks that run only when named: each times one measure or model against its reference. */
const NAMED: Record<string, { run: (o: { reps?: number }) => Promise<unknown>; format: (r: never) => string }> = {
  margins: { run: runMarginsBench, format: formatMarginsBench },
  gdv: { run: runGdvBench, format: formatGdvBench },
  gram: { run: runGramBench, format: formatGramBench },
  'shape-ae': { run: () => runShapeAeBench(), format: formatShapeAeBench },
  onnx: { run: runOnnxBench, format: formatOnnxBench },
  hessian: { run: runHessianBench, format: formatHessianBench },
};

export const benchCommand: Command = {
  name: 'bench',
  summary: 'time dltheory against PyTorch on the same work, same threads',
  usage: `
dltheory bench [--threads N] [--quick] [--only CASE,...] [--json] [--markdown]

Cases: mlp (MLP 784-1024-1024-10 SGD step, batch 128), cnn (small CNN step, batch 128),
matmul (2048×2048 float32), margins (normalised margins of 10,000 MNIST points through
cnn:1x28x28-10 at four probe points), gdv (GDV of 10,000 × 512 points in 10 classes against numpy
and against the N²·D floor at the measured matmul rate), gram (the empirical NTK of a two-layer
width-4096 net on 1,000 points against PyTorch per-sample Jacobians), shape-ae (3-D autoencoder
training steps), onnx (forward + backward of an imported torchvision ResNet-18 on 3×32×32, batch 64,
through the ONNX graph interpreter against PyTorch eager on the same model), hessian (one
Hessian-vector product of cnn:1x28x28-10 on 256 points against PyTorch's double backward); margins,
gdv, gram, shape-ae, onnx and hessian run only when named. --threads applies to mlp, cnn and
matmul; the named ones run with the process's threads (DLTHEORY_THREADS).
PyTorch runs from /usr/bin/python3 (Debian python3-torch). Ratio = reference time / dltheory time:
above 1 means dltheory is faster.
`,
  options: { threads: { type: 'string' }, quick: { type: 'boolean' }, only: { type: 'string' }, json: { type: 'boolean' }, markdown: { type: 'boolean' } },
  async run(argv) {
    const { values: v } = parse(this, argv);
    const only = typeof v.only === 'string' ? v.only.split(',') : STEPS;
    const unknown = only.filter((c) => !Object.hasOwn(NAMED, c) && !STEPS.includes(c));
    if (unknown.length) throw new InputError(`--only: unknown case ${unknown.join(', ')} (${[...STEPS, ...Object.keys(NAMED)].join(', ')})`);
    const steps = only.filter((c) => STEPS.includes(c));
    if (steps.length) {
      const report = await runBench({
        threads: v.threads === undefined ? undefined : numberOpt(v.threads, 'threads', 1, { integer: true, min: 1 }),
        quick: Boolean(v.quick),
        only: steps,
      });
      console.log(v.json ? JSON.stringify(report) : v.markdown ? benchMarkdown(report) : formatBenchTable(report));
    }
    for (const name of only.filter((c) => Object.hasOwn(NAMED, c))) {
      const report = await NAMED[name].run({ reps: v.quick ? 1 : undefined });
      console.log(v.json ? JSON.stringify(report) : NAMED[name].format(report as never));
    }
    return 0;
  },
};
