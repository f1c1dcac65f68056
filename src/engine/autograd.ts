/**
 * Autograd: libtorch records the graph of every op on tensors that require gradients; these are
 * the entry points PyTorch users know (`torch.autograd.grad`, `torch.no_grad`).
 */
import { N } from './native.js';
import { type Tensor, wrap } from './tensor.js';

export interface GradOptions {
  /** Gradients of the outputs (default: ones, which needs scalar outputs). */
  gradOutputs?: Tensor[];
  /** Keep the graph for another backward pass (default: createGraph). */
  retainGraph?: boolean;
  /** Record the gradient computation itself, for higher derivatives. */
  createGraph?: boolean;
  /** Give null for an input the outputs do not depend on, instead of throwing. */
  allowUnused?: boolean;
}

/** ∂(Σ outputs·gradOutputs)/∂inputs, like torch.autograd.grad. */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor[], opts: GradOptions = {}): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const ids = N.autogradGrad(
    outs.map((t) => t.id),
    inputs.map((t) => t.id),
    (opts.gradOutputs ?? []).map((t) => t.id),
    opts.retainGraph ?? null,
    opts.createGraph ?? false,
    opts.allowUnused ?? false,
  );
  return ids.map((id) => (id < 0 ? null : wrap(id)));
}

/** Runs fn with gradient recording off (torch.no_grad). */
export function noGrad<T>(fn: () => T): T {
  const prev = N.setGradEnabled(false);
  try {
    return fn();
  } finally {
    N.setGradEnabled(prev);
  }
}

/** Runs fn with gradient recording on, e.g. inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  const prev = N.setGradEnabled(true);
  try {
    return fn();
  } finally {
    N.setGradEnabled(prev);
  }
}
