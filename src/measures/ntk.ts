/**
 * The empirical neural tangent kernel of any model, over all its parameters, by exact per-sample
 * gradients: Jacot, Gabriel, Hongler, "Neural Tangent Kernel: Convergence and Generalization in
 * Neural Networks", NeurIPS 2018 (arXiv:1806.07572); the computation is neural-tangents'
 * `empirical_ntk_fn` (neural_tangents/_src/empirical.py) with its default `trace_axes=(-1,)` and
 * its Jacobian-contraction implementation (Novak, Sohl-Dickstein, Schoenholz, "Fast Finite Width
 * Neural Tangent Kernel", ICML 2022, arXiv:2206.08720).
 *
 * For n points and a network f(x; θ) with k outputs and parameters θ (every trainable tensor),
 *
 *   Θ̂(x_i, x_j) = Σ_c ⟨∂f_c(x_i)/∂θ, ∂f_c(x_j)/∂θ⟩ = Σ_c J_c J_cᵀ,   J_c [n, P] the Jacobian of output c,
 *
 * the trace of the k×k block of the matrix-valued NTK, as src/measures/gram.ts defines its NTK: on a
 * network of Linear layers the two agree (gram.ts gets there by a per-layer formula that needs that
 * structure; this file needs none, for CNNs, ResNets, BatchNorm and imported graphs). Split by
 * parameter group (a tensor's state_dict name without its last component: `conv1` for `conv1.weight`
 * and `conv1.bias`, the tensor's own name when it has no dot), Θ̂ = Σ_g Θ̂_g with Θ̂_g the same sum over
 * the group's parameters only; on Linear layers Θ̂_g is gram.ts's G^(l).
 *
 * The rows of J: per point, one forward pass of that point alone and one backward pass per output
 * (the graph kept between them), so n forward and n·k backward passes of batch 1. The model is
 * measured in eval mode (BatchNorm on its running statistics, no dropout), where one point's output
 * does not depend on the others. Batching points would not save passes: a backward pass through a
 * batch gives gradients summed over its points, never one point's. Forward and backward run in the
 * parameters' dtype (Module.to('float64') for a float64 NTK); the gradients are stored and
 * multiplied in float64.
 *
 * Memory: J takes n·k·P·8 bytes (64 points, 10 outputs and the 421,642 parameters of
 * cnn:1x28x28-10: 2.2 GB), so the parameters are cut into slices of at most `maxBytes` of J each
 * (a slice may end inside a tensor), and each slice is one sweep over the points, adding its
 * J_s J_sᵀ to Θ̂. More sweeps cost more passes, not more memory: the passes are recomputed rather
 * than J stored, since Θ̂_ij needs the rows of both i and j at once.
 *
 * Cost, measured on 2 shared cores in float64, 64 points: cnn:1x28x28-10 9 s (three sweeps under the
 * default bound), resnet:3x32x32-10 6 s; mlp:784-256-10 2.4 s, where gram.ts's formula takes 0.04 s,
 * which is why `dltheory gram` uses that one whenever it applies.
 */
import { totalmem } from 'node:os';
import { enableGrad, grad, noGrad } from '../engine/autograd.js';
import { eye, zeros } from '../engine/creation.js';
import { scope } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { check, InputError } from '../errors.js';
import { checkFinite } from './finite.js';
import { evalMode, type Module } from '../nn/module.js';

export interface NtkOptions {
  /** Also Θ̂_g of every parameter group (default false: each is another [n, n] float64). */
  groups?: boolean;
  /** Bytes of float64 Jacobian held at once (default min(1 GiB, RAM/8)); a larger J takes more sweeps. */
  maxBytes?: number;
  /** Called after each point of each sweep with (points done, sweeps × n). */
  onProgress?: (done: number, total: number) => void;
}

export interface NtkResult {
  /** Θ̂ [n, n], float64. */
  ntk: Tensor;
  /** Θ̂_g [n, n] float64 of every parameter group, in parameter order; empty unless `groups` was asked. */
  groups: { name: string; gram: Tensor }[];
  /** The number of outputs k summed over. */
  outputs: number;
  /** How many sweeps over the points the memory bound took. */
  sweeps: number;
}

/** The group of a parameter: its state_dict name without the last component (`stage2.shortcut.0` for `stage2.shortcut.0.weight`). */
export function parameterGroup(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

/** The model's parameter groups, in parameter order. */
export function parameterGroups(model: Module): string[] {
  return [...new Set(model.namedParameters().map(([n]) => parameterGroup(n)))];
}

/** A run of elements [offset, offset + length) of parameter `param` (an index into namedParameters). */
interface Piece {
  param: number;
  offset: number;
  length: number;
}

/** Cuts the parameters, in order, into slices of at most `columns` elements each. */
function slices(sizes: number[], columns: number): Piece[][] {
  const out: Piece[][] = [[]];
  let room = columns;
  sizes.forEach((size, param) => {
    for (let offset = 0; offset < size;) {
      if (room === 0) {
        out.push([]);
        room = columns;
      }
      const length = Math.min(room, size - offset);
      out[out.length - 1].push({ param, offset, length });
      offset += length;
      room -= length;
    }
  });
  return out;
}

/**
 * Θ̂ [n, n] (float64) of `model` on points x [n, ...] (each point as the model takes it: [n, dims] for
 * an MLP, [n, C, H, W] for a CNN), over every trainable parameter; see the module comment.
 *
 * Errors: an InputError when x is not [n, ...] with n ≥ 1 finite points, when the model has no
 * trainable parameter, or when a point does not fit the model (naming its shape).
 *
 * @example
 * ```ts
 * import { buildModel, empiricalNtk, gramSpectrum, randn } from 'dltheory';
 * const model = buildModel('cnn:1x8x8-3:w=4').double();
 * const { ntk, groups, outputs } = empiricalNtk(model, randn([20, 1, 8, 8], 'float64'), { groups: true });
 * ntk.shape; // [20, 20], summed over outputs = 3
 * groups.map((g) => g.name); // ['conv1', 'conv2', 'fc1', 'fc2']
 * gramSpectrum(ntk).lambdaMin;
 * ```
 */
export function empiricalNtk(model: Module, x: Tensor, opts: NtkOptions = {}): NtkResult {
  check(x.ndim >= 2, () => `NTK: inputs of shape [${x.shape}]; expected [n, features...]`);
  const n = x.size(0);
  check(n >= 1, 'NTK: no points');
  checkFinite(x, 'NTK', 'the NTK needs finite inputs');
  const named = model.namedParameters();
  check(named.length > 0, () => `NTK: ${model.label} has no trainable parameter`);
  const params = named.map(([, p]) => p);
  const names = named.map(([name]) => parameterGroup(name));
  using _eval = evalMode(model);
  return scope(() => {
    const points = x.detach().to(model.dtype);
    const forward = (i: number): Tensor => {
      try {
        const out = model.forward(points.narrow(0, i, 1));
        return out.ndim === 1 ? out.unsqueeze(1) : out.flatten(1);
      } catch (e) {
        throw new InputError(`NTK: a point of shape [${x.shape.slice(1)}] does not fit ${model.label}: ${(e as Error).message.split('\n')[0]}`);
      }
    };
    const k = noGrad(() => scope(() => forward(0).size(1)));
    const maxBytes = opts.maxBytes ?? Math.min(2 ** 30, totalmem() / 8);
    const sizes = params.map((p) => p.numel);
    const columns = Math.min(sizes.reduce((a, b) => a + b, 0), Math.max(1, Math.floor(maxBytes / (n * k * 8))));
    const plan = slices(sizes, columns);
    const store = zeros([n * k * columns], 'float64');
    const ntk = zeros([n, n], 'float64');
    const groups = (opts.groups ? [...new Set(names)] : []).map((name) => ({ name, gram: zeros([n, n], 'float64') }));
    const picks = eye(k, model.dtype);
    plan.forEach((pieces, sweep) =>
      scope(() => {
        const wanted = [...new Set(pieces.map((p) => p.param))];
        // jac[q] [n, k, length]: the rows of J for piece q, every point and output, in one store that
        // every sweep reuses (a fresh gigabyte each sweep would be page-faulted in again).
        if (sweep > 0) store.zero_();
        let start = 0;
        const jac = pieces.map((p) => {
          const view = store.narrow(0, start, n * k * p.length).view([n, k, p.length]);
          start += n * k * p.length;
          return view;
        });
        for (let i = 0; i < n; i++) {
          scope(() =>
            enableGrad(() => {
              const u = forward(i);
              for (let c = 0; c < k; c++) {
                const gs = grad(u, wanted.map((w) => params[w]), { gradOutputs: [picks.narrow(0, c, 1)], retainGraph: c < k - 1, allowUnused: true });
                pieces.forEach((p, q) => {
                  // An unused parameter's gradient is null: its rows stay 0.
                  const g = gs[wanted.indexOf(p.param)];
                  if (g) jac[q].select(0, i).select(0, c).copy_(g.flatten().narrow(0, p.offset, p.length));
                });
              }
            })
          );
          opts.onProgress?.(sweep * n + i + 1, plan.length * n);
        }
        pieces.forEach((p, q) => {
          const rows = jac[q].view([n, k * p.length]);
          const gram = rows.mm(rows.t());
          ntk.add_(gram);
          groups.find((g) => g.name === names[p.param])?.gram.add_(gram);
        });
      })
    );
    return { ntk, groups, outputs: k, sweeps: plan.length };
  });
}
