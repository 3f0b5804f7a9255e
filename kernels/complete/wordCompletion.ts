// VS Code's word-based completion, as the baseline the completions are measured against (issue 11,
// "Evaluation"): once at least one identifier character of the current word is typed, offer the rest
// of the most frequent word that strictly extends it, counting the words of the current file typed so
// far plus the words of the training corpus. Ties go to the shorter word, then to the first in code
// unit order, so the baseline is deterministic. Plain TypeScript (no Node imports).
//
// The corpus's words sit in one sorted array (a prefix is a range found by binary search), with the
// best corpus word per prefix memoised; the current file's words are a small Map scanned per request.
// The best word overall is either the corpus's best for the prefix or a word the file has typed.

/** Identifier characters for the word baseline and the 'identifier' stop rule. */
export function isWordChar(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code === 36;
}

/** The words of `text`: its maximal runs of identifier characters (isWordChar), in order. */
export function wordsIn(text: string): string[] {
  const words: string[] = [];
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const w = i < text.length && isWordChar(text.charCodeAt(i));
    if (w && start < 0) start = i;
    else if (!w && start >= 0) {
      words.push(text.slice(start, i));
      start = -1;
    }
  }
  return words;
}

/** Whether word a ranks before word b at equal counts: the shorter first, then code unit order. */
function tieBefore(a: string, b: string): boolean {
  return a.length !== b.length ? a.length < b.length : a < b;
}

/** Most memoised prefixes before the memo starts afresh (bounds its memory). */
const MEMO_LIMIT = 200_000;

export class WordCompletion {
  /** The corpus's distinct words in code unit order, and their counts. */
  private readonly words: string[];
  private readonly counts: Int32Array;
  private readonly corpusCount = new Map<string, number>();
  private readonly fileCount = new Map<string, number>();
  private readonly memo = new Map<string, number>();

  constructor(corpusText: string) {
    for (const w of wordsIn(corpusText)) this.corpusCount.set(w, (this.corpusCount.get(w) ?? 0) + 1);
    this.words = [...this.corpusCount.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.counts = Int32Array.from(this.words, (w) => this.corpusCount.get(w) as number);
  }

  /** Distinct words of the training corpus. */
  get corpusWords(): number {
    return this.words.length;
  }

  /** Adds one occurrence of `word` to the current file's counts (the replay calls it as words are typed). */
  addFileWord(word: string): void {
    if (word.length) this.fileCount.set(word, (this.fileCount.get(word) ?? 0) + 1);
  }

  /** Forgets the current file's words (a new file starts). */
  resetFile(): void {
    this.fileCount.clear();
  }

  /** The rest of the most frequent word (file + corpus counts) that strictly extends `prefix` (≥ 1 character), or null. */
  suggest(prefix: string): string | null {
    if (prefix.length === 0) return null;
    let best: string | null = null;
    let bestCount = 0;
    const c = this.bestCorpusIndex(prefix);
    if (c >= 0) {
      best = this.words[c];
      bestCount = this.counts[c] + (this.fileCount.get(best) ?? 0);
    }
    for (const [w, n] of this.fileCount) {
      if (w.length <= prefix.length || !w.startsWith(prefix)) continue;
      const total = n + (this.corpusCount.get(w) ?? 0);
      if (best === null || total > bestCount || (total === bestCount && tieBefore(w, best))) {
        best = w;
        bestCount = total;
      }
    }
    return best === null ? null : best.slice(prefix.length);
  }

  /** Index of the corpus word with the highest corpus count strictly extending `prefix` (ties: tieBefore), or −1. */
  private bestCorpusIndex(prefix: string): number {
    const known = this.memo.get(prefix);
    if (known !== undefined) return known;
    const { words, counts } = this;
    // First word ≥ prefix: the range of words starting with prefix begins there.
    let lo = 0, hi = words.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (words[mid] < prefix) lo = mid + 1;
      else hi = mid;
    }
    let best = -1;
    for (let i = lo; i < words.length && words[i].startsWith(prefix); i++) {
      if (words[i].length === prefix.length) continue;
      if (best < 0 || counts[i] > counts[best] || (counts[i] === counts[best] && tieBefore(words[i], words[best]))) best = i;
    }
    if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
    this.memo.set(prefix, best);
    return best;
  }
}
