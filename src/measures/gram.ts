/**
 * Empirical Gram (neural tangent kernel) matrices and the quantities of Du et al.'s convergence
 * analyses (docs/papers.md §3–§4): Du, Lee, Li, Wang, Zhai, ICML 2019; Du, Zhai, Póczos, Singh,
 * ICLR 2019; Allen-Zhu, Li, Song, ICML 2019.
 *
 * For n points and a network u(x; θ) with k outputs, the Gram matrix of layer l is
 *
 *   G^(l)_ij = Σ_c ⟨∂u_c(x_i)/∂θ_l, ∂u_c(x_j)/∂θ_l⟩,      θ_l the layer's weight W^(l) and bias,
 *
 * summed over the k outputs (the trace of the k×k block of the matrix-valued NTK; k = 1 is Du et
 * al.'s scalar case), and the full NTK is Σ_l G^(l). Every trainable parameter must belong to a
 * Linear layer z = s·x Wᵀ + t·b (s = 1/√in under the NTK initialisation, 1 otherwise).
 *
 * Per-sample gradients as outer products: ∂u_c(x_i)/∂W = s Δ^c_iᵀ x_i with x_i the layer's input and
 * Δ^c_i = ∂u_c(x_i)/∂z_i, so ⟨·_i, ·_j⟩ = s² (x_i·x_j)(Δ^c_i·Δ^c_j), and with D = Σ_c Δ^c Δ^cᵀ
 *
 *   G^(l) = s² (X Xᵀ) ∘ D + t² D.
 *
 * One forward pass over all n points reads every layer's X and z (hooks on its probe points `input`
 * and `output`, as PyTorch forward hooks), then one backward pass per output c, differentiating with
 * respect to the z, gives Δ^c at every layer at once; never a backward pass per point. Points do not
 * interact in eval mode only, so the model is measured in eval mode and its mode restored after. s
 * and t are read off each layer's own derivative, ∂z_i0/∂W_0· = s x_iᵀ and ∂z_i0/∂b_0 = t, which
 * also checks that the layer has that form. Forward and backward run in the parameters' dtype
 * (convert the model with Module.to('float64') for float64 Grams); the products are float64.
 *
 * Also: λ_min, λ_max and λ_max/λ_min (Infinity when λ_min ≤ 0); the relative drift
 * ‖H(t) − H(0)‖_F/‖H(0)‖_F; the fraction of ReLU activation patterns 1{z > 0} (every Linear output
 * but the network's own, over all points and units) that differ between two weight states; and
 * max_r ‖w_r(t) − w_r(0)‖ over the rows of a weight matrix.
 */
import { enableGrad, grad, noGrad } from '../engine/autograd.js';
import { zeros } from '../engine/creation.js';
import { scope } from '../engine/memory.js';
import { eigvalsh } from '../engine/linalg.js';
import { cat } from '../engine/ops.js';
import type { Tensor } from '../engine/tensor.js';
import { check, InputError } from '../errors.js';
import { checkFinite, linalgStep } from './finite.js';
import { evalMode, Module, withForwardHooks, type ForwardHook } from '../nn/module.js';

export interface LinearLayer {
  /** The layer's state_dict prefix, e.g. `layers.0`. */
  name: string;
  module: Module;
  weight: Tensor;
  bias: Tensor | null;
}

export interface GramResult {
  /** G^(l) [n, n] of every Linear layer, in parameter order. */
  layers: { name: string; gram: Tensor }[];
  /** Σ_l G^(l). */
  ntk: Tensor;
  /** The number of outputs k summed over. */
  outputs: number;
}

export interface Spectrum {
  /** The smallest eigenvalue; exactly 0 when it is zero to round-off (see gramSpectrum). */
  lambdaMin: number;
  lambdaMax: number;
  /** λ_max/λ_min; NaN when λ_min is 0 (named in `undefined`). */
  condition: number;
  /** Why a field is NaN, as "field: reason"; empty when every one is defined. */
  undefined: string[];
}

/** Every module reachable through the model's fields (its layers, arrays of layers, their layers…). */
function submodules(model: Module): Module[] {
  const found = new Set<Module>();
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v instanceof Module && !found.has(v)) {
      found.add(v);
      Object.values(v).forEach(visit);
    }
  };
  Object.values(model).forEach(visit);
  return [...found];
}

/**
 * The model's Linear layers (own parameters: a 2-D `weight`, optionally a 1-D `bias`; probe points
 * `input` and `output`, as Linear's), in parameter order; every parameter must be in one.
 *
 * @example
 * ```ts
 * import { buildModel, linearLayers } from 'dltheory';
 * const layers = linearLayers(buildModel('resmlp:10-64-3-1'));
 * layers.map((l) => l.name); // ['stem', 'blocks.0', 'blocks.1', 'output']
 * layers[0].weight.shape;    // [64, 10], and bias null: Du et al.'s networks have none
 * ```
 */
export function linearLayers(model: Module): LinearLayer[] {
  const { layers, uncovered } = findLinearLayers(model);
  check(uncovered.length === 0,
    () =>
      `Gram: parameter '${
        uncovered[0]
      }' of ${model.label} is not the weight or bias of a Linear layer; the measure covers networks of Linear layers (mlp, resmlp), empiricalNtk any model`);
  check(layers.length > 0, () => `Gram: ${model.label} has no trainable Linear layer`);
  for (const l of layers) {
    check(tapsInputAndOutput(l), () => `Gram: layer '${l.name}' does not tap its input and output as probe points 'input' and 'output', as Linear does`);
  }
  return layers;
}

/**
 * Whether empiricalGram's per-layer formula applies to the model: it has Linear layers, each tapping
 * its input and output, and every trainable parameter is in one. Else empiricalNtk (ntk.ts) measures it.
 */
export function isLinearNetwork(model: Module): boolean {
  const { layers, uncovered } = findLinearLayers(model);
  return layers.length > 0 && uncovered.length === 0 && layers.every(tapsInputAndOutput);
}

function tapsInputAndOutput(l: LinearLayer): boolean {
  const points = l.module.probePoints();
  return points.includes('input') && points.includes('output');
}

/** The model's Linear layers in parameter order, and the names of the parameters in none. */
function findLinearLayers(model: Module): { layers: LinearLayer[]; uncovered: string[] } {
  const names = new Map(model.namedParameters().map(([n, t]) => [t, n]));
  const layers: LinearLayer[] = [];
  for (const m of submodules(model)) {
    const own = new Map(m.namedParameters().filter(([n]) => !n.includes('.')));
    const weight = own.get('weight');
    const bias = own.get('bias') ?? null;
    if (weight?.ndim !== 2 || (bias && bias.ndim !== 1) || own.size !== (bias ? 2 : 1) || !names.has(weight)) continue;
    layers.push({ name: names.get(weight)!.slice(0, -'.weight'.length), module: m, weight, bias });
  }
  const covered = new Set(layers.flatMap((l) => (l.bias ? [l.weight, l.bias] : [l.weight])));
  const order = model.parameters();
  layers.sort((a, b) => order.indexOf(a.weight) - order.indexOf(b.weight));
  return { layers, uncovered: [...names].filter(([t]) => !covered.has(t)).map(([, n]) => n) };
}

/** One forward pass of x, with each layer's input and output read at its probe points (each layer must run exactly once). */
function recordLayers(model: Module, layers: LinearLayer[], x: Tensor): { output: Tensor; inputs: Tensor[]; outputs: Tensor[] } {
  const inputs: Tensor[] = [];
  const outputs: Tensor[] = [];
  const calls = layers.map(() => 0);
  const hooks = layers.flatMap((l, i): [Module, string, ForwardHook][] => [
    [l.module, 'input', (h) => {
      inputs[i] = h;
    }],
    [l.module, 'output', (z) => {
      outputs[i] = z;
      calls[i]++;
    }],
  ]);
  let output: Tensor;
  try {
    output = withForwardHooks(hooks, () => model.forward(x));
  } catch (e) {
    throw new InputError(`Gram: inputs of shape [${x.shape}] do not fit ${model.label}: ${(e as Error).message.split('\n')[0]}`);
  }
  calls.forEach((c, i) => check(c === 1, () => `Gram: layer '${layers[i].name}' ran ${c} times in one forward pass; the measure needs each Linear layer once`));
  return { output, inputs, outputs };
}

/** s and t of z = s·x Wᵀ + t·b, from ∂z_i0/∂(W, b) at the point i with the largest input. */
function layerScales(layer: LinearLayer, input: Tensor, out: Tensor): { s: number; t: number } {
  return scope(() => {
    const i = input.flatten(1).norm(2, 1).argmax().item();
    const xi = input.select(0, i).flatten().double();
    const params = layer.bias ? [layer.weight, layer.bias] : [layer.weight];
    const [gw, gb] = grad(out.select(0, i).flatten().select(0, 0), params, { retainGraph: true, allowUnused: true });
    const row = gw ? gw.double() : zeros(layer.weight.shape, 'float64');
    const squares = xi.square().sum().item();
    const s = squares > 0 ? row.select(0, 0).mul(xi).sum().item() / squares : 0;
    const t = gb ? gb.select(0, 0).item() : 0;
    // Anything else in the derivative means the layer is not z = s·x Wᵀ + t·b.
    const rest = row.select(0, 0).sub(xi.mul(s)).square().sum().item() + row.narrow(0, 1, row.size(0) - 1).square().sum().item()
      + (gb ? gb.double().square().sum().item() - t * t : 0);
    check(rest <= 1e-10 * (squares * s * s + t * t), () => `Gram: layer '${layer.name}' is not of the form z = s·x Wᵀ + t·b`);
    return { s, t };
  });
}

/**
 * G^(l) of every Linear layer and the NTK, on points x [n, dims] (see the module comment): each [n, n], float64.
 *
 * @example
 * ```ts
 * import { TwoLayerReLU, empiricalGram, gramSpectrum, randn } from 'dltheory';
 * const model = new TwoLayerReLU(10, 4096).double();
 * const { layers, ntk, outputs } = empiricalGram(model, randn([50, 10], 'float64'));
 * layers.map((l) => l.name); // ['hidden']: the only trained layer, so ntk equals its Gram; outputs 1
 * gramSpectrum(ntk).lambdaMin; // λ_min of the [50, 50] NTK
 * ```
 */
export function empiricalGram(model: Module, x: Tensor): GramResult {
  check(x.ndim === 2, () => `Gram: inputs of shape [${x.shape}]; expected [n, dims]`);
  check(x.size(0) >= 1, 'Gram: no points');
  checkFinite(x, 'Gram', 'the Gram matrix needs finite inputs');
  const layers = linearLayers(model);
  const dtype = layers[0].weight.dtype === 'float64' ? 'float64' : 'float32';
  using _eval = evalMode(model);
  return scope(() =>
    enableGrad(() => {
      const { output, inputs, outputs } = recordLayers(model, layers, x.detach().to(dtype));
      const u = output.ndim === 1 ? output.unsqueeze(1) : output.flatten(1);
      const k = u.size(1);
      const scales = layers.map((l, i) => layerScales(l, inputs[i], outputs[i]));
      const deltas: Tensor[][] = layers.map(() => []);
      for (let c = 0; c < k; c++) {
        const pick = zeros([k], dtype);
        pick.select(0, c).fill_(1);
        const gs = grad(u, outputs, { gradOutputs: [pick.expand(u.shape)], retainGraph: c < k - 1 });
        gs.forEach((g, l) => deltas[l].push(g!.detach().flatten(1).double()));
      }
      const grams = layers.map((l, i) => {
        const delta = cat(deltas[i], 1);
        const d = delta.mm(delta.t());
        const xi = inputs[i].detach().flatten(1).double();
        const { s, t } = scales[i];
        return { name: l.name, gram: xi.mm(xi.t()).mul(d).mul(s * s).add(d.mul(t * t)) };
      });
      return { layers: grams, ntk: grams.slice(1).reduce((a, g) => a.add(g.gram), grams[0].gram), outputs: k };
    })
  );
}

/**
 * λ_min, λ_max and the condition number of a symmetric positive semi-definite matrix [n, n] (its
 * eigenvalues in float64). An eigenvalue within n·ε·λ_max of 0 (ε of g's dtype; numpy's matrix_rank
 * tolerance) is zero to round-off, so a singular Gram matrix has λ_min exactly 0 and no condition
 * number, named in `undefined` — not a tiny or negative λ_min that is only round-off.
 *
 * @example
 * ```ts
 * import { gramSpectrum, tensor } from 'dltheory';
 * gramSpectrum(tensor([[2, 0], [0, 1]])); // { lambdaMin: 1, lambdaMax: 2, condition: 2, undefined: [] }
 * gramSpectrum(tensor([[1, 1], [1, 1]])); // { lambdaMin: 0, lambdaMax: 2, condition: NaN, undefined: ['condition: λ_min … singular'] }
 * ```
 */
export function gramSpectrum(g: Tensor): Spectrum {
  check(g.ndim === 2 && g.size(0) === g.size(1), () => `Gram spectrum: a matrix of shape [${g.shape}] is not square`);
  const eps = g.dtype === 'float32' ? 2 ** -23 : 2 ** -52;
  return scope(() => {
    const values = linalgStep('Gram spectrum', g.double(), eigvalsh).toArray() as Float64Array;
    const lambdaMax = values[values.length - 1];
    const tolerance = g.size(0) * eps * Math.abs(lambdaMax);
    if (values[0] > tolerance) return { lambdaMin: values[0], lambdaMax, condition: lambdaMax / values[0], undefined: [] };
    const why = `condition: λ_min ${values[0].toExponential(2)} is zero to round-off (n·ε·λ_max = ${tolerance.toExponential(2)}); the matrix is singular`;
    return { lambdaMin: 0, lambdaMax, condition: NaN, undefined: [why] };
  });
}

/**
 * ‖H − H0‖_F / ‖H0‖_F for two matrices of one shape (Gram matrices [n, n] at time t and at initialisation).
 *
 * @example
 * ```ts
 * import { TwoLayerReLU, empiricalGram, randn, relativeDrift } from 'dltheory';
 * const model = new TwoLayerReLU(10, 1024);
 * const x = randn([20, 10]);
 * const h0 = empiricalGram(model, x).ntk;
 * // … train model …
 * relativeDrift(empiricalGram(model, x).ntk, h0); // 0 before training; small for wide networks after
 * ```
 */
export function relativeDrift(h: Tensor, h0: Tensor): number {
  check(h.shape.join() === h0.shape.join(), () => `Gram drift: shapes [${h.shape}] and [${h0.shape}] differ`);
  return scope(() => h.double().sub(h0.double()).norm().item() / h0.double().norm().item());
}

/**
 * max_r ‖w_r − w0_r‖ over the rows r (units) of a weight matrix [units, inputs] at two times.
 *
 * @example
 * ```ts
 * import { TwoLayerReLU, maxRowMovement } from 'dltheory';
 * const model = new TwoLayerReLU(10, 1024);
 * const w0 = model.hidden.weight.clone(); // [1024, 10]
 * // … train model …
 * maxRowMovement(model.hidden.weight, w0); // 0 before training
 * ```
 */
export function maxRowMovement(w: Tensor, w0: Tensor): number {
  check(w.ndim === 2 && w.shape.join() === w0.shape.join(), () => `weight movement: shapes [${w.shape}] and [${w0.shape}]; expected two equal [units, inputs]`);
  return scope(() => w.double().sub(w0.double()).norm(2, 1).amax().item());
}

/**
 * The fraction of activation patterns 1{z > 0} of the hidden Linear layers that differ between two weight states of one
 * architecture, over every point of x [n, dims] and every hidden unit.
 *
 * @example
 * ```ts
 * import { activationPatternChange, buildModel, manualSeed, randn } from 'dltheory';
 * manualSeed(7); const initial = buildModel('mlp:10-256-1');
 * manualSeed(7); const current = buildModel('mlp:10-256-1');
 * // … train current …
 * activationPatternChange(initial, current, randn([100, 10])); // over 100 × 256 patterns; 0 before training
 * ```
 */
export function activationPatternChange(initial: Module, current: Module, x: Tensor): number {
  check(x.ndim === 2, () => `activation patterns: inputs of shape [${x.shape}]; expected [n, dims]`);
  const patterns = (model: Module): Tensor[] => {
    const layers = linearLayers(model);
    using _eval = evalMode(model);
    const { output, outputs } = recordLayers(model, layers, x.detach().to(layers[0].weight.dtype));
    return outputs.filter((z) => z !== output).map((z) => z.gt(0));
  };
  return noGrad(() =>
    scope(() => {
      const [a, b] = [patterns(initial), patterns(current)];
      check(a.length > 0 && a.length === b.length, 'activation patterns: the two models need the same hidden layers');
      let changed = 0;
      let total = 0;
      a.forEach((p, l) => {
        check(p.shape.join() === b[l].shape.join(), 'activation patterns: the two models need the same hidden layers');
        changed += p.ne(b[l]).sum().item();
        total += p.numel;
      });
      return changed / total;
    })
  );
}
