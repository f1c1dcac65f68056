import { check } from '../errors.js';

/**
 * A seeded pseudo-random generator (xoshiro128**, https://prng.di.unimi.it/) for the data layer,
 * written in JS so that subsets, splits, label noise and synthetic data depend only on the seed,
 * not on the engine, its version or its thread count.
 */
export class Rng {
  private readonly s = new Uint32Array(4);
  private spare: number | undefined;

  /** Starts the stream for `seed`, any safe integer; distinct seeds give distinct streams. */
  constructor(seed: number) {
    check(Number.isSafeInteger(seed), `seed must be an integer, got ${seed}`);
    // splitmix32 spreads the seed over the 128-bit state: the low word picks the counter start (a
    // bijection), the high word is folded into one word, so the map from seed to state is one-to-one,
    // and at most one of the counter outputs can be zero, so the state is never all zero.
    let counter = seed >>> 0;
    const splitmix32 = () => {
      counter = (counter + 0x9e3779b9) | 0;
      let z = Math.imul(counter ^ (counter >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.s.set([splitmix32(), splitmix32() ^ Math.floor(seed / 2 ** 32), splitmix32(), splitmix32()]);
  }

  /** The next 32-bit unsigned integer of the stream. */
  nextUint32(): number {
    const s = this.s;
    const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    return ((this.nextUint32() >>> 5) * 2 ** 26 + (this.nextUint32() >>> 6)) / 2 ** 53;
  }

  /** A uniform integer in [0, n), without modulo bias; n is an integer in [1, 2^32]. */
  int(n: number): number {
    check(Number.isInteger(n) && n >= 1 && n <= 2 ** 32, `Rng.int needs an integer range in [1, 2^32], got ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** A standard normal N(0, 1) draw (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spare !== undefined) {
      const z = this.spare;
      this.spare = undefined;
      return z;
    }
    const r = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const theta = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [p[i], p[j]] = [p[j], p[i]];
    }
    return p;
  }
}
