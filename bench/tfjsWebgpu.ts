/**
 * TensorFlow.js WebGPU baseline for the GateScope benchmark: training throughput of the benchmark
 * models on `@tensorflow/tfjs-backend-webgpu` (4.22) in Node, on the Dawn device of the `webgpu`
 * npm package (kernels/node/webgpu.ts; SwiftShader's Vulkan driver on a machine without a GPU).
 *
 * Set-up (initTfjsWebgpu): createNodeGpuContext() installs the WebGPU globals (GPUBufferUsage, ...)
 * and keeps the Dawn `create([])` object referenced for the life of the process (it crashes when
 * that object is garbage-collected); its GPU object is exposed as `navigator.gpu` BEFORE
 * tfjs-backend-webgpu is loaded, because the package registers its backend at load time only when
 * `navigator.gpu` exists. Then tf.setBackend('webgpu'). TF.js makes its own device on the same
 * adapter; the spare device of createNodeGpuContext is destroyed.
 *
 * Switching backends: this works in the same process as bench/tfjs.ts, before or after its
 * wasm/cpu runs (tf.setBackend in both directions; every benchmark here re-selects 'webgpu').
 * Loading this backend registers 'webgpu' with priority 3, so code that never calls
 * tf.setBackend would now default to it; bench/tfjs.ts always selects its backend explicitly.
 *
 * Model and training step: the same as bench/tfjs.ts's 'hoisted' formulation (embedding as a
 * one-hot matMul, input projection of all T timesteps in one matMul per layer, one decoder matMul
 * over [T*B, H], built-in gradients, PyTorch equations; LSTM gate columns [i, f, o, g], GRU in the
 * PyTorch/cuDNN form n = tanh(W_in x + b_in + r * (W_hn h + b_hn))), softmax cross-entropy mean
 * over B*T, global-norm clipping to 5 on the backend, Adam(2e-3, 0.9, 0.999, 1e-8).
 * The model code is bench/tfjsModel.ts, shared with bench/tfjs.ts;
 * tfjsWebgpuTrainLossesForWeights + bench/tfjs.ts's tfjsTrainLossesForWeights check that both
 * compute the same losses (self-test `--parity`).
 *  - Not used, measured on SwiftShader: folding the per-timestep `xproj_t + h W_hh` into
 *    tf.fused.matMul's bias saves a kernel forward but makes the step 5x slower: the bias
 *    gradient becomes a Sum over the size-1 batch axis of the batched matMul ([1,B,4H] -> [B,4H]),
 *    ~0.5 s per call there. WEBGPU_MATMUL_PROGRAM_TYPE: the default (auto) choice was the
 *    fastest for these shapes (type 0, the reduce program, hangs on SwiftShader).
 *  - Where the time goes (SwiftShader, lstm h128 B32): matMuls, ~25-50 ms each even for
 *    [32,128]x[128,512] (three per timestep with the gradients); elementwise kernels ~0.1-0.4 ms.
 *
 * On SwiftShader (CPU emulation of Vulkan) this is very slow: the first step compiles every
 * shader, and each step is thousands of tiny kernel calls. benchTfjsWebgpuTrain therefore times
 * one untimed warm-up step (reported as firstStepSeconds) and then only a few steps.
 */
import * as tf from '@tensorflow/tfjs';
import { createNodeGpuContext, nodeGpuInstance } from '../kernels/node/webgpu';
import { BenchConfig, BENCH_CLIP, BENCH_LR, BENCH_SEED, configLabel, nowSeconds, randomTokens } from './configs';
import { Model, createModel, disposeModel, gatesOf, loadTorchWeights, oneHotF32, runRnn } from './tfjsModel';

// ---------------------------------------------------------------------------------------------
// Backend set-up
// ---------------------------------------------------------------------------------------------

let initPromise: Promise<{ adapterName: string }> | undefined;

/** Exposes `gpu` as `navigator.gpu` (Node 20 has no navigator; Node 21+ has a read-only one). */
function exposeNavigatorGpu(gpu: GPU): void {
  const g = globalThis as unknown as { navigator?: { gpu?: unknown } };
  if (g.navigator?.gpu === gpu) return;
  if (g.navigator && typeof g.navigator === 'object') {
    try {
      Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
    } catch {
      // fall through: replace navigator below
    }
    if (g.navigator?.gpu === gpu) return;
  }
  try {
    g.navigator = { gpu };
  } catch {
    // read-only accessor (strict mode assignment throws)
  }
  if (g.navigator?.gpu !== gpu) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  }
}

async function doInit(): Promise<{ adapterName: string }> {
  const { ctx, why } = await createNodeGpuContext();
  if (!ctx) throw new Error(`TensorFlow.js WebGPU: ${why}`);
  const adapterName = ctx.adapterName;
  // TF.js requests its own device on the same adapter; this spare one is not needed.
  ctx.device.destroy();
  const gpu = nodeGpuInstance();
  if (!gpu) throw new Error('TensorFlow.js WebGPU: no GPU instance after createNodeGpuContext');
  exposeNavigatorGpu(gpu);
  // Must be loaded only now: it registers the 'webgpu' backend at load time iff navigator.gpu exists.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@tensorflow/tfjs-backend-webgpu');
  if (!tf.findBackendFactory('webgpu')) {
    throw new Error(
      "TensorFlow.js WebGPU: @tensorflow/tfjs-backend-webgpu did not register 'webgpu' " +
        '(was it loaded before navigator.gpu was set? initTfjsWebgpu must load it first)',
    );
  }
  await useWebgpu();
  return { adapterName };
}

/**
 * Loads tfjs-backend-webgpu on this process's Dawn GPU and selects it (tf.setBackend('webgpu'),
 * prod mode, as bench/tfjs.ts does for wasm/cpu). Idempotent; returns the adapter's name.
 */
export async function initTfjsWebgpu(): Promise<{ adapterName: string }> {
  if (!initPromise) {
    initPromise = doInit();
    initPromise.catch(() => {
      initPromise = undefined; // allow a retry after a failure
    });
  }
  const r = await initPromise;
  await useWebgpu(); // re-select it when another backend was selected since
  return r;
}

async function useWebgpu(): Promise<void> {
  tf.enableProdMode();
  const ok = await tf.setBackend('webgpu');
  if (!ok) throw new Error("TensorFlow.js: backend 'webgpu' could not be initialised");
  await tf.ready();
}

interface Trainer {
  /** One training step; resolves to the loss before the update (read back asynchronously). */
  step(): Promise<number>;
  dispose(): void;
}

/** Trainer on one fixed batch (time-major ids x[t*B + b] -> y[t*B + b]); default: the seeded random tokens of bench/tfjs.ts. */
function createTrainer(cfg: BenchConfig, m: Model = createModel(cfg), data?: { x: Int32Array; y: Int32Array }): Trainer {
  const { seq: T, batch: B, vocab: V } = cfg;
  const toks = randomTokens((T + 1) * B, V, BENCH_SEED + 1);
  const xAll = data ? data.x : toks.subarray(0, T * B);
  const yAll = data ? data.y : toks.subarray(B, (T + 1) * B);
  if (xAll.length !== T * B || yAll.length !== T * B) throw new Error(`tfjsWebgpu: x and y need ${T * B} ids`);
  const xOneHot = oneHotF32(xAll, V);
  const yOneHot = oneHotF32(yAll, V);
  const lossFn = (): tf.Scalar => {
    const x = tf.matMul(xOneHot, m.emb) as tf.Tensor2D; // [T*B, E]
    const hs = runRnn(m, x, T, B, true); // [T*B, H]
    const logits = tf.fused.matMul({ a: hs, b: m.wdec, bias: m.bdec });
    return tf.losses.softmaxCrossEntropy(yOneHot, logits) as tf.Scalar; // mean over T*B
  };
  const opt = tf.train.adam(BENCH_LR, 0.9, 0.999, 1e-8);
  return {
    async step(): Promise<number> {
      // tfjs-backend-webgpu does not check for WebGPU errors (Dawn only prints them and drops the
      // failing command buffer): catch them here so that a broken step fails loudly.
      const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
      device?.pushErrorScope('out-of-memory');
      device?.pushErrorScope('validation');
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(lossFn, m.vars);
        // Global-norm clipping (PyTorch clip_grad_norm_: coef = max / (norm + 1e-6), capped at 1).
        // Summed with a chain of adds, not tf.addN: tfjs-backend-webgpu 4.22's AddN binds every
        // input as a storage buffer in ONE shader and does not request a higher
        // maxStorageBuffersPerShaderStage than the default 8, so addN of more than 7 tensors
        // (2 layers: 11 variables) fails validation and its command buffer is dropped silently.
        const names = Object.keys(grads);
        const norm = tf.sqrt(names.map((n) => tf.sum(tf.square(grads[n]))).reduce((a, b) => tf.add(a, b)));
        const scale = tf.minimum(1, tf.div(BENCH_CLIP, tf.add(norm, 1e-6)));
        opt.applyGradients(names.map((n) => ({ name: n, tensor: tf.mul(grads[n], scale) })));
        return value;
      });
      // Asynchronous read-back (readSync from the GPU is discouraged on this backend); it also
      // waits for the step's GPU work to finish.
      const v = (await loss.data())[0];
      loss.dispose();
      if (device) {
        const errs = [await device.popErrorScope(), await device.popErrorScope()].filter((e) => e !== null);
        if (errs.length) throw new Error(`TensorFlow.js webgpu ${configLabel(cfg)}: WebGPU error in a training step: ${errs[0]!.message}`);
      }
      return v;
    },
    dispose(): void {
      opt.dispose();
      xOneHot.dispose();
      yOneHot.dispose();
      disposeModel(m);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Benchmark and parity helper
// ---------------------------------------------------------------------------------------------

export interface TfjsWebgpuTrainOptions {
  /** Timed steps after the warm-up step (default 2; at least 1 is always timed). */
  warmSteps?: number;
  /** Stop timing further steps once the timed steps took this long (default Infinity). */
  maxSeconds?: number;
}

/**
 * Training throughput on TF.js WebGPU: one untimed warm-up step (its time, shader compilation
 * included, is `firstStepSeconds`), then `warmSteps` timed steps, stopping early once the timed
 * steps exceed `maxSeconds` (at least one is timed). tokensPerSecond = B*T*steps / timed seconds.
 * Initialises the backend (initTfjsWebgpu) if needed and leaves 'webgpu' selected.
 */
export async function benchTfjsWebgpuTrain(
  cfg: BenchConfig,
  opts: TfjsWebgpuTrainOptions = {},
): Promise<{ tokensPerSecond: number; firstStepSeconds: number; steps: number }> {
  await initTfjsWebgpu();
  const warmSteps = Math.max(1, opts.warmSteps ?? 2);
  const maxSeconds = opts.maxSeconds ?? Infinity;
  const trainer = createTrainer(cfg);
  const tokens = cfg.batch * cfg.seq;
  try {
    const w0 = nowSeconds();
    const firstLoss = await trainer.step();
    const firstStepSeconds = nowSeconds() - w0;
    if (!Number.isFinite(firstLoss)) throw new Error(`TensorFlow.js webgpu ${configLabel(cfg)}: loss is ${firstLoss}`);
    let steps = 0;
    let seconds = 0;
    const t0 = nowSeconds();
    while (steps < warmSteps && (steps === 0 || seconds < maxSeconds)) {
      await trainer.step();
      steps++;
      seconds = nowSeconds() - t0;
    }
    return { tokensPerSecond: (tokens * steps) / seconds, firstStepSeconds, steps };
  } finally {
    trainer.dispose();
  }
}

/**
 * Parity helper (the counterpart of bench/tfjs.ts's tfjsTrainLossesForWeights): loads PyTorch-layout
 * weights into this module's model, runs `steps` training steps (clip 5, Adam 2e-3) on the fixed
 * batch x -> y (time-major, x[t*B + b]) on `backend` ('webgpu' by default; 'cpu' runs the same
 * code on the cpu backend), and returns the loss before each step.
 */
export async function tfjsWebgpuTrainLossesForWeights(
  cfg: BenchConfig,
  weights: Record<string, Float32Array>,
  x: Int32Array,
  y: Int32Array,
  steps = 1,
  backend: 'webgpu' | 'cpu' = 'webgpu',
): Promise<number[]> {
  if (backend === 'webgpu') await initTfjsWebgpu();
  else {
    tf.enableProdMode();
    if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js: backend '${backend}' could not be initialised`);
    await tf.ready();
  }
  const m = createModel(cfg);
  loadTorchWeights(m, weights);
  const trainer = createTrainer(cfg, m, { x, y });
  try {
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) losses.push(await trainer.step());
    return losses;
  } finally {
    trainer.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Self-test: `node out/bench/tfjsWebgpu.js [--all | --only=0,2] [--parity] [--no-bench] [--warm=N] [--max=S]
//             [--h=H --layers=L --seq=T --batch=B --gru]`
// ---------------------------------------------------------------------------------------------

/** PyTorch-layout random weights (deterministic) for the parity check. */
function torchLayoutWeights(cfg: BenchConfig, seed: number): Record<string, Float32Array> {
  const H = cfg.hidden;
  const G = gatesOf(cfg);
  let s = seed;
  const uni = (n: number, k: number) => {
    const ids = randomTokens(n, 1 << 20, s++);
    return Float32Array.from(ids, (v) => ((v + 0.5) / (1 << 20)) * 2 * k - k);
  };
  const k = 1 / Math.sqrt(H);
  const w: Record<string, Float32Array> = { 'embedding.weight': uni(cfg.vocab * cfg.embed, 1.7) };
  for (let l = 0; l < cfg.layers; l++) {
    const inSize = l === 0 ? cfg.embed : H;
    w[`rnn.weight_ih_l${l}`] = uni(G * H * inSize, k);
    w[`rnn.weight_hh_l${l}`] = uni(G * H * H, k);
    w[`rnn.bias_ih_l${l}`] = uni(G * H, k);
    w[`rnn.bias_hh_l${l}`] = uni(G * H, k);
  }
  w['decoder.weight'] = uni(cfg.vocab * H, k);
  w['decoder.bias'] = uni(cfg.vocab, k);
  return w;
}

async function selfTest(): Promise<void> {
  const { BENCH_CONFIGS } = await import('./configs');
  const tfjsBench = await import('./tfjs');
  const arg = (name: string): string | undefined =>
    process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const warmSteps = Number(arg('warm') ?? 2);
  const maxSeconds = Number(arg('max') ?? 120);
  const parity = process.argv.includes('--parity');
  const noBench = process.argv.includes('--no-bench');
  const lstm = BENCH_CONFIGS.filter((c) => c.cell === 'lstm');
  let cfgs = process.argv.includes('--all') ? lstm : lstm.slice(0, 1);
  if (arg('only')) cfgs = arg('only')!.split(',').map((i) => lstm[Number(i)]); // indices into the lstm configs
  if (arg('h')) {
    cfgs = [
      {
        ...lstm[0],
        cell: process.argv.includes('--gru') ? 'gru' : 'lstm',
        hidden: Number(arg('h')),
        layers: Number(arg('layers') ?? 1),
        seq: Number(arg('seq') ?? lstm[0].seq),
        batch: Number(arg('batch') ?? lstm[0].batch),
      },
    ];
  }

  // Backend switching: select wasm and run an op first (as bench/tfjs.ts would), then webgpu.
  const s0 = nowSeconds();
  await tfjsBench.useTfjsBackend('wasm');
  tf.tidy(() => tf.matMul(tf.ones([4, 4]), tf.ones([4, 4])).dataSync());
  const { adapterName } = await initTfjsWebgpu();
  const probe = tf.tidy(() => tf.matMul(tf.ones([4, 4]), tf.ones([4, 4])));
  const check = await probe.data();
  probe.dispose();
  console.log(
    `tfjs ${tf.version.tfjs}, backend ${tf.getBackend()} on "${adapterName}" (init ${(nowSeconds() - s0).toFixed(1)} s, ` +
      `wasm -> webgpu ok: ${check[0] === 4})`,
  );

  if (!noBench) {
    for (const cfg of cfgs) {
      const before = tf.memory().numTensors;
      const t0 = nowSeconds();
      const r = await benchTfjsWebgpuTrain(cfg, { warmSteps, maxSeconds });
      const mem = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
      console.log(
        `tfjs-webgpu ${configLabel(cfg)}: ${r.tokensPerSecond.toFixed(1)} tok/s over ${r.steps} warm steps ` +
          `(${((cfg.batch * cfg.seq) / r.tokensPerSecond).toFixed(2)} s/step), first step ${r.firstStepSeconds.toFixed(1)} s ` +
          `(total ${(nowSeconds() - t0).toFixed(1)} s; tensors ${before} -> ${mem.numTensors}, GPU bytes ${mem.numBytesInGPU ?? '?'})`,
      );
    }
  }

  if (parity) {
    const cfg = cfgs[0];
    const steps = Number(arg('parity-steps') ?? 3);
    const w = torchLayoutWeights(cfg, 77);
    const toks = randomTokens((cfg.seq + 1) * cfg.batch, cfg.vocab, 4321);
    const x = toks.subarray(0, cfg.seq * cfg.batch);
    const y = toks.subarray(cfg.batch);
    let t0 = nowSeconds();
    const ref = await tfjsBench.tfjsTrainLossesForWeights('cpu', cfg, w, x, y, steps, 'hoisted');
    const refS = nowSeconds() - t0;
    t0 = nowSeconds();
    const gpu = await tfjsWebgpuTrainLossesForWeights(cfg, w, x, y, steps, 'webgpu');
    const gpuS = nowSeconds() - t0;
    const rel = ref.map((v, i) => Math.abs(gpu[i] - v) / Math.abs(v));
    const ok = rel.every((r) => r <= 1e-3);
    console.log(`parity ${configLabel(cfg)} (${steps} Adam steps, bench/tfjs.ts cpu ${refS.toFixed(1)} s, webgpu ${gpuS.toFixed(1)} s):`);
    console.log(`  cpu (bench/tfjs.ts): ${ref.map((v) => v.toFixed(6)).join(' ')}`);
    console.log(`  webgpu (this file):  ${gpu.map((v) => v.toFixed(6)).join(' ')}`);
    console.log(`  max relative difference ${Math.max(...rel).toExponential(2)}: ${ok ? 'OK' : 'MISMATCH'} (tolerance 1e-3)`);
    console.log(`  tensors after: ${tf.memory().numTensors}`);
    if (!ok) process.exitCode = 1;
  }
}

if (require.main === module) {
  selfTest().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
