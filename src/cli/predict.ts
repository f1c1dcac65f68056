/** `dltheory predict` and `dltheory eval`: run a saved model on raw inputs or on a data set. */
import { noGrad } from '../engine/autograd.js';
import { scope } from '../engine/memory.js';
import { cat } from '../engine/ops.js';
import type { Tensor } from '../engine/tensor.js';
import { check, InputError } from '../errors.js';
import { checkFinite } from '../measures/finite.js';
import { writeNpy } from '../data/npy.js';
import { loadModel, fromRaw, toRaw } from '../nn/serialize.js';
import type { Module } from '../nn/module.js';
import { checkFits, evaluate } from '../train/train.js';
import { choiceOpt, numberOpt, outputOpt, parse, required, type Command } from './args.js';
import { loadData } from '../data/load.js';
import { HEADER_OPTION, HEADER_USAGE, headerOpt, readInputs } from './points.js';

/** The model's outputs for x in batches; a shape the model cannot take is the user's error. */
export function runModel(model: Module, x: Tensor, batch: number, source: string): Tensor {
  const n = x.size(0);
  return noGrad(() =>
    scope(() => {
      const parts: Tensor[] = [];
      for (let i = 0; i < n; i += batch) {
        try {
          parts.push(model.forward(x.narrow(0, i, Math.min(batch, n - i))));
        } catch (e) {
          throw new InputError(`${source}: inputs of shape [${x.shape}] do not fit model ${model.label}: ${(e as Error).message.split('\n')[0]}`);
        }
      }
      return cat(parts, 0);
    })
  );
}

export const predictCommand: Command = {
  name: 'predict',
  summary: 'run a saved model on raw inputs and write its logits',
  usage: `
dltheory predict --model FILE --input X.npy|X.csv --out LOGITS.npy [--batch N] [--header H]

  --model FILE     a .safetensors file written by dltheory (train --save, or the run store), or an ONNX model
  --input X        inputs [n, ...] in the layout the model was trained on (.npy of any numeric dtype, or .csv)
  --out FILE       logits [n, classes] as float32 .npy
  --batch N        default 1000
${HEADER_USAGE}
`,
  options: { model: { type: 'string' }, input: { type: 'string' }, out: { type: 'string' }, batch: { type: 'string' }, ...HEADER_OPTION },
  async run(argv) {
    const { values: v } = parse(this, argv);
    const modelPath = required(v.model, 'model');
    const input = required(v.input, 'input');
    const out = required(outputOpt(v.out, 'out', '.npy'), 'out');
    const batch = numberOpt(v.batch, 'batch', 1000, { integer: true, min: 1 });
    const raw = readInputs(input, headerOpt(v.header).input);
    using model = loadModel(modelPath).model;
    using x = scope(() => fromRaw(raw).float());
    using logits = runModel(model, x, batch, input);
    checkFinite(logits, `${modelPath} on ${input}: logits`, 'the activations overflow');
    writeNpy(out, toRaw(logits));
    return 0;
  },
};

export const evalCommand: Command = {
  name: 'eval',
  summary: 'loss and accuracy of a saved model on a data set',
  usage: `
dltheory eval --model FILE --data NAME|PATH [--split train|test] [--seed S] [--json]
`,
  options: { model: { type: 'string' }, data: { type: 'string' }, 'data-dir': { type: 'string' }, split: { type: 'string' }, seed: { type: 'string' },
    json: { type: 'boolean' } },
  async run(argv) {
    const { values: v } = parse(this, argv);
    const modelPath = required(v.model, 'model');
    const split = choiceOpt(v.split, 'split', ['train', 'test'] as const, 'test');
    const seed = numberOpt(v.seed, 'seed', 0, { integer: true, min: 0 });
    using model = loadModel(modelPath).model;
    const splits = loadData({ name: required(v.data, 'data'), seed, dir: v['data-dir'] as string | undefined });
    using _train = splits.train, _test = splits.test;
    const ds = splits[split];
    checkFits(model, ds);
    const r = evaluate(model, ds);
    // Finite weights and inputs can still overflow to a NaN loss, which must not pass for a measurement.
    check(Number.isFinite(r.loss), () => `${modelPath} on ${v.data} ${split}: the loss is ${r.loss}; the logits overflow`);
    const result = { split, n: ds.y.size(0), loss: r.loss, accuracy: r.accuracy };
    console.log(v.json ? JSON.stringify(result) : `${split}: ${result.n} points, loss ${r.loss.toFixed(4)}, accuracy ${r.accuracy.toFixed(4)}`);
    return 0;
  },
};
