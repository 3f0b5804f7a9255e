// Seeded random numbers.
//  - `Rng`: a small sequential generator (splitmix32) for initialisation and sampling.
//  - `hash32`/`dropoutUniform`: a counter-based generator for dropout masks. A mask element depends
//    only on (seed, stream, index), so the CPU and WebGPU backends draw the same masks, in any order.

/** lowbias32 integer hash (Wellons): a good 32-bit avalanche using only 32-bit integer ops. */
export function hash32(x: number): number {
  x >>>= 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Uniform in [0, 1) for element `index` of dropout stream `stream` (one stream per step and site). */
export function dropoutUniform(seed: number, stream: number, index: number): number {
  return hash32(hash32(hash32(seed) ^ stream) ^ index) / 4294967296;
}

/** The key of a stream: one per training step and per dropout site (layer output or decoder input). */
export function dropoutStream(step: number, site: number): number {
  return (Math.imul(step, 16) + site) >>> 0;
}

export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Next 32-bit unsigned integer (splitmix32). */
  nextU32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = this.next();
    while (u <= 0) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}
