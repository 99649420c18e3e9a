/**
 * A small, fast, seedable generator (sfc32, which passes PractRand) for strategies that draw at
 * random. State lives in an Int32Array so drawing never allocates; `seed` makes tests and replays
 * deterministic, no seed draws one from Math.random.
 */
export class Random {
  private readonly s = new Int32Array(4);
  private spare = 0;
  private hasSpare = false;

  constructor(seed?: number) {
    const x = seed ?? Math.floor(Math.random() * 0x100000000);
    this.s[0] = 0x9e3779b9;
    this.s[1] = x | 0;
    this.s[2] = Math.floor(x / 0x100000000) ^ 0x243f6a88;
    this.s[3] = 1;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const s = this.s;
    const a = s[0] ?? 0,
      b = s[1] ?? 0,
      c = s[2] ?? 0,
      d = s[3] ?? 0;
    const t = (((a + b) | 0) + d) | 0;
    s[3] = (d + 1) | 0;
    s[0] = b ^ (b >>> 9);
    s[1] = (c + (c << 3)) | 0;
    s[2] = (((c << 21) | (c >>> 11)) + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /**
   * Approximately standard normal: the sum of four uniforms, centred and scaled (Irwin–Hall).
   * Tails stop at ±3.46; several times cheaper than normal() for noise that needs only the shape.
   */
  roughNormal(): number {
    return (this.next() + this.next() + this.next() + this.next() - 2) * 1.7320508075688772;
  }

  /** Standard normal (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u = this.next();
    while (u === 0) u = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(theta);
    this.hasSpare = true;
    return r * Math.cos(theta);
  }
}
