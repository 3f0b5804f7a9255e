// The inspector's data: what the inspection of a text produces (activations of every layer, the
// model's surprise and predictions at every token, the probes), what a unit search and a match across
// the corpus return, and the gate saturation figures. Produced by kernels/inspect (in the extension's
// inspector worker and in `gatescope inspect`), carried to the webview as typed arrays
// (webview/protocol.ts checks them on arrival), drawn by webview/inspector.

import { CellType } from '../config';

/**
 * A quantity of a layer that a heatmap shows: 'h' hidden state, 'c' the LSTM's cell state, a gate by
 * its PyTorch name (LSTM i f g o, GRU r z n, activated), or 'pre' (the RNN's pre-activation).
 */
export type QuantityName = 'h' | 'c' | 'i' | 'f' | 'g' | 'o' | 'r' | 'z' | 'n' | 'pre';
export const QUANTITY_NAMES: readonly QuantityName[] = ['h', 'c', 'i', 'f', 'g', 'o', 'r', 'z', 'n', 'pre'];

/** One unit of one quantity of one layer. */
export interface UnitRef {
  layer: number;
  quantity: QuantityName;
  unit: number;
}

/** One layer's activations over T tokens: each quantity is [T*H], row t after token t. */
export interface InspectLayer {
  /** The quantities this layer has, in display order (h, then c for the LSTM, then the gates or 'pre'). */
  names: QuantityName[];
  /** values[k] belongs to names[k], [T*H] (token-major: token t's H values at t*H). */
  values: Float32Array[];
}

/** Everything the inspector knows about one inspected text. */
export interface InspectResult {
  cell: CellType;
  hiddenSize: number;
  numLayers: number;
  /** The token labels as text (decoded), T of them. */
  tokens: string[];
  /**
   * UTF-16 offsets into the inspected text where each token starts, [T+1] (the last is the end). A
   * token that ends inside a character (byte-level BPE) shares the start of the next whole one.
   */
  offsets: Int32Array;
  layers: InspectLayer[];
  /** -log2 p(token t | tokens before it), [T]; NaN for the first token when nothing came before it. */
  surprisal: Float32Array;
  /** p(token t+1 | tokens up to t), [T]; NaN for the last token. */
  nextProb: Float32Array;
  /** The k most likely next tokens after token t, [T*k] labels and probabilities, most likely first. */
  topK: number;
  topTokens: string[];
  topProbs: Float32Array;
}

/** A property of the text computed from the text itself, and the units that track it best. */
export interface ProbeResult {
  /** 'string' | 'comment' | 'bracketDepth' | 'indent' | 'column' | 'identifierStart'. */
  name: string;
  /** Human label ("inside a string literal"). */
  label: string;
  /** The property's value at each token, [T]. */
  values: Float32Array;
  /** The units with the largest |Pearson r| with the property, best first (at most 10). */
  best: { layer: number; quantity: QuantityName; unit: number; r: number }[];
}

/** A unit search's answer: the units on (>= threshold) in the range and off just around it, best first. */
export interface UnitSearchResult {
  layer: number;
  quantity: QuantityName;
  threshold: number;
  /** Token range [start, end) searched. */
  start: number;
  end: number;
  units: { unit: number; score: number; meanIn: number; meanOut: number }[];
}

/** One place in the corpus whose activations match the selected units' on/off pattern. */
export interface MatchResult {
  /** Which corpus file (as the collector names it: workspace-relative path) and where. */
  path: string;
  uri: string;
  /** UTF-16 offset in the file of the first matched token, and the length of the matched text. */
  offset: number;
  length: number;
  line: number;
  character: number;
  score: number;
  /** The matched tokens with a few tokens of context either side. */
  tokens: string[];
  /** Index in `tokens` of the first matched token, and how many matched. */
  matchStart: number;
  matchLength: number;
  /** The selected units' values over `tokens`, [tokens.length * units], for the miniature heatmap. */
  values: Float32Array;
}

/** Per layer and gate: each unit's fraction of time left-saturated (< 0.1) and right-saturated (> 0.9). */
export interface SaturationLayer {
  layer: number;
  gates: { name: QuantityName; left: Float32Array; right: Float32Array }[];
}
