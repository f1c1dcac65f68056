/** `dltheory predict` and `dltheory eval`: run a saved model on raw inputs or on a data set. */
import { noGrad } from '../engine/autograd.js';
import { scope } from '../engine/memory.js';
import { cat } from '../engine/ops.js';
import { Tensor } from '../engine/tensor.js';
import { check, InputError } from '../errors.js';
import { readNpy, writeNpy } from '../data/npy.js';
import { disposeDataset } from '../data/dataset.js';
import { loadModel, fromRaw, toRaw } from '../nn/serialize.js';
import type { Module } from '../nn/module.js';
import { evaluate } from '../train/train.js';
import { choiceOpt, numberOpt, parse, required, type Command } from './args.js';
import { loadData } from './data.js';

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
          throw new InputError(`${source}: inputs of shape [${x.shape}] do not fit model ${model.spec}: ${(e as Error).message.split('\n')[0]}`);
        }
      }
      return cat(parts, 0);
    }),
  );
}

export const predictCommand: Command = {
  name: 'predict',
  summary: 'run a saved model on raw inputs and write its logits',
  usage: `
dltheory predict --model FILE --input X.npy --out LOGITS.npy [--batch N]

  --model FILE     a .safetensors file written by dltheory (train --save, or the run store)
  --input X.npy    inputs [n, ...] in the layout the model was trained on (float32/float64/int)
  --out FILE       logits [n, classes] as float32 .npy
  --batch N        default 1000
`,
  options: { model: { type: 'string' }, input: { type: 'string' }, out: { type: 'string' }, batch: { type: 'string' } },
  async run(argv) {
    const { values: v } = parse(this, argv);
    const modelPath = required(v.model, 'model');
    const input = required(v.input, 'input');
    const out = required(v.out, 'out');
    const batch = numberOpt(v.batch, 'batch', 1000, { integer: true, min: 1 });
    const raw = readNpy(input);
    check(raw.shape.length >= 2, () => `${input}: inputs have shape [${raw.shape}]; expected [n, features...]`);
    check(raw.dtype !== 'bool', `${input}: bool inputs are not supported`);
    for (let i = 0; i < raw.data.length; i++) check(Number.isFinite(Number(raw.data[i])), () => `${input}: element ${i} is ${raw.data[i]}, not a finite number`);
    const { model } = loadModel(modelPath);
    const x = scope(() => fromRaw(raw).float());
    try {
      const logits = runModel(model, x, batch, input);
      writeNpy(out, toRaw(logits));
      logits.dispose();
    } finally {
      x.dispose();
      model.dispose();
    }
    return 0;
  },
};

export const evalCommand: Command = {
  name: 'eval',
  summary: 'loss and accuracy of a saved model on a data set',
  usage: `
dltheory eval --model FILE --data NAME|PATH [--split train|test] [--seed S] [--json]
`,
  options: { model: { type: 'string' }, data: { type: 'string' }, 'data-dir': { type: 'string' }, split: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' } },
  async run(argv) {
    const { values: v } = parse(this, argv);
    const modelPath = required(v.model, 'model');
    const split = choiceOpt(v.split, 'split', ['train', 'test'] as const, 'test');
    const seed = numberOpt(v.seed, 'seed', 0, { integer: true, min: 0 });
    const { model } = loadModel(modelPath);
    const splits = loadData({ name: required(v.data, 'data'), seed, dir: v['data-dir'] as string | undefined });
    try {
      const ds = splits[split];
      let r;
      try {
        r = evaluate(model, ds);
      } catch (e) {
        throw new InputError(`${v.data}: its inputs [${ds.x.shape}] do not fit model ${model.spec}: ${(e as Error).message.split('\n')[0]}`);
      }
      const result = { split, n: ds.y.size(0), loss: r.loss, accuracy: r.accuracy };
      console.log(v.json ? JSON.stringify(result) : `${split}: ${result.n} points, loss ${r.loss.toFixed(4)}, accuracy ${r.accuracy.toFixed(4)}`);
      return 0;
    } finally {
      model.dispose();
      disposeDataset(splits.train);
      disposeDataset(splits.test);
    }
  },
};
