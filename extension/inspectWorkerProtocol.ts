// The messages between the extension host and the inspector worker (extension/inspectWorker.ts). Both
// ends are our own code in one process, so these are plain typed messages (the webview's messages,
// which cross a trust boundary, are checked in webview/protocol.ts instead). Typed arrays travel in
// transfer lists (`transferList`), never as JSON arrays. Every request carries an id that its reply
// echoes, and the model key it was made for: a worker holding another model answers `stale`.

import { CorpusSource } from '../kernels/inspect/match';
import { InspectResult, MatchResult, ProbeResult, QuantityName, SaturationLayer, UnitRef } from '../kernels/inspect/types';

/** What the editor shows: UTF-16 offsets in the document's text. */
export interface EditorView {
  selection: { start: number; end: number } | null;
  visible: { start: number; end: number };
  cursor: number;
}

/** The plan the worker inspected (kernels/inspect/window.ts planInspection's answer). */
export interface InspectPlan {
  start: number;
  end: number;
  primeStart: number;
  selection: { start: number; end: number } | null;
  notice: string;
}

export type ToInspectWorker =
  /** Use this model from now on (bytes of a checkpoint the host's ModelStore has checked). */
  | { type: 'model'; key: string; bytes: Uint8Array }
  | { type: 'inspect'; id: number; modelKey: string; text: string; view: EditorView }
  /** One unit's values over the tokens of the visible range, with their colours (at this opacity) on the panel's scale. */
  | { type: 'unitValues'; id: number; modelKey: string; text: string; view: EditorView; unit: UnitRef; alpha: number }
  | { type: 'match'; id: number; modelKey: string; corpusKey: string; corpus: CorpusSource; layer: number; quantity: QuantityName; units: number[]; threshold: number; length: number }
  | { type: 'cancel'; id: number }
  /** Gate saturation over a sample of this text (the workspace's corpus). */
  | { type: 'saturation'; id: number; modelKey: string; text: string }
  | { type: 'sample'; id: number; modelKey: string; prompt: string; temperature: number; length: number; seed: number };

export type FromInspectWorker =
  | { type: 'inspected'; id: number; plan: InspectPlan; result: InspectResult; probes: ProbeResult[]; ms: number }
  /** values[t], and buckets[t]: the index in `palette` (the scale's colour table) of token t's colour, -1 for none. */
  | { type: 'unitValues'; id: number; windowStart: number; offsets: Int32Array; values: Float32Array; buckets: Int16Array; palette: string[]; ms: number }
  | { type: 'matchProgress'; id: number; doneTokens: number; totalTokens: number }
  | { type: 'matched'; id: number; results: MatchResult[]; tokensSearched: number; seconds: number; cached: boolean; cancelled: boolean }
  | { type: 'saturation'; id: number; tokens: number; layers: SaturationLayer[] }
  | { type: 'sampled'; id: number; tokens: string[]; probs: Float32Array }
  /** The request failed; `stale` when the worker holds another model than the request was made for. */
  | { type: 'error'; id: number; message: string; stale: boolean };

/** The buffers of a reply's typed arrays, to transfer rather than copy (each buffer once). */
export function transferList(msg: FromInspectWorker): ArrayBuffer[] {
  const arrays: ArrayBufferView[] = [];
  switch (msg.type) {
    case 'inspected':
      arrays.push(msg.result.offsets, msg.result.surprisal, msg.result.nextProb, msg.result.topProbs);
      for (const l of msg.result.layers) arrays.push(...l.values);
      for (const p of msg.probes) arrays.push(p.values);
      break;
    case 'unitValues':
      arrays.push(msg.offsets, msg.values, msg.buckets);
      break;
    case 'matched':
      for (const r of msg.results) arrays.push(r.values);
      break;
    case 'saturation':
      for (const l of msg.layers) for (const g of l.gates) arrays.push(g.left, g.right);
      break;
    case 'sampled':
      arrays.push(msg.probs);
      break;
    default:
      break;
  }
  const seen = new Set<ArrayBuffer>();
  for (const a of arrays) if (a.buffer instanceof ArrayBuffer) seen.add(a.buffer);
  return [...seen];
}
