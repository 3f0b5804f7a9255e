// Parity with PyTorch (Debian's PyTorch 1.13 for /usr/bin/python3; the script is test/python/torch_parity.py).
// For each cell (rnn, lstm, gru), 2 layers, no dropout:
//  - GateScope → PyTorch: a checkpoint written by encodeCheckpoint loads into
//      embedding = nn.Embedding(V, E); rnn = nn.RNN/LSTM/GRU(E, H, num_layers=2); decoder = nn.Linear(H, V)
//    with load_state_dict(strict=True) and gives the same logits, loss and parameter gradients on one
//    window, and the same losses and parameters after 5 steps of clip_grad_norm_ + Adam on consecutive
//    windows with the recurrent state carried across them;
//  - PyTorch → GateScope: a state dict with PyTorch's own init, saved without GateScope metadata, loads
//    with decodeCheckpoint (config inferred from the shapes) and gives the same logits.
// Tolerances are the acceptance criteria; do not loosen them.

import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { CellType, ModelConfig, OptimConfig, gateCount } from '../kernels/config';
import { decodeCheckpoint, encodeCheckpoint } from '../kernels/checkpoint';
import { CpuBackend } from '../kernels/cpu/backend';
import { CpuModel, zeroState } from '../kernels/cpu/model';
import { ParamMap, cloneParams, initParams, paramSpecs } from '../kernels/params';
import { Rng } from '../kernels/rng';
import { decodeSafetensors, SafetensorsTensor } from '../kernels/safetensors';
import { maxAbsDiff, sizeOf } from '../kernels/tensor';
import { skipOrFailUnderCI } from './ci';

/** The interpreter that has torch (the first `python3` on PATH may not). */
const PYTHON = '/usr/bin/python3';
const INSTALL_HINT = 'apt-get install python3-torch python3-numpy libopenblas0-pthread';

// Sizes deliberately not multiples of 4, so stride or tiling mistakes show.
const V = 17, E = 9, H = 13, L = 2, T = 7, B = 3;
const STEPS = 5;
const OPTIM: OptimConfig = { learningRate: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, clipNorm: 0.28 };
// The clip is below most windows' gradient norm (0.25 to 0.63 here), so clipping happens on most steps
// (the script fails unless it happens at least once) and a few steps run unclipped.

const TOL = {
  logits: 1e-4,     // max abs diff
  loss: 1e-5,       // abs diff
  gradRel: 1e-3,    // max |g_ours - g_torch| / max |g_torch|, per tensor
  trainParams: 1e-4, // max abs diff after STEPS Adam steps
  trainLoss: 1e-4,  // abs diff per step
};

const CELLS: CellType[] = ['rnn', 'lstm', 'gru'];

function configOf(cell: CellType): ModelConfig {
  return { cell, vocabSize: V, embedSize: E, hiddenSize: H, numLayers: L, dropout: 0 };
}

function findScript(): string {
  const candidates = [
    path.resolve(__dirname, '..', '..', 'test', 'python', 'torch_parity.py'), // from out/test
    path.resolve(__dirname, 'python', 'torch_parity.py'), // run from test/ directly
  ];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`test/python/torch_parity.py not found (looked at ${candidates.join(', ')})`);
  return found;
}

/** Why PyTorch cannot be used, or undefined when it can. */
function torchProblem(): string | undefined {
  if (!fs.existsSync(PYTHON)) return `${PYTHON} does not exist`;
  const r = spawnSync(PYTHON, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) return `${PYTHON} could not be run: ${r.error.message}`;
  if (r.status !== 0) return `${PYTHON} cannot import torch and numpy: ${r.stderr.trim().split('\n').slice(-1)[0] ?? `exit status ${r.status}`}`;
  return undefined;
}

interface Windows {
  x: Int32Array[];
  y: Int32Array[];
}

/**
 * STEPS consecutive windows of B contiguous token streams (char-rnn layout): stream b is
 * tok[b*Ls .. b*Ls + Ls), window s holds x[t*B + b] = stream_b[s*T + t], y = the next token.
 */
function makeWindows(seed: number): Windows {
  const rng = new Rng(seed);
  const Ls = STEPS * T + 1;
  const tok = Array.from({ length: B * Ls }, () => rng.int(V));
  const x: Int32Array[] = [];
  const y: Int32Array[] = [];
  for (let s = 0; s < STEPS; s++) {
    const xs = new Int32Array(T * B);
    const ys = new Int32Array(T * B);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        xs[t * B + b] = tok[b * Ls + s * T + t];
        ys[t * B + b] = tok[b * Ls + s * T + t + 1];
      }
    }
    x.push(xs);
    y.push(ys);
  }
  return { x, y };
}

/** The windows as little-endian int32: for each window x [T*B] then y [T*B]. */
function tokenFile(w: Windows): Buffer {
  const buf = Buffer.alloc(STEPS * 2 * T * B * 4);
  let o = 0;
  for (let s = 0; s < STEPS; s++) {
    for (const a of [w.x[s], w.y[s]]) for (const id of a) o = buf.writeInt32LE(id, o);
  }
  return buf;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function fmt(x: number): string {
  return x.toExponential(2);
}

/** Runs the Python script on `job` (written as JSON into `dir`); returns the tensors it wrote to job.out. */
function runTorch(script: string, dir: string, job: Record<string, unknown>): Map<string, SafetensorsTensor> {
  const jobPath = path.join(dir, `job-${job.mode}-${job.cell}.json`);
  fs.writeFileSync(jobPath, JSON.stringify(job));
  const t0 = Date.now();
  const r = spawnSync(PYTHON, [script, jobPath], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
  });
  const secs = (Date.now() - t0) / 1000;
  assert.ok(!r.error, `could not run ${PYTHON} ${script}: ${r.error?.message}`);
  assert.strictEqual(r.status, 0, `${PYTHON} ${script} (${job.mode}, ${job.cell}) exited with ${r.status ?? r.signal}:\n${r.stderr}${r.stdout}`);
  assert.ok(fs.existsSync(job.out as string), `the PyTorch script wrote no results file:\n${r.stderr}${r.stdout}`);
  const res = decodeSafetensors(new Uint8Array(fs.readFileSync(job.out as string)), { what: 'PyTorch results' });
  console.log(`    (PyTorch ${job.mode} run for ${job.cell}: ${secs.toFixed(1)} s)`);
  return res.tensors;
}

/** Tensor `name` from the results, asserting it is there with `count` finite values. */
function need(res: Map<string, SafetensorsTensor>, name: string, count: number): Float32Array {
  const t = res.get(name);
  assert.ok(t, `PyTorch results lack tensor "${name}" (have ${[...res.keys()].join(', ')})`);
  assert.strictEqual(t.data.length, count, `PyTorch tensor "${name}" has ${t.data.length} values, expected ${count}`);
  return t.data;
}

/** A copy of params with weight_ih_l0's first two gate blocks swapped (RNN: its first two rows). */
function swappedGates(cell: CellType, params: ParamMap): ParamMap {
  const p = cloneParams(params, 'f32');
  const w = p.get('rnn.weight_ih_l0')!;
  const rows = gateCount(cell) > 1 ? H : 1;
  const a = w.slice(0, rows * E);
  w.copyWithin(0, rows * E, 2 * rows * E);
  w.set(a, rows * E);
  return p;
}

describe('PyTorch parity (nn.RNN / nn.LSTM / nn.GRU, 2 layers)', function () {
  this.timeout(120_000);
  let dir = '';
  let script = '';
  const windows = makeWindows(12345);
  const tokensPath = () => path.join(dir, 'tokens.i32');

  before(function () {
    const problem = torchProblem();
    if (problem !== undefined) {
      const msg = `PyTorch parity needs PyTorch for ${PYTHON}: ${problem}. Install it with: ${INSTALL_HINT}`;
      skipOrFailUnderCI(this, msg);
    }
    script = findScript();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatescope-torch-parity-'));
    fs.writeFileSync(tokensPath(), tokenFile(windows));
  });

  after(function () {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  CELLS.forEach((cell, ci) => {
    it(`${cell}: a GateScope export loads in PyTorch (strict) with the same logits, loss, gradients and ${STEPS} clipped Adam steps`, function () {
      const config = configOf(cell);
      const params = initParams(config, 1000 + ci);
      const weights = path.join(dir, `gatescope-${cell}.safetensors`);
      fs.writeFileSync(weights, encodeCheckpoint({ config, params, step: 0 }));
      const out = path.join(dir, `check-${cell}.safetensors`);
      const res = runTorch(script, dir, {
        mode: 'check', cell, vocab: V, embed: E, hidden: H, layers: L, T, B,
        tokens: tokensPath(), out, weights, steps: STEPS, lr: OPTIM.learningRate, clip: OPTIM.clipNorm,
      });
      const specs = paramSpecs(config);

      // 1-2. Forward, loss and gradients on window 0 from a zero state.
      const model = new CpuModel(config, params);
      const logits = model.forward(windows.x[0], T, B, zeroState(config, B), { train: true }).slice();
      const loss = model.lossAndBackward(windows.y[0]);
      const tLogits = need(res, 'logits', T * B * V);
      const tLoss = need(res, 'loss', 1)[0];
      assert.ok(maxAbs(tLogits) > 0.05, `PyTorch logits are trivial (max |logit| ${maxAbs(tLogits)})`);
      assert.ok(Number.isFinite(loss) && loss > 0.5, `loss ${loss} is not a plausible cross-entropy`);
      const dLogits = maxAbsDiff(logits, tLogits);
      const dLoss = Math.abs(loss - tLoss);

      let worstGrad = { name: '', rel: 0 };
      const gradFailures: string[] = [];
      for (const s of specs) {
        const tg = need(res, `grad.${s.name}`, sizeOf(s.shape));
        const og = model.grads.get(s.name)!;
        const scale = maxAbs(tg);
        assert.ok(scale > 1e-6, `PyTorch gradient of ${s.name} is (almost) all zero (max ${scale}): the check would be vacuous`);
        assert.ok(maxAbs(og) > 0, `our gradient of ${s.name} is all zero`);
        const rel = maxAbsDiff(og, tg) / scale;
        if (!(rel <= worstGrad.rel)) worstGrad = { name: s.name, rel: Number.isNaN(rel) ? Infinity : rel };
        if (!(rel < TOL.gradRel)) gradFailures.push(`${s.name}: ${fmt(rel)}`);
      }

      // Negative control: the tolerance must tell a gate-order mix-up apart.
      const broken = new CpuModel(config, swappedGates(cell, params));
      const dBroken = maxAbsDiff(broken.forward(windows.x[0], T, B, zeroState(config, B), { train: false }), tLogits);

      // 3. STEPS training steps: clip_grad_norm_ + Adam, state carried across consecutive windows.
      const backend = new CpuBackend(config, params, OPTIM);
      const losses: number[] = [];
      const norms: number[] = [];
      for (let s = 0; s < STEPS; s++) {
        const r = backend.trainStepSync(windows.x[s], windows.y[s], T, B, { resetState: s === 0 });
        losses.push(r.loss);
        norms.push(r.gradNorm);
      }
      const tLosses = need(res, 'train_losses', STEPS);
      const tNorms = need(res, 'train_norms', STEPS);
      const dTrainLoss = maxAbsDiff(losses, tLosses);
      const dNormRel = maxAbsDiff(norms, tNorms) / maxAbs(tNorms);
      let worstParam = { name: '', diff: 0 };
      const paramFailures: string[] = [];
      for (const s of specs) {
        const tp = need(res, `final.${s.name}`, sizeOf(s.shape));
        const op = backend.model.params.get(s.name)!;
        const moved = maxAbsDiff(tp, params.get(s.name)!);
        assert.ok(moved > 1e-3, `PyTorch's ${s.name} barely moved in ${STEPS} steps (max ${moved}): the check would be vacuous`);
        const d = maxAbsDiff(op, tp);
        if (!(d <= worstParam.diff)) worstParam = { name: s.name, diff: Number.isNaN(d) ? Infinity : d };
        if (!(d < TOL.trainParams)) paramFailures.push(`${s.name}: ${fmt(d)}`);
      }

      console.log(
        `    ${cell}: logits ${fmt(dLogits)} (tol ${TOL.logits}), loss ${fmt(dLoss)} (tol ${TOL.loss}), ` +
          `worst grad rel ${fmt(worstGrad.rel)} in ${worstGrad.name} (tol ${TOL.gradRel}); gate-swapped model: logits ${fmt(dBroken)}\n` +
          `    ${cell}: after ${STEPS} Adam steps: worst param ${fmt(worstParam.diff)} in ${worstParam.name} (tol ${TOL.trainParams}), ` +
          `losses ${fmt(dTrainLoss)} (tol ${TOL.trainLoss}), grad norms rel ${fmt(dNormRel)}; ` +
          `norms ${norms.map((n) => n.toFixed(3)).join(' ')} vs clip ${OPTIM.clipNorm}`,
      );

      assert.ok(dLogits < TOL.logits, `${cell}: logits differ by ${dLogits} (tolerance ${TOL.logits})`);
      assert.ok(dLoss < TOL.loss, `${cell}: loss ${loss} vs PyTorch ${tLoss}, diff ${dLoss} (tolerance ${TOL.loss})`);
      assert.deepStrictEqual(gradFailures, [], `${cell}: gradients differ beyond ${TOL.gradRel} (relative to max |g|)`);
      assert.ok(dBroken > 10 * TOL.logits, `${cell}: swapping gate blocks changed the logits by only ${dBroken}: the comparison cannot tell`);
      assert.ok(norms.some((n) => n > OPTIM.clipNorm), `${cell}: our gradient norms ${norms} never exceeded the clip ${OPTIM.clipNorm}`);
      assert.ok(dTrainLoss < TOL.trainLoss, `${cell}: training losses differ: ours ${losses}, PyTorch ${Array.from(tLosses)}`);
      assert.deepStrictEqual(paramFailures, [], `${cell}: parameters after ${STEPS} Adam steps differ beyond ${TOL.trainParams}`);
      assert.ok(dNormRel < 1e-4, `${cell}: gradient norms before clipping differ: ours ${norms}, PyTorch ${Array.from(tNorms)}`);
    });

    it(`${cell}: a PyTorch-initialised state dict without GateScope metadata loads in GateScope with the same logits`, function () {
      const weights = path.join(dir, `torch-${cell}.safetensors`);
      const out = path.join(dir, `init-${cell}.safetensors`);
      // What safetensors.torch.save_file writes ({"format": "pt"}) for one cell, no metadata at all for the others.
      const metadata = cell === 'gru' ? { format: 'pt' } : null;
      const res = runTorch(script, dir, {
        mode: 'init', cell, vocab: V, embed: E, hidden: H, layers: L, T, B,
        tokens: tokensPath(), out, seed: 7 + ci, weights_out: weights, metadata,
      });
      assert.ok(fs.existsSync(weights), 'PyTorch wrote no state dict');
      const bytes = new Uint8Array(fs.readFileSync(weights));
      const md = decodeSafetensors(bytes).metadata;
      assert.ok(!('config' in md) && !String(md.format ?? '').startsWith('gatescope'), `the PyTorch file carries GateScope metadata: ${JSON.stringify(md)}`);

      const ck = decodeCheckpoint(bytes, 'PyTorch state dict');
      assert.deepStrictEqual(ck.config, configOf(cell), 'config inferred from the PyTorch shapes');
      const tLogits = need(res, 'logits', T * B * V);
      assert.ok(maxAbs(tLogits) > 0.05, `PyTorch logits are trivial (max |logit| ${maxAbs(tLogits)})`);
      const model = new CpuModel(ck.config, ck.params);
      const logits = model.forward(windows.x[0], T, B, zeroState(ck.config, B), { train: false });
      const d = maxAbsDiff(logits, tLogits);
      const broken = new CpuModel(ck.config, swappedGates(cell, ck.params));
      const dBroken = maxAbsDiff(broken.forward(windows.x[0], T, B, zeroState(ck.config, B), { train: false }), tLogits);
      console.log(`    ${cell}: PyTorch init → GateScope logits ${fmt(d)} (tol ${TOL.logits}); gate-swapped model: ${fmt(dBroken)}`);
      assert.ok(d < TOL.logits, `${cell}: logits of the PyTorch-initialised model differ by ${d} (tolerance ${TOL.logits})`);
      assert.ok(dBroken > 10 * TOL.logits, `${cell}: swapping gate blocks changed the logits by only ${dBroken}: the comparison cannot tell`);
    });
  });
});
