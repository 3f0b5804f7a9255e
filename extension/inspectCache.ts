// The inspector worker's cache of corpus activations: one entry per (model, corpus, layer, quantity),
// so a second match search over the same units' quantity is instant. Entries are large (tokens ×
// hidden units × 4 bytes), so the cache is bounded by bytes, not by count: the least recently used
// entries go first, and an entry larger than the whole budget is never kept. Pure; no Node or vscode.

/** Default budget: 1 GiB of activations in the worker. */
export const DEFAULT_CACHE_BYTES = 1024 ** 3;

export class ActivationCache<V extends { readonly bytes: number }> {
  /** Insertion order is recency order (a Map iterates in insertion order; get() re-inserts). */
  private readonly entries = new Map<string, V>();
  private used = 0;

  constructor(readonly maxBytes = DEFAULT_CACHE_BYTES) {}

  /** The key of one cached computation: everything that changes the activations. */
  static key(modelKey: string, corpusKey: string, layer: number, quantity: string): string {
    return `${modelKey}|${corpusKey}|${layer}|${quantity}`;
  }

  get(key: string): V | undefined {
    const v = this.entries.get(key);
    if (v === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, v);
    return v;
  }

  /** Keeps `v` under `key`, evicting the least recently used entries until it fits; false when it cannot fit at all. */
  set(key: string, v: V): boolean {
    this.delete(key);
    if (v.bytes > this.maxBytes) return false;
    for (const [k, old] of this.entries) {
      if (this.used + v.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.used -= old.bytes;
    }
    this.entries.set(key, v);
    this.used += v.bytes;
    return true;
  }

  delete(key: string): void {
    const old = this.entries.get(key);
    if (old === undefined) return;
    this.entries.delete(key);
    this.used -= old.bytes;
  }

  /** Drops every entry whose key does not start with `modelKey|` (a new checkpoint makes them stale). */
  keepModel(modelKey: string): void {
    for (const k of [...this.entries.keys()]) if (!k.startsWith(`${modelKey}|`)) this.delete(k);
  }

  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.entries.size;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }
}
