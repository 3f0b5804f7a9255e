// SKELETON (helper A replaces this file): a character n-gram model with interpolated Kneser-Ney smoothing.

export class KneserNeyModel {
  private constructor(readonly order: number, readonly vocabSize: number) {}

  /** Counts every n-gram of `text` (code points) up to `order` (default 7). */
  static build(text: string, order = 7): KneserNeyModel {
    throw new Error(`not implemented: build(${text.length}, ${order})`);
  }

  /** The code point of id (ids 0..vocabSize−2 are the known code points; vocabSize−1 is "unknown"). */
  codePointOf(id: number): number {
    throw new Error(`not implemented: codePointOf(${id})`);
  }

  /** The id of a code point, or the unknown id (vocabSize − 1). */
  idOf(cp: number): number {
    throw new Error(`not implemented: idOf(${cp})`);
  }

  /** P(next | context) for every id into `out` (context: code points, most recent last; only the last order − 1 matter). */
  distribution(context: ArrayLike<number>, out: Float64Array | Float32Array): void {
    throw new Error(`not implemented: distribution(${context.length}, ${out.length})`);
  }

  /** Bits per character of `text` (read from its start; an unknown code point costs its share of the unknown id). */
  bitsPerChar(text: string): number {
    throw new Error(`not implemented: bitsPerChar(${text.length})`);
  }
}
