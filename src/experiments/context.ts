/**
 * What experiments take from whoever runs them: the run store their trainings are recorded in, the
 * seed, progress and log output (RunContext); and the cache through which several claims share one
 * experiment's result (ExperimentCache). Both are values the caller owns and passes along: an
 * experiment keeps no state of its own between calls.
 */
import type { RunStore } from '../store/runs.js';

export interface RunContext {
  seed: number;
  store: RunStore;
  /** Progress output for long trainings. */
  progress: boolean;
  log: (message: string) => void;
}

/**
 * Results that several claims share — the margin claims' zoo population, the shape lab's trained
 * models — computed once per key. Owned by whoever runs the claims (`dltheory reproduce` makes one
 * per invocation), so a result lives exactly as long as its owner keeps the cache, and two callers
 * never see each other's. A key names its experiment first (`margins|…`, `shapes|…`) and then
 * everything the result depends on, so one key always holds one kind of result.
 */
export class ExperimentCache {
  readonly #results = new Map<string, unknown>();

  /** The result under `key`, computed by `compute` and kept the first time; a failed computation keeps nothing. */
  get<T>(key: string, compute: () => T): T {
    if (!this.#results.has(key)) this.#results.set(key, compute());
    return this.#results.get(key) as T;
  }
}
