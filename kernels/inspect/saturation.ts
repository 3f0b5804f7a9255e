// Gate saturation, as in Karpathy, Johnson and Fei-Fei (2015), figure 3: for every gate unit, the share of
// tokens at which it is left-saturated (activation < 0.1) and right-saturated (> 0.9). The inspector
// plots one against the other per layer and gate: a forget gate unit near the right edge remembers, one
// near the left forgets, and units in the corner saturate both ways. Pure; computed over the inspected
// text in the webview, or over a corpus sample in the worker.
//
// Only the sigmoid gates take part, as in the paper: the LSTM's i, f and o and the GRU's r and z. The
// LSTM's g and the GRU's n are tanh candidates (-1 to 1), not gates that open and close, and the RNN
// has no gates, so its layers come back with an empty gate list.

import { check } from '../errors';
import { InspectLayer, QuantityName, SaturationLayer } from './types';

/** The gates that saturate: sigmoid activations from 0 to 1. */
export const SATURATING_GATES: readonly QuantityName[] = ['i', 'f', 'o', 'r', 'z'];
export const LEFT_SATURATED = 0.1;
export const RIGHT_SATURATED = 0.9;

/**
 * Per layer, per sigmoid gate, per unit: the share of the T tokens with activation < 0.1 (left) and
 * > 0.9 (right). With no tokens (T = 0) every share is NaN (nothing to count), which the plot leaves out.
 */
export function gateSaturation(layers: InspectLayer[], T: number, H: number): SaturationLayer[] {
  check(Number.isInteger(T) && T >= 0 && Number.isInteger(H) && H >= 1, `gate saturation needs a whole number of tokens and at least one unit, got T=${T}, H=${H}`);
  return layers.map((layer, l) => {
    check(layer.names.length === layer.values.length, `gate saturation: layer ${l} has ${layer.names.length} quantity names for ${layer.values.length} arrays`);
    const gates: SaturationLayer['gates'] = [];
    layer.names.forEach((name, k) => {
      if (!SATURATING_GATES.includes(name)) return;
      const v = layer.values[k];
      check(v.length === T * H, `gate saturation: layer ${l} gate ${name} has ${v.length} values, expected ${T * H} (${T} tokens × ${H} units)`);
      const lo = new Int32Array(H), hi = new Int32Array(H);
      for (let t = 0; t < T; t++) {
        const row = t * H;
        for (let u = 0; u < H; u++) {
          const x = v[row + u];
          if (x < LEFT_SATURATED) lo[u]++;
          else if (x > RIGHT_SATURATED) hi[u]++;
        }
      }
      const left = new Float32Array(H), right = new Float32Array(H);
      for (let u = 0; u < H; u++) {
        left[u] = lo[u] / T;
        right[u] = hi[u] / T;
      }
      gates.push({ name, left, right });
    });
    return { layer: l, gates };
  });
}
