/**
 * Norm-based generalisation measures, the baselines of Jiang, Neyshabur, Mobahi, Krishnan, Bengio,
 * "Fantastic Generalization Measures and Where to Find Them" (ICLR 2020, arXiv:1912.02178; docs/papers.md §1):
 *
 *   product of Frobenius norms   Π_i ‖W_i‖_F                    (and its log, Σ_i log ‖W_i‖_F)
 *   distance from initialisation ‖θ − θ₀‖₂                      over every trainable parameter
 *   path norm                    Σ_k f_{θ∘θ}(𝟏)_k               (Neyshabur, Tomioka, Srebro 2015; Fantastic's path-norm)
 *
 * The distance runs over `namedParameters()` (BatchNorm's γ and β included, running statistics,
 * being buffers, not) against a state dict taken at initialisation, with no folding.
 *
 * Layers. W_i are the parameters named `….weight` with two or more dims (Linear [out, in], Conv
 * [out, in, k, k] read as the matrix [out, in·k·k]) in parameter order, with the bias `….bias` of the
 * same layer. Constant multipliers inside a forward pass (the NTK init's 1/√fan_in, the ResMLP's
 * scalings, average pooling's 1/k) are not parameters: the norms leave them out and the path norm's
 * forward pass applies them unsquared.
 *
 * BatchNorm is folded into the layer it follows, as public reimplementations of Fantastic's measures
 * do before measuring (so a BatchNorm's scaling counts in the layer it rescales): in eval
 * mode BN is the affine map z ↦ a·z + c per channel, a = γ/√(running_var + ε), c = β − a·running_mean,
 * so the layer z = W h + b followed by BN is the layer W' = diag(a)·W, b' = a·b + c. Which layer a
 * BatchNorm follows is read from the names this repository's models use: `…norms.i` ← `…layers.i`
 * (MLP), `…bnK` ← `…convK` (CNN, ResNet blocks), `bn` ← `stem` (ResNet), `…shortcut.1` ← `…shortcut.0`;
 * any other BatchNorm is an error, unless the model lists its BatchNorms itself (an ONNX graph). ε is PyTorch's
 * default 1e-5, which every model here uses.
 *
 * Path norm. With every parameter squared, a ReLU network's output on the all-ones input is the sum
 * over all paths — from an input unit or from a bias — to an output unit of the product of the
 * squared weights on the path (ReLU is the identity on the non-negative values that flow). Biases are
 * included as Jiang et al. 2020 do (their code squares every parameter). With BatchNorm the folded
 * layer is squared: W ← (a·W)², its bias ← 0, and the BatchNorm set to z ↦ z + (a·b + c)². Max-pooling
 * takes the largest squared path sum of its window rather than the sum (as the standard
 * implementation does); other activations are applied as they are, so the value is a path norm for
 * ReLU networks only. The model's parameters are changed for the one forward pass and restored after.
 * The value is the squared ℓ2 path norm (no square root), as in Fantastic.
 */
import { noGrad } from '../engine/autograd.js';
import { ones } from '../engine/creation.js';
import { keep, scope, dispose } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { InputError } from '../errors.js';
import { evalMode, type Module } from '../nn/module.js';

export const BN_EPS = 1e-5;

/** A value and its natural log. */
export interface Measured {
  value: number;
  log: number;
}

/** One weight layer after BatchNorm folding: float64 tensors (caller disposes, or run inside scope). */
export interface FoldedLayer {
  /** The layer's name prefix, e.g. `layers.0` or `stage1.conv1`. */
  name: string;
  /** W' in the weight's own shape. */
  weight: Tensor;
  /** b' (zeros when the layer has no bias but a BatchNorm adds one), or null. */
  bias: Tensor | null;
  /** The folded BatchNorm's prefix, if any. */
  batchNorm?: string;
}

const BN_RULES: [RegExp, string][] = [
  [/(^|\.)norms\.(\d+)$/, '$1layers.$2'],
  [/(^|\.)bn(\d+)$/, '$1conv$2'],
  [/(^|\.)bn$/, '$1stem'],
  [/(^|\.)shortcut\.1$/, '$1shortcut.0'],
];

/** BatchNorm prefix → prefix of the layer it follows: what the model says (Module.batchNormInputs), else by the built-in models' names. */
export function batchNormSources(model: Module): Map<string, string> {
  const own = model.batchNormInputs();
  if (own) return own;
  const weights = new Set(model.namedParameters().filter(([n, t]) => n.endsWith('.weight') && t.ndim >= 2).map(([n]) => n.slice(0, -7)));
  const sources = new Map<string, string>();
  for (const [name] of model.namedBuffers()) {
    if (!name.endsWith('.running_var')) continue;
    const bn = name.slice(0, -'.running_var'.length);
    const rule = BN_RULES.find(([re]) => re.test(bn));
    const source = rule ? bn.replace(rule[0], rule[1]) : undefined;
    if (!source || !weights.has(source)) throw new InputError(`cannot tell which layer BatchNorm '${bn}' follows`);
    sources.set(bn, source);
  }
  return sources;
}

/** a = γ/√(var + ε) and c = β − a·mean of a BatchNorm, float64. */
function bnAffine(state: Map<string, Tensor>, bn: string): { a: Tensor; c: Tensor } {
  const t = (k: string): Tensor => state.get(`${bn}.${k}`)!.detach().double();
  const a = t('weight').div(t('running_var').add(BN_EPS).sqrt());
  return { a, c: t('bias').sub(a.mul(t('running_mean'))) };
}

/** a reshaped to broadcast over a weight [out, …]. */
const perRow = (a: Tensor, w: Tensor): Tensor => a.reshape([a.numel, ...Array(w.ndim - 1).fill(1)]);

/** The weight layers, with BatchNorm folded in unless `foldBatchNorm` is false. */
export function foldedLayers(model: Module, opts: { foldBatchNorm?: boolean } = {}): FoldedLayer[] {
  const state = model.stateDict();
  const bnOf = new Map<string, string>();
  if (opts.foldBatchNorm !== false) { for (const [bn, src] of batchNormSources(model)) bnOf.set(src, bn); }
  return scope(() =>
    model.namedParameters()
      .filter(([n, t]) => n.endsWith('.weight') && t.ndim >= 2)
      .map(([n, t]): FoldedLayer => {
        const name = n.slice(0, -'.weight'.length);
        const w = t.detach().double();
        const b = state.get(`${name}.bias`)?.detach().double() ?? null;
        const bn = bnOf.get(name);
        if (!bn) return { name, weight: w, bias: b };
        const { a, c } = bnAffine(state, bn);
        return { name, weight: w.mul(perRow(a, w)), bias: (b ? a.mul(b) : a.mul(0)).add(c), batchNorm: bn };
      })
  );
}

/** W as the matrix [out, in·k…]. */
export const asMatrix = (w: Tensor): Tensor => w.reshape([w.size(0), -1]);

/**
 * Π_i ‖W_i‖_F over the (folded) weight layers, with the log computed as Σ log; `perLayer` has one ‖W_i‖_F per layer.
 *
 * @example
 * ```ts
 * import { buildModel, frobeniusProduct } from 'dltheory';
 * const f = frobeniusProduct(buildModel('cnn:1x28x28-10:bn'));
 * f.perLayer.length; // 4: conv1, conv2 (each with its BatchNorm folded in), fc1, fc2
 * f.log;             // Σ_i log ‖W_i‖_F, finite where `value` may overflow
 * ```
 */
export function frobeniusProduct(model: Module, opts: { foldBatchNorm?: boolean } = {}): Measured & { perLayer: number[] } {
  const perLayer = scope(() => foldedLayers(model, opts).map((l) => l.weight.norm(2).item()));
  const log = perLayer.reduce((s, v) => s + Math.log(v), 0);
  return { value: Math.exp(log), log, perLayer };
}

/**
 * ‖θ − θ₀‖₂ over every trainable parameter; `init` is the state dict at initialisation (the same names and shapes).
 *
 * @example
 * ```ts
 * import { buildModel, distanceFromInit, manualSeed } from 'dltheory';
 * manualSeed(7); const model = buildModel('mlp:20-64-3');
 * manualSeed(7); const init = buildModel('mlp:20-64-3').stateDict(); // the same initial weights
 * // … train model …
 * distanceFromInit(model, init); // { value: ‖θ − θ₀‖₂, log }; value 0 (log −Infinity) before training
 * ```
 */
export function distanceFromInit(model: Module, init: Map<string, Tensor>): Measured {
  let sq = 0;
  scope(() => {
    for (const [name, p] of model.namedParameters()) {
      const p0 = init.get(name);
      if (!p0 || p0.shape.join() !== p.shape.join())
        throw new InputError(`distance from init: the initial state has ${p0 ? `shape [${p0.shape}]` : 'no tensor'} for '${name}' [${p.shape}]`);
      sq += p.detach().double().sub(p0.double()).square().sum().item();
    }
  });
  return { value: Math.sqrt(sq), log: 0.5 * Math.log(sq) };
}

/**
 * Σ_k f_{θ∘θ}(𝟏)_k for inputs of shape `inputShape` (without the batch dim), BatchNorm folded: the squared ℓ2 path norm.
 *
 * @example
 * ```ts
 * import { buildModel, pathNorm } from 'dltheory';
 * const model = buildModel('cnn:1x28x28-10');
 * pathNorm(model, [1, 28, 28]); // { value, log }; the model's parameters are left as they were
 * ```
 */
export function pathNorm(model: Module, inputShape: number[]): Measured {
  const state = model.stateDict();
  const sources = batchNormSources(model);
  const saved = new Map([...state].map(([k, t]) => [k, keep(scope(() => t.detach().clone()))]));
  using _eval = evalMode(model);
  try {
    noGrad(() =>
      scope(() => {
        for (const [, p] of model.namedParameters()) p.copy_(p.square());
        for (const [bn, src] of sources) {
          const { a, c } = bnAffine(saved, bn);
          const w = saved.get(`${src}.weight`)!.double();
          const b = saved.get(`${src}.bias`)?.double();
          state.get(`${src}.weight`)!.copy_(w.mul(perRow(a, w)).square());
          state.get(`${src}.bias`)?.zero_();
          state.get(`${bn}.weight`)!.copy_(saved.get(`${bn}.running_var`)!.double().add(BN_EPS).sqrt());
          state.get(`${bn}.bias`)!.copy_((b ? a.mul(b) : a.mul(0)).add(c).square());
          state.get(`${bn}.running_mean`)!.zero_();
        }
      })
    );
    const value = noGrad(() => scope(() => model.forward(ones([1, ...inputShape], model.dtype)).double().sum().item()));
    return { value, log: Math.log(value) };
  } finally {
    noGrad(() => {
      for (const [k, t] of state) t.copy_(saved.get(k)!);
    });
    dispose([...saved.values()]);
  }
}
