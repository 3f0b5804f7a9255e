// The completion path, one for the editor and the evaluation: the completion worker
// (extension/completionWorker.ts) and `gatescope eval-completions` (cli/evalCompletions.ts) both call
// CompletionEngine.complete(), so what the evaluation measures is what the editor shows.
//
// A request is the document's text before the cursor. The model reads a bounded context: from an anchor
// line start at least DEFAULT_CONTEXT.minLines lines above the cursor's line (anchors.ts), up to the read
// boundary (the cursor, or for BPE the start of the chunk the cursor is in). The state there comes from
// the state cache (stateCache.ts: kept every K tokens along each anchor's chain, checked against the
// text), and the decoder (decode.ts) continues from it, re-typing any bytes between the boundary and the
// cursor first. Plain TypeScript: no vscode or Node-only imports.

import type { InferenceSession, InferenceState } from '../infer';
import type { Tokenizer } from '../tokenizer';
import { encodeWtf8 } from '../tokenizer/utf8';
import { contextStart, readBoundary } from './anchors';
import { decodeSuggestion } from './decode';
import type { KneserNeyModel } from './ngram';
import { StateCache } from './stateCache';
import { mixtureState, mixtureStepModel, sessionStepModel } from './stepModels';
import { DEFAULT_CACHE, DecodeOptions, StateCacheOptions, StepModel, Suggestion, throwIfCancelled } from './types';

export interface CompletionModel {
  session: InferenceSession;
  tokenizer: Tokenizer;
  /** Mixed into the session's distribution when given with ngramWeight > 0 (a char tokenizer only). */
  ngram?: KneserNeyModel | null;
  /** The n-gram's share of the mixture, 0..1 (0: the recurrent model alone). */
  ngramWeight?: number;
}

export interface CompleteRequest {
  /** The document's key (its URI); states are kept per document. */
  doc: string;
  /** The document's text before the cursor. */
  text: string;
  /** The rest of the cursor's line (read only to decide whether a suggestion may show there). */
  after?: string;
  options: DecodeOptions;
  /** false: read the context afresh, keep nothing (to measure what the cache buys). Default true. */
  useCache?: boolean;
  isCancelled?: () => boolean;
}

export interface CompleteResult {
  suggestion: Suggestion | null;
  /** Why there is no suggestion: the text after the cursor, or the decoder's rules. */
  reason: 'shown' | 'text after the cursor' | 'nothing confident';
  /** Tokens the model read to reach the read boundary (the decoding's steps not included). */
  tokensRead: number;
  /** Where the model's context started. */
  contextStart: number;
}

/**
 * Whether a suggestion may show with `after` following the cursor on its line: only when it is empty or
 * holds nothing but closing brackets, quotes and whitespace (the editor's auto-closed `)` must not
 * silence completions; text in the middle of a line must not be hidden by ghost text).
 */
export function allowsSuggestion(after: string): boolean {
  return /^[\s)\]}>"'`]*$/.test(after);
}

export class CompletionEngine {
  readonly cache: StateCache;
  private readonly step: StepModel<unknown>;
  private readonly mix: KneserNeyModel | null;

  constructor(readonly model: CompletionModel, readonly cacheOptions: StateCacheOptions = DEFAULT_CACHE) {
    this.cache = new StateCache(model.session, model.tokenizer, cacheOptions);
    const w = model.ngramWeight ?? 0;
    this.mix = model.ngram && w > 0 && model.tokenizer.kind === 'char' ? model.ngram : null;
    this.step = (this.mix
      ? mixtureStepModel(model.session, model.tokenizer, this.mix, w)
      : sessionStepModel(model.session, model.tokenizer)) as StepModel<unknown>;
  }

  complete(req: CompleteRequest): CompleteResult {
    const { text } = req;
    const cursor = text.length;
    const cs = contextStart(text, cursor, this.cacheOptions.context);
    if (!allowsSuggestion(req.after ?? '')) return { suggestion: null, reason: 'text after the cursor', tokensRead: 0, contextStart: cs };
    throwIfCancelled(req.isCancelled);
    const boundary = readBoundary(this.model.tokenizer, text, cs);
    let state: InferenceState;
    let tokensRead: number;
    if (req.useCache === false) {
      const { session, tokenizer } = this.model;
      state = session.newState();
      const ids = tokenizer.encode(text.slice(cs, boundary));
      session.feedMany(state, ids);
      tokensRead = ids.length;
    } else {
      const read = this.cache.stateAt(req.doc, text, boundary, req.isCancelled, cs);
      state = read.state;
      tokensRead = read.tokensRead;
    }
    throwIfCancelled(req.isCancelled);
    const start = this.mix ? mixtureState(state, text.slice(cs, boundary), this.mix.order) : state;
    const lineStart = text.lastIndexOf('\n', cursor - 1) + 1;
    const typed = boundary < cursor ? encodeWtf8(text.slice(boundary)) : new Uint8Array(0);
    const suggestion = decodeSuggestion(this.step, start, typed, text.slice(lineStart), req.options, req.isCancelled);
    return { suggestion, reason: suggestion ? 'shown' : 'nothing confident', tokensRead, contextStart: cs };
  }

  /** Idle work after a request: read ahead the chains the cursor will need as it moves down. Throws CancelledError. */
  warm(doc: string, text: string, isCancelled?: () => boolean): void {
    const cs = contextStart(text, text.length, this.cacheOptions.context);
    this.cache.warm(doc, text, readBoundary(this.model.tokenizer, text, cs), isCancelled, cs);
  }

  /**
   * Idle work after an edit at `offset` in the document's whole `text`: reads into the cache the contexts
   * of the next `lines` line starts after it (an edit moves the anchors within DEFAULT_CONTEXT.windowLines
   * lines of it and changes the text every context below it reads, so these are the requests whose chain
   * is gone), so that a later request there costs only the steps since a kept state. Throws CancelledError.
   */
  readAhead(doc: string, text: string, offset: number, lines: number, isCancelled?: () => boolean): void {
    for (let k = 0, at = offset; k < lines; k++) {
      const nl = text.indexOf('\n', at);
      if (nl < 0) break;
      throwIfCancelled(isCancelled);
      this.prime(doc, text.slice(0, nl + 1), isCancelled);
      at = nl + 1;
    }
  }

  /** Reads into the cache the context a request at the end of `text` needs (no decoding). Throws CancelledError. */
  prime(doc: string, text: string, isCancelled?: () => boolean): void {
    const cs = contextStart(text, text.length, this.cacheOptions.context);
    this.cache.stateAt(doc, text, readBoundary(this.model.tokenizer, text, cs), isCancelled, cs);
  }

  /** The document changed from `offset` on (from onDidChangeTextDocument). */
  edit(doc: string, offset: number): void {
    this.cache.invalidate(doc, offset);
  }

  close(doc: string): void {
    this.cache.dropDocument(doc);
  }
}
