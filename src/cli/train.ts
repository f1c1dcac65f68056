/** `dltheory train`: trains a model from a spec, or fine-tunes a model file, on a data set and records the run. */
import { check } from '../errors.js';
import { buildModel } from '../nn/models/spec.js';
import { OnnxModel } from '../nn/onnx/model.js';
import { loadModel } from '../nn/serialize.js';
import { openStore } from '../store/runs.js';
import { recordRun } from '../train/record.js';
import { formatTable } from '../report/progress.js';
import { parseSchedule } from '../nn/optim/schedule.js';
import { choiceOpt, numberOpt, outputOpt, parse, required, type Command } from './args.js';
import { isModelFile } from './models.js';
import { describeData, loadData } from '../data/load.js';

export const trainCommand: Command = {
  name: 'train',
  summary: 'train a model on a data set and record the run',
  usage: `
dltheory train --model SPEC|FILE --data mnist|fashion-mnist|cifar10|cifar100|PATH [options]

  --model SPEC|FILE     a spec, e.g. mlp:784-256-256-10, cnn:1x28x28-10, resnet:3x32x32-10; or a model file to
                        train from its weights: .onnx (every float weight trainable, BatchNorm in training mode;
                        docs/onnx.md) or a .safetensors written by dltheory. The run records the file (hparams.from;
                        for ONNX also its spec field) and stores the weights as ONNX for an ONNX model
  --data NAME|PATH      mnist (embedded), fashion-mnist (Debian dataset-fashion-mnist), cifar10/cifar100
                        (with --data-dir), a folder of IDX/CIFAR files, or X.npy with y.npy beside it
  --data-dir DIR        folder of the Fashion-MNIST or CIFAR files
  --train-size N        seeded subset of the training set
  --label-noise F       fraction of training labels replaced uniformly at random (0–1)
  --epochs E            default 5
  --batch B             default 128
  --lr X                default 0.001 (adam) or 0.01 (sgd)
  --optimizer sgd|adam  default adam
  --momentum M          SGD momentum, default 0.9
  --weight-decay W      default 0
  --schedule S          learning rate per epoch: constant (default), cosine, step:EVERY:GAMMA
  --target-accuracy A   stop once an epoch's train accuracy reaches A (0–1)
  --seed S              default 0
  --save FILE           also write the weights here (safetensors; an ONNX model as .onnx)
  --runs DIR            run store folder (default $DLTHEORY_RUNS or ./runs)
  --json                JSON lines per epoch; the last line is the final result
`,
  options: {
    model: { type: 'string' },
    data: { type: 'string' },
    'data-dir': { type: 'string' },
    'train-size': { type: 'string' },
    'label-noise': { type: 'string' },
    epochs: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    optimizer: { type: 'string' },
    schedule: { type: 'string' },
    momentum: { type: 'string' },
    'weight-decay': { type: 'string' },
    'target-accuracy': { type: 'string' },
    seed: { type: 'string' },
    save: { type: 'string' },
    runs: { type: 'string' },
    json: { type: 'boolean' },
  },

  async run(argv) {
    const { values: v } = parse(this, argv);
    const spec = required(v.model, 'model');
    // Reads the file, or validates the spec, before any data is loaded.
    using loaded = isModelFile(spec) ? loadModel(spec).model : undefined;
    if (!loaded) buildModel(spec).dispose();
    const save = loaded instanceof OnnxModel ? outputOpt(v.save, 'save', '.onnx') : (v.save as string | undefined);
    check(!save?.toLowerCase().endsWith('.onnx') || loaded instanceof OnnxModel,
      () => `--save ${save}: only a model loaded from ONNX can be saved as ONNX (use .safetensors)`);
    const optimizer = choiceOpt(v.optimizer, 'optimizer', ['sgd', 'adam'] as const, 'adam');
    const seed = numberOpt(v.seed, 'seed', 0, { integer: true, min: 0 });
    const data = { name: required(v.data, 'data'), seed, dir: v['data-dir'] as string | undefined,
      trainSize: v['train-size'] === undefined ? undefined : numberOpt(v['train-size'], 'train-size', 0, { integer: true, min: 1 }),
      labelNoise: numberOpt(v['label-noise'], 'label-noise', 0, { min: 0, max: 1 }) };
    const epochs = numberOpt(v.epochs, 'epochs', 5, { integer: true, min: 1 });
    const options = {
      epochs,
      schedule: parseSchedule((v.schedule as string | undefined) ?? 'constant', epochs),
      batchSize: numberOpt(v.batch, 'batch', 128, { integer: true, min: 1 }),
      lr: numberOpt(v.lr, 'lr', optimizer === 'adam' ? 1e-3 : 1e-2, { min: 0 }),
      optimizer,
      momentum: numberOpt(v.momentum, 'momentum', 0.9, { min: 0, max: 1 }),
      weightDecay: numberOpt(v['weight-decay'], 'weight-decay', 0, { min: 0 }),
      targetTrainAccuracy: v['target-accuracy'] === undefined ? undefined : numberOpt(v['target-accuracy'], 'target-accuracy', 1, { min: 0, max: 1 }),
      seed,
      progress: !v.json,
      onEpoch: v.json ? (m: object) => console.log(JSON.stringify({ event: 'epoch', ...m })) : undefined,
    };
    const splits = loadData(data);
    using _train = splits.train, _test = splits.test;
    using store = openStore(v.runs as string | undefined);
    const run = recordRun(store, {
      spec: loaded?.spec ?? spec,
      model: loaded,
      data: describeData(data, splits.train.y.size(0)),
      splits,
      options,
      kind: 'train',
      hparams: {
        trainSize: data.trainSize,
        labelNoise: data.labelNoise,
        data: data.name,
        schedule: (v.schedule as string | undefined) ?? 'constant',
        ...(loaded ? { from: spec } : {}),
      },
      savePath: save,
    });
    if (!loaded) run.model.dispose(); // a loaded model is disposed by its `using`
    const result = { runId: run.id, ...run.final };
    if (v.json) console.log(JSON.stringify(result));
    else {
      console.log(
        formatTable(['epoch', 'train loss', 'train acc', 'test loss', 'test acc'],
          run.epochs.map((e) => [e.epoch, e.trainLoss, e.trainAccuracy, e.testLoss ?? NaN, e.testAccuracy ?? NaN])),
      );
      console.log(`final: train accuracy ${result.trainAccuracy.toFixed(4)}, test accuracy ${result.testAccuracy.toFixed(4)}, ` +
        `${result.epochs} epochs in ${result.seconds.toFixed(1)} s; run ${run.id}`);
    }
    return 0;
  },
};
