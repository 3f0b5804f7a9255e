// `gatescope activations`: one layer's hidden state, cell and gates after each token of a text.

import { gateCount } from '../kernels/config';
import { check } from '../kernels/errors';
import { LayerTrace } from '../kernels/infer';
import { int, parse } from './args';
import { TEXT_OPTIONS, loadForText } from './textInput';

export const ACTIVATIONS_USAGE = `Activations options:
  --text TEXT, --file PATH the text fed to the model (one of the two)
  --layer L                layer to show, from 0 (default 0)
  --json                   print {"layer", "tokens", "hidden", "cell", "gates"}, one row of H
                           values per token: hidden is h, cell the LSTM's c (else null), gates
                           maps LSTM i f g o or GRU r z n to their rows (null for the RNN);
                           without --json, a summary: the mean |h| after each token`;

/** Most activation values (tokens × values per token) printed, to keep the output printable. */
const MAX_ACTIVATION_VALUES = 4_000_000;

export async function activationsCommand(argv: string[]): Promise<void> {
  const { values: o, positionals } = parse(argv, { ...TEXT_OPTIONS, layer: { type: 'string' } } as const);
  const { ck, ids, labels, session } = await loadForText(positionals, o, 'usage: gatescope activations CHECKPOINT (--text TEXT | --file PATH) [--layer L] [--json]');
  const { cell, hiddenSize: H, numLayers } = ck.config;
  const layer = int(o, 'layer', 0, 0, numLayers - 1);
  const perToken = H * (1 + (cell === 'lstm' ? 1 : 0) + (cell === 'rnn' ? 0 : gateCount(cell)));
  const maxTokens = Math.floor(MAX_ACTIVATION_VALUES / perToken);
  check(ids.length <= maxTokens, `the text is ${ids.length} tokens; activations prints at most ${maxTokens} tokens for this model, give a shorter text`);
  const trace = session.trace(session.newState(), ids, layer);
  const T = ids.length;
  if (o.json) {
    process.stdout.write(JSON.stringify({
      layer,
      tokens: labels,
      hidden: rows(trace.hidden, T, H),
      cell: trace.cell ? rows(trace.cell, T, H) : null,
      gates: gatesByName(trace, T, H),
    }) + '\n');
    return;
  }
  process.stdout.write(`layer ${layer} of ${numLayers} (${cell.toUpperCase()}, hidden ${H}), ${T} token(s); mean |h| after each token:\n`);
  for (let t = 0; t < T; t++) {
    let sum = 0;
    for (let j = 0; j < H; j++) sum += Math.abs(trace.hidden[t * H + j]);
    process.stdout.write(`  ${(sum / H).toFixed(4)}  ${JSON.stringify(labels[t])}\n`);
  }
}

/** Splits [T*W] values into T rows of W plain numbers. */
function rows(values: Float32Array, T: number, W: number): number[][] {
  return Array.from({ length: T }, (_, t) => Array.from(values.subarray(t * W, (t + 1) * W)));
}

/** The trace's gates as { name: T rows of H }, or null for the RNN. */
function gatesByName(trace: LayerTrace, T: number, H: number): Record<string, number[][]> | null {
  if (!trace.gates) return null;
  const { names, values } = trace.gates;
  const G = names.length;
  const out: Record<string, number[][]> = {};
  names.forEach((name, g) => {
    out[name] = Array.from({ length: T }, (_, t) => Array.from(values.subarray((t * G + g) * H, (t * G + g + 1) * H)));
  });
  return out;
}
