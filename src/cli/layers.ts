/** `dltheory layers`: a model summary (src/nn/summary.ts), one row per probe point, as torchinfo's or Keras' `summary()`. */
import { check } from '../errors.js';
import { inferInputShape, modelSummary } from '../nn/summary.js';
import { formatTable } from '../report/progress.js';
import { intListOpt, parse, required, type Command } from './args.js';
import { openModel } from './models.js';

export const layersCommand: Command = {
  name: 'layers',
  summary: 'a model summary: operator, output shape and parameters at each probe point',
  usage: `
dltheory layers --model FILE|SPEC [--input-shape C,H,W] [--json]

  --model FILE|SPEC    a .safetensors file written by dltheory, an ONNX model, or a model spec (mlp:…, cnn:…, resnet:…)
  --input-shape D,…    the shape of one point, without the batch dimension (784 for mlp:784-…, 1,28,28 for
                       cnn:1x28x28-…); by default the model's own (the image models' spec, an MLP's first layer,
                       an ONNX graph input's static sizes)
  --json               {inputShape, rows: [{point, operator, shape, parameters}], total, unattributed}; the batch
                       dimension of a shape is -1

One row per probe point in forward order, then the model's output: the operators from the previous row
(Module.describeProbePoint), the activation's shape (one forward pass of a zero point in eval mode, the batch
dimension shown as N) and the parameters of those operators; then the total (Module.numParameters()).
`,
  options: {
    model: { type: 'string' },
    'input-shape': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(argv) {
    const { values: v } = parse(this, argv);
    const spec = required(v.model, 'model');
    using model = openModel(spec, 0);
    const given = v['input-shape'] === undefined ? undefined : intListOpt(v['input-shape'], 'input-shape', [], { min: 1 });
    const inputShape = given ?? inferInputShape(model);
    check(inputShape !== undefined, () => `${model.label} does not say what shape its points have: give --input-shape, e.g. 3,32,32`);
    const s = modelSummary(model, inputShape);
    if (v.json) {
      console.log(JSON.stringify(s));
      return 0;
    }
    const shape = (d: number[] | null) => (d === null ? 'not reached' : `[${d.map((n) => (n === -1 ? 'N' : n)).join(', ')}]`);
    const table = formatTable(['point', 'operator', 'output shape', 'parameters'], s.rows.map((r) => [r.point, r.operator, shape(r.shape), r.parameters]));
    const rest = s.unattributed === 0 ? '' : ` (${s.unattributed} in no row: the model describes only some of its probe points)`;
    console.log(
      `${model.label} on points of shape [${inputShape.join(', ')}] (batch dimension N)\n\n${table}\n\ntotal parameters: ${s.total}${rest}`,
    );
    return 0;
  },
};
