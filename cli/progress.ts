// A one-line terminal progress display: redrawn in place on a terminal, printed every few seconds
// when the output is a file or a pipe (so logs stay readable).

export class ProgressLine {
  private lastPrint = 0;
  private drawn = false;
  constructor(private readonly out: NodeJS.WriteStream = process.stderr, private readonly plainEverySeconds = 5) {}

  update(fraction: number, text: string): void {
    const f = Math.max(0, Math.min(1, fraction));
    if (this.out.isTTY) {
      const width = 24;
      const full = Math.round(f * width);
      const bar = '█'.repeat(full) + '░'.repeat(width - full);
      const line = `${bar} ${(f * 100).toFixed(0).padStart(3)}% ${text}`;
      const cols = this.out.columns || 120;
      this.out.write(`\r\x1b[2K${line.slice(0, cols - 1)}`);
      this.drawn = true;
    } else {
      const now = Date.now() / 1000;
      if (now - this.lastPrint < this.plainEverySeconds) return;
      this.lastPrint = now;
      this.out.write(`${(f * 100).toFixed(0).padStart(3)}% ${text}\n`);
    }
  }

  /** Ends the in-place line so the next output starts on a fresh line. */
  done(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }

  /** Prints a message above the progress line. */
  log(msg: string): void {
    if (this.drawn) this.out.write('\r\x1b[2K');
    this.out.write(msg + '\n');
    this.drawn = false;
  }
}
