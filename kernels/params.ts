// Parameter names, shapes and initialisation. Names, shapes and gate order are PyTorch's, for a module
//   embedding = nn.Embedding(V, E); rnn = nn.LSTM/GRU/RNN(E, H, L); decoder = nn.Linear(H, V)
// so a GateScope checkpoint is a state dict that `load_state_dict(strict=True)` takes as it is.

import { ModelConfig, gateCount } from './config';
import { Rng } from './rng';
import { DType, Vec, alloc, sizeOf } from './tensor';

export interface ParamSpec {
  name: string;
  shape: number[];
}

export function layerParamNames(l: number) {
  return {
    wih: `rnn.weight_ih_l${l}`,
    whh: `rnn.weight_hh_l${l}`,
    bih: `rnn.bias_ih_l${l}`,
    bhh: `rnn.bias_hh_l${l}`,
  };
}

/** Every parameter tensor of the model, in a fixed order (the order of PyTorch's state_dict). */
export function paramSpecs(c: ModelConfig): ParamSpec[] {
  const G = gateCount(c.cell);
  const H = c.hiddenSize;
  const specs: ParamSpec[] = [{ name: 'embedding.weight', shape: [c.vocabSize, c.embedSize] }];
  for (let l = 0; l < c.numLayers; l++) {
    const I = l === 0 ? c.embedSize : H;
    const n = layerParamNames(l);
    specs.push({ name: n.wih, shape: [G * H, I] });
    specs.push({ name: n.whh, shape: [G * H, H] });
    specs.push({ name: n.bih, shape: [G * H] });
    specs.push({ name: n.bhh, shape: [G * H] });
  }
  specs.push({ name: 'decoder.weight', shape: [c.vocabSize, H] });
  specs.push({ name: 'decoder.bias', shape: [c.vocabSize] });
  return specs;
}

export type ParamMap = Map<string, Vec>;

export function allocParams(c: ModelConfig, dtype: DType): ParamMap {
  const m: ParamMap = new Map();
  for (const s of paramSpecs(c)) m.set(s.name, alloc(dtype, sizeOf(s.shape)));
  return m;
}

/**
 * PyTorch's default initialisation: embedding N(0, 1); recurrent weights and biases
 * U(-1/sqrt(H), 1/sqrt(H)); decoder U(-1/sqrt(H), 1/sqrt(H)). The LSTM forget-gate bias starts at 1:
 * bias_ih's f block is set to 1 and bias_hh's f block to 0, so the effective bias is exactly 1.
 */
export function initParams(c: ModelConfig, seed: number, dtype: DType = 'f32'): ParamMap {
  const rng = new Rng(seed);
  const p = allocParams(c, dtype);
  const H = c.hiddenSize;
  const k = 1 / Math.sqrt(H);
  for (const s of paramSpecs(c)) {
    const a = p.get(s.name)!;
    if (s.name === 'embedding.weight') {
      for (let i = 0; i < a.length; i++) a[i] = rng.normal();
    } else {
      for (let i = 0; i < a.length; i++) a[i] = rng.uniform(-k, k);
    }
  }
  if (c.cell === 'lstm') {
    for (let l = 0; l < c.numLayers; l++) {
      const n = layerParamNames(l);
      p.get(n.bih)!.fill(1, H, 2 * H);
      p.get(n.bhh)!.fill(0, H, 2 * H);
    }
  }
  return p;
}

export function cloneParams(p: ParamMap, dtype?: DType): ParamMap {
  const out: ParamMap = new Map();
  for (const [k, v] of p) {
    const d = dtype ?? (v instanceof Float64Array ? 'f64' : 'f32');
    const a = alloc(d, v.length);
    a.set(v);
    out.set(k, a);
  }
  return out;
}
