/**
 * A model summary, as torchinfo's `summary()` or Keras' `model.summary()`: one row per probe point in
 * forward order, then the model's output, each with its operator, the parameters it owns
 * (Module.describeProbePoint) and the activation's shape for a given input shape, read by forward
 * hooks during one forward pass of a zero batch of one point (eval mode, no gradients).
 */
import { noGrad } from '../engine/autograd.js';
import { zeros } from '../engine/creation.js';
import { scope } from '../engine/memory.js';
import { InputError } from '../errors.js';
import { evalMode, type Module, withForwardHooks } from './module.js';

export interface SummaryRow {
  /** The probe point, or `output` for the model's output. */
  point: string;
  operator: string;
  /** The activation's shape, the batch dimension as -1 (PyTorch's and Keras' "any"); null when the forward pass never reached the point. */
  shape: number[] | null;
  parameters: number;
}

export interface Summary {
  /** The shape of one point, without the batch dimension. */
  inputShape: number[];
  rows: SummaryRow[];
  /** Model.numParameters(). */
  total: number;
  /** Parameters that no row accounts for (0 for the built-in models): a model that describes only some of its probe points. */
  unattributed: number;
}

/**
 * The shape of one point that the model takes, when the model says: its `inputShape` field (the
 * image models), else the input size of a first parameter that is a 2-D `weight` (the Linear layer
 * that MLPs start with: [features]); undefined when neither holds.
 */
export function inferInputShape(model: Module): number[] | undefined {
  const own = (model as { inputShape?: unknown }).inputShape;
  if (Array.isArray(own) && own.length > 0 && own.every((d) => Number.isInteger(d) && d > 0)) return [...own] as number[];
  const [name, first] = model.namedParameters()[0] ?? [];
  return name?.endsWith('weight') && first?.ndim === 2 ? [first.size(1)] : undefined;
}

/**
 * The summary of `model` for points of shape `inputShape` (without the batch dimension: [784] for
 * mlp:784-…, [1, 28, 28] for cnn:1x28x28-…). Errors: an InputError when the shape does not fit the model.
 *
 * @example
 * ```ts
 * import { buildModel, modelSummary } from 'dltheory';
 * const s = modelSummary(buildModel('mlp:784-256-10'), [784]);
 * s.rows; // input [-1, 784] 0; layers.0 Linear [-1, 256] 200,960; output relu → Linear [-1, 10] 2,570
 * s.total; // 203,530
 * ```
 */
export function modelSummary(model: Module, inputShape: number[]): Summary {
  const points = model.probePoints();
  const shapes = new Map<string, number[]>();
  const record = (point: string) => (h: { shape: number[] }) => {
    if (!shapes.has(point)) shapes.set(point, [-1, ...h.shape.slice(1)]);
  };
  using _eval = evalMode(model);
  const output = noGrad(() =>
    scope(() => {
      try {
        return withForwardHooks(points.map((p) => [model, p, record(p)]), () => model.forward(zeros([1, ...inputShape], model.dtype))).shape;
      } catch (e) {
        throw new InputError(`points of shape [${inputShape}] do not fit ${model.label}: ${(e as Error).message.split('\n')[0]}`);
      }
    })
  );
  const rows: SummaryRow[] = points.map((point) => ({ point, ...model.describeProbePoint(point), shape: shapes.get(point) ?? null }));
  // A model whose output is a probe point (a Linear's, an imported graph's) has already described it.
  if (model.outputPoint() === undefined) rows.push({ point: 'output', ...model.describeProbePoint('output'), shape: [-1, ...output.slice(1)] });
  const total = model.numParameters();
  return { inputShape, rows, total, unattributed: total - rows.reduce((a, r) => a + r.parameters, 0) };
}
