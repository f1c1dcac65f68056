/**
 * The input-gradient norms, a baseline of the PGDL competition (Jiang, Foret, Yak, Roy, Mobahi,
 * Dziugaite, Bengio, Gunasekar, Guyon, Neyshabur, "NeurIPS 2020 Competition: Predicting
 * Generalization in Deep Learning", arXiv:2012.07976) and the sensitivity measure of Novak, Bahri,
 * Abolafia, Pennington, Sohl-Dickstein, "Sensitivity and Generalization in Neural Networks: an
 * Empirical Study" (ICLR 2018), over points x_i with labels y_i:
 *
 *   value        = E_x ‖J(x)‖_F,   J(x) = ∂f(x)/∂x  [k × D]  (the logits' Jacobian, Novak et al. eq. 3)
 *   lossGradient = E_x ‖∂ℓ(f(x), y)/∂x‖₂,   ℓ the cross-entropy
 *
 * each with its standard error over the points (sample standard deviation / √n). The Jacobian norm is
 * the headline value: it is the one Novak et al. found to track the generalization gap, it needs no
 * labels in principle, and unlike the loss gradient it does not vanish on points fitted with high
 * confidence (∂ℓ/∂x = Σ_c (p_c − 1[c = y]) ∂f_c/∂x → 0 as p_y → 1), which on trained networks would
 * measure the confidence more than the function. The loss gradient comes free from the same passes
 * by that identity.
 *
 * J is exact, not the random-projection estimate of Hoffman, Roberts, Yaida ("Robust Learning with
 * Jacobian Regularization", 2019), since k is small (10 classes: k backward passes per batch) and
 * the exact value leaves only the sampling error over points. Row c of every point's J comes from
 * one backward pass of Σ_i f_c(x_i) through the batch, which is per-point because the model is
 * measured in eval mode (BatchNorm on running statistics, no dropout), where no output depends on
 * another point. Passes run in the parameters' dtype; the norms are summed in float64.
 */
import { enableGrad, grad } from '../engine/autograd.js';
import { eye, zeros, zerosLike } from '../engine/creation.js';
import { oneHot } from '../engine/ops.js';
import { scope } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { check, InputError } from '../errors.js';
import { evalMode, type Module } from '../nn/module.js';
import { checkFinite } from './finite.js';

export interface InputGradientOptions {
  /** Points per forward pass (default 256). */
  batchSize?: number;
}

export interface InputGradientResult {
  /** E_x ‖∂f(x)/∂x‖_F: logit units per input unit. */
  value: number;
  stdErr: number;
  /** E_x ‖∂ℓ(f(x), y)/∂x‖₂: nats per input unit. */
  lossGradient: { value: number; stdErr: number };
  /** Each point's ‖J(x_i)‖_F and ‖∂ℓ_i/∂x_i‖₂, in input order. */
  perPoint: { jacobian: Float64Array; lossGradient: Float64Array };
  /** k, the number of logits. */
  outputs: number;
}

/** The mean of xs and its standard error (NaN for one point). */
function meanAndError(xs: Float64Array): { value: number; stdErr: number } {
  const n = xs.length;
  const value = xs.reduce((a, b) => a + b, 0) / n;
  return { value, stdErr: Math.sqrt(xs.reduce((a, v) => a + (v - value) ** 2, 0) / (n - 1) / n) };
}

/**
 * The input-gradient norms of `model` on points x [n, …] (as the model takes them) with int64
 * labels y [n] in [0, k); see the module comment. Errors: an InputError for mismatched, empty or
 * non-finite points, labels out of range, or points the model does not take.
 *
 * @example
 * ```ts
 * import { buildModel, inputGradientNorm, randn, randint } from 'dltheory';
 * const model = buildModel('cnn:1x28x28-10:w=16');
 * const r = inputGradientNorm(model, randn([500, 1, 28, 28]), randint(0, 10, [500]));
 * r.value; r.stdErr;     // E‖∂f/∂x‖_F and its standard error
 * r.lossGradient.value;  // E‖∂ℓ/∂x‖₂
 * ```
 */
export function inputGradientNorm(model: Module, x: Tensor, y: Tensor, opts: InputGradientOptions = {}): InputGradientResult {
  const { batchSize = 256 } = opts;
  check(Number.isInteger(batchSize) && batchSize >= 1, () => `input gradient: batchSize must be an integer ≥ 1, got ${batchSize}`);
  check(x.ndim >= 2 && x.size(0) >= 1, () => `input gradient: points of shape [${x.shape}]; expected [n, features...] with n ≥ 1`);
  const n = x.size(0);
  check(y.ndim === 1 && y.size(0) === n && y.dtype === 'int64',
    () => `input gradient: ${n} points but labels of shape [${y.shape}] (${y.dtype}); expected int64 [${n}]`);
  scope(() => checkFinite(x.flatten(1), 'input gradient', 'the input gradient needs finite points'));
  using _eval = evalMode(model);
  const jacobian = new Float64Array(n);
  const lossGradient = new Float64Array(n);
  let outputs = 0;
  for (let i = 0; i < n; i += batchSize) {
    const len = Math.min(batchSize, n - i);
    scope(() =>
      enableGrad(() => {
        const xb = x.narrow(0, i, len).detach().to(model.dtype).requiresGrad_(true);
        let logits: Tensor;
        try {
          logits = model.forward(xb);
        } catch (e) {
          throw new InputError(`input gradient: points of shape [${x.shape.slice(1)}] do not fit ${model.label}: ${(e as Error).message.split('\n')[0]}`);
        }
        check(logits.ndim === 2, () => `input gradient: ${model.label} gives outputs of shape [${logits.shape}]; expected logits [n, k]`);
        outputs = logits.size(1);
        const yb = y.narrow(0, i, len);
        check(yb.amin().item() >= 0 && yb.amax().item() < outputs, () => `input gradient: labels must lie in [0, ${outputs}) for ${outputs} logits`);
        // ∂ℓ/∂f_c = p_c − 1[c = y]: the weight of row c of J in the loss gradient.
        const weight = logits.detach().softmax(1).sub(oneHot(yb, outputs).to(model.dtype));
        let sq = zeros([len], 'float64');
        let lg = zerosLike(xb);
        const unit = eye(outputs, model.dtype);
        for (let c = 0; c < outputs; c++) {
          const [g] = grad(logits, [xb], { gradOutputs: [unit.narrow(0, c, 1).expand([len, outputs])], retainGraph: c < outputs - 1 });
          sq = sq.add(g!.to('float64').flatten(1).square().sum(1));
          lg = lg.add(g!.mul(weight.narrow(1, c, 1).reshape([len, ...Array(xb.ndim - 1).fill(1)])));
        }
        jacobian.set(sq.sqrt().toArray() as Float64Array, i);
        lossGradient.set(lg.to('float64').flatten(1).norm(2, 1).toArray() as Float64Array, i);
      })
    );
  }
  const j = meanAndError(jacobian);
  return { value: j.value, stdErr: j.stdErr, lossGradient: meanAndError(lossGradient), perPoint: { jacobian, lossGradient }, outputs };
}
