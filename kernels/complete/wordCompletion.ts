// SKELETON (helper A replaces this file): VS Code's word-based completion, as the baseline.

/** Identifier characters for the word baseline and the 'identifier' stop rule. */
export function isWordChar(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code === 36;
}

export class WordCompletion {
  constructor(corpusText: string) {
    void corpusText;
  }

  /** Adds one occurrence of `word` to the current file's counts (the replay calls it as words are typed). */
  addFileWord(word: string): void {
    throw new Error(`not implemented: addFileWord(${word})`);
  }

  /** Forgets the current file's words (a new file starts). */
  resetFile(): void {
    throw new Error('not implemented: resetFile');
  }

  /** The rest of the most frequent word (file + corpus counts) that strictly extends `prefix` (≥ 1 character), or null. */
  suggest(prefix: string): string | null {
    throw new Error(`not implemented: suggest(${prefix})`);
  }
}
