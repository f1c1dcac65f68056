/**
 * Deterministic release of native memory, after TF.js's `tidy`.
 *
 * Every tensor created inside `scope(fn)` is freed when fn returns, except the tensors fn returns
 * (found anywhere in arrays, plain objects and Maps of the result) and those passed to `keep`.
 * Returned tensors move to the enclosing scope. Tensors made outside any scope live until
 * `dispose()`; a FinalizationRegistry frees forgotten ones when V8 collects them, as a backstop only.
 */
import { N } from './native.js';

/** What scopes track: a tensor, anything with dispose(). (Not the language's `Disposable`, whose method is Symbol.dispose.) */
export interface Freeable {
  dispose(): void;
}

const stack: Set<Freeable>[] = [];

/** Records a new tensor in the innermost scope, if any. */
export function track(t: Freeable): void {
  if (stack.length > 0) stack[stack.length - 1].add(t);
}

/** Takes a tensor out of every open scope, so it outlives them. Returns it. */
export function keep<T extends Freeable>(t: T): T {
  for (const s of stack) s.delete(t);
  return t;
}

function collect(value: unknown, into: Set<Freeable>, seen: Set<unknown>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (isTensorLike(value)) {
    into.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collect(v, into, seen);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, into, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, into, seen);
  }
}

let isTensorLike: (v: unknown) => v is Freeable = (_v): _v is Freeable => false;
/** Lets tensor.ts say what a tensor is without a circular import. */
export function setTensorCheck(check: (v: unknown) => v is Freeable): void {
  isTensorLike = check;
}

/** Runs fn and frees every tensor it created that it does not return. fn must be synchronous. */
export function scope<T>(fn: () => T): T {
  const mine = new Set<Freeable>();
  stack.push(mine);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    stack.pop();
    for (const t of mine) t.dispose();
    throw err;
  }
  stack.pop();
  if (result instanceof Promise) {
    for (const t of mine) t.dispose();
    throw new Error('scope(fn): fn must be synchronous (libtorch calls are)');
  }
  const returned = new Set<Freeable>();
  collect(result, returned, new Set());
  const parent = stack[stack.length - 1];
  for (const t of mine) {
    if (returned.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}

/** Disposes every tensor found in value (arrays, objects, Maps). */
export function dispose(value: unknown): void {
  const found = new Set<Freeable>();
  collect(value, found, new Set());
  for (const t of found) t.dispose();
}

/**
 * A guard for `using`: at the end of the block it disposes every tensor found in `value` (arrays,
 * plain objects, Maps, as dispose does), however the block ends: `using _ = disposing(initial);`.
 */
export function disposing(value: unknown): Disposable {
  return { [Symbol.dispose]: () => dispose(value) };
}

/** The number of native tensors alive now (for leak tests). */
export function liveTensors(): number {
  return N.liveTensors();
}
