// Superseding requests: the inspector follows the editor, so a new request (the cursor moved, the text
// changed) makes every older one worthless. At most one request runs at a time; a request submitted
// while one runs waits as the single pending one (replacing, and so dropping, any earlier pending one);
// and a result is delivered only when no newer request was submitted since its own, so the webview
// never shows a stale inspection after a newer one. Pure: no vscode or Node imports.

export class Superseding<R, T> {
  private seq = 0;
  private busy = false;
  private pending: { req: R; id: number } | null = null;
  /** Requests dropped: replaced while pending, or finished after a newer one was submitted. */
  dropped = 0;

  constructor(
    private readonly work: (req: R, id: number) => Promise<T>,
    private readonly deliver: (result: T, req: R, id: number) => void,
    private readonly failed: (error: unknown, req: R, id: number) => void,
  ) {}

  /** The id of the newest request submitted (0 before the first). */
  get latestId(): number {
    return this.seq;
  }

  get running(): boolean {
    return this.busy;
  }

  /** Submits a request; it runs now, or after the running one (if no newer request replaces it first). */
  submit(req: R): number {
    const id = ++this.seq;
    if (this.busy) {
      if (this.pending) this.dropped++;
      this.pending = { req, id };
    } else {
      this.start(req, id);
    }
    return id;
  }

  /** Makes whatever runs or waits now stale (its result is dropped), without submitting anything. */
  cancel(): void {
    this.seq++;
    if (this.pending) this.dropped++;
    this.pending = null;
  }

  private start(req: R, id: number): void {
    this.busy = true;
    let p: Promise<T>;
    try {
      p = this.work(req, id);
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      (result) => {
        if (id !== this.seq) this.dropped++;
        else this.deliver(result, req, id);
      },
      (e) => {
        if (id !== this.seq) this.dropped++;
        else this.failed(e, req, id);
      },
    ).catch((e) => {
      // deliver() threw: report it as this request's failure (failed() is the callers' last word).
      try {
        this.failed(e, req, id);
      } catch {
        // Nothing is left to tell.
      }
    }).finally(() => {
      this.busy = false;
      const next = this.pending;
      this.pending = null;
      if (next) this.start(next.req, next.id);
    });
  }
}
