/**
 * Module: parameters, buffers and sub-modules under PyTorch `state_dict` names, train/eval mode,
 * and probe points.
 *
 * A probe point is a named activation inside a network that measures read: the margins at each
 * layer (Jiang et al.), the GDV per layer, a Linear layer's input and output for Gram matrices. It
 * is not a "linear probe" (a classifier trained on frozen features). A module lists its own in
 * `probePoints()` (an MLP's `input` and `layers.{i}`, a Linear's `input` and `output`; an imported
 * graph could name its nodes) and marks each in `forward` with `this.tap(name, h)`.
 *
 * Reading them works as PyTorch's `register_forward_hook`: `registerForwardHook(name, hook)` has
 * `hook(h)` called with the activation at that point on every forward pass until the returned
 * handle is removed; `forwardWithProbes` runs one pass with some points tapped. A point nobody
 * hooks costs one Map lookup, so forward passes are written as the maths reads, with no recorder
 * threaded through them.
 */
import type { Tensor } from '../engine/tensor.js';
import { noGrad } from '../engine/autograd.js';
import { keep } from '../engine/memory.js';

/** Receives the activation at a probe point: the tensor itself, valid in the forward pass's scope. */
export type ForwardHook = (h: Tensor) => void;

/** Returned by registerForwardHook; `remove()` unregisters the hook (as torch's RemovableHandle). */
export interface HookHandle {
  remove(): void;
}

/**
 * Runs f with each [module, probe point, hook] registered, and removes them all after, also when
 * a registration or f throws: what a measure needs to read activations for one computation.
 */
export function withForwardHooks<T>(hooks: [Module, string, ForwardHook][], f: () => T): T {
  const handles: HookHandle[] = [];
  try {
    for (const [m, point, hook] of hooks) handles.push(m.registerForwardHook(point, hook));
    return f();
  } finally {
    for (const h of handles) h.remove();
  }
}

export abstract class Module {
  training = true;
  /** The spec string the model was built from (see models/spec.ts), when it was. */
  spec: string | undefined;

  /**
   * What messages call the model: its spec, else (an imported graph) the file it was read from,
   * else 'the model'.
   */
  get label(): string {
    return this.spec ?? 'the model';
  }
  readonly #params = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();
  /** Hooks by probe point (see registerForwardHook). */
  readonly #hooks = new Map<string, Set<ForwardHook>>();

  /** The model's output for x. */
  abstract forward(x: Tensor): Tensor;

  /** Names of the probe points this module exposes, in forward order. */
  probePoints(): string[] {
    return [];
  }

  /**
   * The probe points a measure reads when the caller names none: all of them for the built-in
   * models; an imported graph, whose every node output is a probe point, picks a few (docs/onnx.md).
   */
  defaultProbePoints(): string[] {
    return this.probePoints();
  }

  /**
   * The probe point whose activation is the model's output, when there is one (a Linear's
   * `output`, an imported graph's output), else undefined: summaries add an `output` row then.
   */
  outputPoint(): string | undefined {
    return this.probePoints().includes('output') ? 'output' : undefined;
  }

  /**
   * Which weight layer each BatchNorm follows, by state-dict prefix (`layer1.0.bn1` → `layer1.0.conv1`),
   * for the norm measures that fold BatchNorm into that layer (measures/norms.ts); undefined when
   * the module does not say, and the measures read it from the built-in models' names.
   */
  batchNormInputs(): Map<string, string> | undefined {
    return undefined;
  }

  /**
   * What computes the activation at a probe point, for model summaries (`dltheory layers`): the
   * operator (a sub-module's class, an ONNX op type) and the number of parameters it owns. By
   * default the sub-module registered under the point's name, if any, else `activation` with none.
   * `output`, when it is not a probe point, names the model's output. The built-in models describe
   * everything from the previous probe point to this one (`BatchNorm → relu → Linear`), so that the
   * rows of a summary add up to the model's parameters.
   */
  describeProbePoint(point: string): { operator: string; parameters: number } {
    const child = this.#children.get(point);
    if (!child) return { operator: point === 'input' ? 'input' : 'activation', parameters: 0 };
    return { operator: child.constructor.name, parameters: child.numParameters() };
  }

  /** Has hook called with the activation at `point` on every forward pass, until the handle is removed. */
  registerForwardHook(point: string, hook: ForwardHook): HookHandle {
    const known = this.probePoints();
    if (!known.includes(point)) throw new Error(`no probe point '${point}' (have: ${known.join(', ')})`);
    const hooks = this.#hooks.get(point) ?? this.#hooks.set(point, new Set()).get(point)!;
    // A wrapper of its own, so that one function registered twice runs twice and each handle removes one.
    const own = (h: Tensor) => hook(h);
    hooks.add(own);
    return { remove: () => void hooks.delete(own) };
  }

  /** Marks h as the activation at probe point `point` of this forward pass: its hooks receive it. Returns h. */
  protected tap(point: string, h: Tensor): Tensor {
    const hooks = this.#hooks.get(point);
    if (hooks) { for (const hook of hooks) hook(h); }
    return h;
  }

  /** One forward pass returning the output and the activations at the named probe points. */
  forwardWithProbes(x: Tensor, names: string[]): { output: Tensor; probes: Map<string, Tensor> } {
    const probes = new Map<string, Tensor>();
    const output = withForwardHooks(names.map((n) => [this, n, (h: Tensor) => void probes.set(n, h)]), () => this.forward(x));
    return { output, probes };
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
  /** The floating dtype of the parameters (float32 for a module without any): what inputs are converted to. */
  get dtype(): 'float32' | 'float64' {
    return this.parameters()[0]?.dtype === 'float64' ? 'float64' : 'float32';
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
  /** Frees the module at the end of a `using` block: `using model = buildModel('mlp:784-10')`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * Eval mode (BatchNorm on its running statistics, no dropout) until the returned guard is disposed,
 * then back to the mode the model had, however the block ends: `using _eval = evalMode(model);`.
 * Measures read a model in eval mode without changing the caller's mode.
 */
export function evalMode(model: Module): Disposable {
  const was = model.training;
  model.eval();
  return { [Symbol.dispose]: () => void model.train(was) };
}
