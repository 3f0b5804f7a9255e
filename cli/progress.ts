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

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = String(m).padStart(2, '0'), ss = String(r).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${m}:${ss}`;
}

export function formatRate(tokensPerSecond: number): string {
  return tokensPerSecond >= 10000 ? `${(tokensPerSecond / 1000).toFixed(1)}k` : tokensPerSecond.toFixed(0);
}
