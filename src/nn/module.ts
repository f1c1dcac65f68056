/**
 * Module: parameters, buffers and sub-modules under PyTorch `state_dict` names, train/eval mode,
 * and named probe points — the inner activations that measures (margins, GDV, Gram) read.
 *
 * A forward pass takes an optional Probes recorder. A layer that owns a probe point calls
 * `probes?.record(name, h)`; only requested names are kept, so an ordinary forward pays nothing.
 */
import { Tensor } from '../engine/tensor.js';
import { noGrad } from '../engine/autograd.js';
import { keep } from '../engine/memory.js';

export class Probes {
  readonly values = new Map<string, Tensor>();
  constructor(readonly wanted: ReadonlySet<string>) {}
  /** Keeps h under name if it was asked for. */
  record(name: string, h: Tensor): void {
    if (this.wanted.has(name)) this.values.set(name, h);
  }
}

export abstract class Module {
  training = true;
  /** The spec string the model was built from (see models/spec.ts), when it was. */
  spec: string | undefined;
  readonly #params = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  /** The model's output for x; layers with probe points record into `probes`. */
  abstract forward(x: Tensor, probes?: Probes): Tensor;

  /** Names of the probe points this module exposes, in forward order. */
  probePoints(): string[] {
    return [];
  }

  /** One forward pass returning the output and the activations at the requested probe points. */
  forwardWithProbes(x: Tensor, names: string[]): { output: Tensor; probes: Map<string, Tensor> } {
    const known = new Set(this.probePoints());
    for (const n of names) if (!known.has(n)) throw new Error(`no probe point '${n}' (have: ${[...known].join(', ')})`);
    const probes = new Probes(new Set(names));
    const output = this.forward(x, probes);
    return { output, probes: probes.values };
  }

  /** Registers a trainable tensor (made to require gradients and kept out of any scope). */
  protected param(name: string, t: Tensor): Tensor {
    keep(t).requiresGrad_(true);
    this.#params.set(name, t);
    return t;
  }
  protected buffer(name: string, t: Tensor): Tensor {
    this.#buffers.set(name, keep(t));
    return t;
  }
  protected child<M extends Module>(name: string, m: M): M {
    this.#children.set(name, m);
    return m;
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [...this.#params].map(([n, t]) => [prefix + n, t]);
    for (const [n, c] of this.#children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [...this.#buffers].map(([n, t]) => [prefix + n, t]);
    for (const [n, c] of this.#children) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }
  /** Parameters and buffers by their PyTorch state_dict names. */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }
  /** Copies tensors into the module's own; shapes and the set of names must match exactly. */
  loadStateDict(state: Map<string, Tensor>): void {
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const extra = [...state.keys()].filter((k) => !own.has(k));
    if (missing.length || extra.length)
      throw new Error(`state dict mismatch: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`);
    for (const [k, t] of own) {
      const src = state.get(k)!;
      if (src.shape.join() !== t.shape.join())
        throw new Error(`state dict: '${k}' has shape [${src.shape}] but the model needs [${t.shape}]`);
    }
    noGrad(() => {
      for (const [k, t] of own) t.copy_(state.get(k)!);
    });
  }
  /** Converts every floating parameter and buffer in place (float64 for exact measures). */
  to(dtype: 'float32' | 'float64'): this {
    for (const t of this.stateDict().values()) {
      if (t.dtype !== 'float32' && t.dtype !== 'float64') continue;
      const converted = t.to(dtype);
      t.setData_(converted);
      converted.dispose();
    }
    return this;
  }
  double(): this {
    return this.to('float64');
  }
  numParameters(): number {
    return this.parameters().reduce((a, p) => a + p.numel, 0);
  }

  train(mode = true): this {
    this.training = mode;
    for (const c of this.#children.values()) c.train(mode);
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  /** Drops accumulated gradients. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }
  /** Frees every parameter and buffer. */
  dispose(): void {
    for (const t of this.stateDict().values()) t.dispose();
  }
}
