// Batching for truncated BPTT, as char-rnn does it: the token stream is cut into B contiguous
// streams, one per batch row; consecutive windows of T tokens follow each other along every stream,
// so the recurrent state carried from one window to the next is the state of the text just before.
//
//   N tokens, B streams, L = floor((N-1)/B); stream b starts at token b*L;
//   window w: x[t][b] = tok[b*L + w*T + t], y[t][b] = tok[b*L + w*T + t + 1]  (time-major [T*B]).

import { check } from './errors';

export class StreamBatcher {
  readonly streamLength: number;
  /** Full windows of T per pass over the data. */
  readonly windowsPerEpoch: number;
  /** Length of the partial window after the full ones (0 if none). */
  readonly tailLength: number;

  constructor(readonly tokens: Int32Array, readonly batchSize: number, readonly seqLen: number) {
    this.streamLength = Math.floor((tokens.length - 1) / batchSize);
    this.windowsPerEpoch = Math.floor(this.streamLength / seqLen);
    this.tailLength = this.streamLength - this.windowsPerEpoch * seqLen;
  }

  /** Fills x and y (length T*B) with window w; T defaults to the sequence length. */
  fill(w: number, x: Int32Array, y: Int32Array, T = this.seqLen): void {
    const B = this.batchSize;
    const L = this.streamLength;
    const start = w * this.seqLen;
    if (start + T > L) throw new Error(`window ${w} of length ${T} runs past the stream (${L})`);
    for (let b = 0; b < B; b++) {
      const base = b * L + start;
      for (let t = 0; t < T; t++) {
        x[t * B + b] = this.tokens[base + t];
        y[t * B + b] = this.tokens[base + t + 1];
      }
    }
  }
}

/** Checks that a token stream is long enough to train with this batch and sequence length. */
export function checkTrainable(tokens: number, batchSize: number, seqLen: number): void {
  const needed = batchSize * seqLen + 1;
  check(tokens >= needed, () =>
    `the training text is too short: ${tokens} tokens, but batch ${batchSize} × sequence length ${seqLen} needs at least ${needed}; add more files or lower the batch size or sequence length`);
}
