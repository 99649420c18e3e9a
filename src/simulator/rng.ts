/**
 * The dice behind error_rate, rate_limit_rate and jitter. Seeded (mulberry32) when a test needs
 * the same sequence every run; Math.random otherwise.
 */
export class Rng {
  #seeded = false;
  #state = 0;

  constructor(seed?: number) {
    this.reseed(seed);
  }

  reseed(seed: number | undefined): void {
    this.#seeded = seed !== undefined;
    this.#state = (seed ?? 0) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    if (!this.#seeded) return Math.random();
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
