// WTF-8 bytes for the byte-level BPE tokenizer. WTF-8 is UTF-8 except that a lone UTF-16 surrogate
// (which a JS string may hold) is written as its 3-byte generalised UTF-8 form, so that ANY JS string
// survives string -> bytes -> string exactly. TextEncoder cannot do this (it turns lone surrogates into
// U+FFFD), hence this small hand-written codec. The decoder is streaming: bytes may arrive split in the
// middle of a character (a BPE token can end there); truly invalid bytes become U+FFFD, or, for display
// labels, "<0xE2>"-style text. Invalid input never throws.

/** Largest number of bytes encodeWtf8Into() writes per UTF-16 code unit. */
export const MAX_BYTES_PER_CODE_UNIT = 3;

/**
 * Writes the WTF-8 bytes of `s` into `out` from `pos`; returns the end position. `out` must have room
 * for `s.length * MAX_BYTES_PER_CODE_UNIT` bytes after `pos`.
 */
export function encodeWtf8Into(s: string, out: Uint8Array, pos: number): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[pos++] = c;
    } else if (c < 0x800) {
      out[pos++] = 0xc0 | (c >> 6);
      out[pos++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          out[pos++] = 0xf0 | (c >> 18);
          out[pos++] = 0x80 | ((c >> 12) & 0x3f);
          out[pos++] = 0x80 | ((c >> 6) & 0x3f);
          out[pos++] = 0x80 | (c & 0x3f);
          continue;
        }
      }
      // Any other BMP code unit, lone surrogates included: 3 bytes.
      out[pos++] = 0xe0 | (c >> 12);
      out[pos++] = 0x80 | ((c >> 6) & 0x3f);
      out[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}

/** WTF-8 bytes of `s` (UTF-8, with lone surrogates in their 3-byte form). */
export function encodeWtf8(s: string): Uint8Array {
  const buf = new Uint8Array(s.length * MAX_BYTES_PER_CODE_UNIT);
  return buf.slice(0, encodeWtf8Into(s, buf, 0));
}

/** Turns UTF-16 code units into a string without overflowing the call stack on long inputs. */
export function codeUnitsToString(units: ArrayLike<number>): string {
  const n = units.length;
  if (n === 0) return '';
  const STEP = 8192;
  if (n <= STEP) return String.fromCharCode.apply(null, units as number[]);
  const parts: string[] = [];
  const arr = Array.isArray(units) ? units : Array.from(units);
  for (let i = 0; i < n; i += STEP) {
    parts.push(String.fromCharCode.apply(null, arr.slice(i, i + STEP)));
  }
  return parts.join('');
}

/** What to emit for invalid bytes: gets the bytes of the bad sequence, appends UTF-16 code units. */
export type InvalidBytesHandler = (bytes: readonly number[], out: number[]) => void;

/** Emits one U+FFFD per maximal invalid subpart (the WHATWG Encoding Standard convention). */
export const replaceInvalid: InvalidBytesHandler = (_bytes, out) => {
  out.push(0xfffd);
};

/** Emits "<0xE2>" for each invalid or incomplete byte, for human-readable token labels. */
export const labelInvalid: InvalidBytesHandler = (bytes, out) => {
  for (const b of bytes) {
    const label = `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
    for (let i = 0; i < label.length; i++) out.push(label.charCodeAt(i));
  }
};

/**
 * Streaming WTF-8 decoder (the WHATWG UTF-8 decoder, except that ED A0..BF xx decodes to a lone
 * surrogate instead of being rejected). Feed bytes with write(); an incomplete character at the end is
 * held until the next write(); end() reports it as invalid and resets the decoder.
 */
export class Wtf8Decoder {
  private needed = 0;
  private seen = 0;
  private cp = 0;
  private lower = 0x80;
  private upper = 0xbf;
  private readonly partial: number[] = [];

  constructor(private readonly onInvalid: InvalidBytesHandler = replaceInvalid) {}

  /** Decodes `bytes`, appending the completed UTF-16 code units to `out`. */
  write(bytes: ArrayLike<number>, out: number[]): void {
    const n = bytes.length;
    for (let i = 0; i < n; i++) {
      const b = bytes[i];
      if (this.needed === 0) {
        if (b < 0x80) {
          out.push(b);
          continue;
        }
        if (b >= 0xc2 && b <= 0xdf) {
          this.needed = 1;
          this.cp = b & 0x1f;
        } else if (b >= 0xe0 && b <= 0xef) {
          if (b === 0xe0) this.lower = 0xa0; // no overlong forms
          this.needed = 2;
          this.cp = b & 0x0f;
        } else if (b >= 0xf0 && b <= 0xf4) {
          if (b === 0xf0) this.lower = 0x90; // no overlong forms
          if (b === 0xf4) this.upper = 0x8f; // nothing above U+10FFFF
          this.needed = 3;
          this.cp = b & 0x07;
        } else {
          this.onInvalid([b], out);
          continue;
        }
        this.seen = 0;
        this.partial.length = 0;
        this.partial.push(b);
        continue;
      }
      if (b < this.lower || b > this.upper) {
        // The sequence so far is invalid; report it, then reconsider this byte as a fresh start.
        const bad = this.partial.slice();
        this.reset();
        this.onInvalid(bad, out);
        i--;
        continue;
      }
      this.lower = 0x80;
      this.upper = 0xbf;
      this.cp = (this.cp << 6) | (b & 0x3f);
      this.partial.push(b);
      if (++this.seen === this.needed) {
        const cp = this.cp;
        this.reset();
        if (cp < 0x10000) {
          out.push(cp);
        } else {
          out.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
        }
      }
    }
  }

  /** Reports a pending incomplete character as invalid and resets the decoder for reuse. */
  end(out: number[]): void {
    if (this.needed !== 0) {
      const bad = this.partial.slice();
      this.reset();
      this.onInvalid(bad, out);
    }
  }

  private reset(): void {
    this.needed = 0;
    this.seen = 0;
    this.cp = 0;
    this.lower = 0x80;
    this.upper = 0xbf;
    this.partial.length = 0;
  }
}

/** Decodes a complete WTF-8 byte sequence; invalid bytes become U+FFFD. */
export function decodeWtf8(bytes: ArrayLike<number>, onInvalid: InvalidBytesHandler = replaceInvalid): string {
  const dec = new Wtf8Decoder(onInvalid);
  const out: number[] = [];
  dec.write(bytes, out);
  dec.end(out);
  return codeUnitsToString(out);
}

/** True for UTF-8 continuation bytes (0x80..0xBF), the bytes that do not start a character. */
export function isContinuationByte(b: number): boolean {
  return (b & 0xc0) === 0x80;
}
