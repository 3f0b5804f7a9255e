// The CLI on the WebGPU backend: `--backend webgpu` writes the same checkpoint format, and resuming
// it with `--backend cpu` or `--backend wasm` (and back) continues the loss curve exactly where a
// CPU-only run would be; "auto" on a hardware adapter (here any adapter, GATESCOPE_PROBE_ANY_ADAPTER=1)
// times a few steps on WebGPU and on wasm, prints both figures and trains on the faster.

import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { decodeCheckpoint } from '../kernels/checkpoint';
import { spawnSync } from 'child_process';
import { CLI, runCli } from './cliRun';
import { PROBE_TIE_RATIO } from '../kernels/backendChoice';

function runWithEnv(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 300000, env: { ...process.env, GATESCOPE_DEBUG: '', ...env } });
  assert.ok(!r.error, `CLI did not finish: ${r.error}`);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
import { requireGpu } from './gpuContext';


const bpc = (s: string) => Number(/validation: ([\d.]+) bits per character/.exec(s)![1]);

function run(args: string[], env: Record<string, string> = {}) {
  const r = Object.keys(env).length ? runWithEnv(args, env) : runCli(args, 300000);
  assert.strictEqual(r.code, 0, r.stderr);
  return r;
}

describe('cli --backend webgpu', function () {
  this.timeout(600000);
  let tmp: string;
  before(async function () {
    await requireGpu(this);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gatescope-cli-gpu-'));
  });
  after(() => tmp && fs.rmSync(tmp, { recursive: true, force: true }));

  it('trains on WebGPU, resumes on the CPU, and lands where a CPU-only run lands', () => {
    const dir = path.join(tmp, 'src');
    fs.mkdirSync(dir);
    // 160 characters, half held out: 80 training tokens = exactly 4 windows of 8 × 2, so step 5
    // starts a new epoch (state reset) in both runs and the two curves must agree step for step.
    const line = 'let a = b + c;\n';
    fs.writeFileSync(path.join(dir, 'a.js'), (line.repeat(11) + 'x = 1;;;').slice(0, 159));
    const common = ['--hidden', '12', '--embed', '6', '--seq', '8', '--batch', '2', '--val-fraction', '0.5', '--eval-every', '1000', '--sample-length', '0', '--quiet', '--lr', '0.01'];
    const gpuOut = path.join(tmp, 'gpu.safetensors');
    const a = run(['train', dir, '--backend', 'webgpu', '--steps', '4', '--out', gpuOut, ...common]);
    assert.match(a.stderr, /WebGPU adapter: /);
    const ck = decodeCheckpoint(fs.readFileSync(gpuOut));
    assert.strictEqual(ck.step, 4);
    const b = run(['train', dir, '--backend', 'cpu', '--steps', '8', '--resume', gpuOut, '--out', gpuOut, ...common]);
    assert.match(b.stderr, /resuming .* at step 4/);
    const cpuOut = path.join(tmp, 'cpu.safetensors');
    const c = run(['train', dir, '--backend', 'cpu', '--steps', '8', '--out', cpuOut, ...common]);
    console.log(`      webgpu 4 steps + cpu 4 steps: ${bpc(b.stdout)} bpc; cpu 8 steps: ${bpc(c.stdout)} bpc`);
    assert.ok(Math.abs(bpc(b.stdout) - bpc(c.stdout)) <= 2e-3 * bpc(c.stdout), `${bpc(b.stdout)} vs ${bpc(c.stdout)}`);
    assert.strictEqual(decodeCheckpoint(fs.readFileSync(gpuOut)).step, 8);

    // webgpu 4 → wasm to 8 → webgpu to 12, against cpu for 12.
    const mixed = path.join(tmp, 'mixed.safetensors');
    run(['train', dir, '--backend', 'webgpu', '--steps', '4', '--out', mixed, ...common]);
    const w = run(['train', dir, '--backend', 'wasm', '--threads', '2', '--steps', '8', '--resume', '--out', mixed, ...common]);
    assert.match(w.stderr, /resuming .* at step 4/);
    assert.match(w.stderr, /; backend wasm \(WebAssembly SIMD, 2 threads/);
    const g = run(['train', dir, '--backend', 'webgpu', '--steps', '12', '--resume', '--out', mixed, ...common]);
    assert.match(g.stderr, /resuming .* at step 8/);
    assert.match(g.stderr, /trained 4 steps .* step 12 in all/);
    const c12 = run(['train', dir, '--backend', 'cpu', '--steps', '12', '--out', path.join(tmp, 'cpu12.safetensors'), ...common]);
    console.log(`      webgpu 4 + wasm 4 + webgpu 4: ${bpc(g.stdout)} bpc; cpu 12 steps: ${bpc(c12.stdout)} bpc`);
    assert.ok(Math.abs(bpc(g.stdout) - bpc(c12.stdout)) <= 2e-3 * bpc(c12.stdout), `${bpc(g.stdout)} vs ${bpc(c12.stdout)}`);
    assert.strictEqual(decodeCheckpoint(fs.readFileSync(mixed)).step, 12);
  });

  it('auto on a hardware adapter times both engines, prints both figures and trains on the faster', () => {
    const dir = path.join(tmp, 'auto-src');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'a.js'), 'let a = b + c;\n'.repeat(40));
    const common = ['--hidden', '12', '--embed', '6', '--seq', '8', '--batch', '2', '--val-fraction', '0.5', '--eval-every', '1000', '--sample-length', '0', '--quiet', '--threads', '1'];
    const r = run(['train', dir, '--steps', '2', '--out', path.join(tmp, 'auto.safetensors'), ...common], { GATESCOPE_PROBE_ANY_ADAPTER: '1' });
    const m = /^backend: timed probe: WebGPU \((.+)\) ([\d.]+) ms\/step, WebAssembly SIMD with 1 thread ([\d.]+) ms\/step: (.*)$/m.exec(r.stderr);
    assert.ok(m, `no probe line with both figures: ${r.stderr}`);
    const [gpuMs, wasmMs] = [Number(m[2]), Number(m[3])];
    const want = gpuMs * PROBE_TIE_RATIO < wasmMs ? 'webgpu' : 'wasm';
    console.log(`      probe: WebGPU ${gpuMs} ms/step, wasm ${wasmMs} ms/step -> ${want}`);
    assert.match(r.stderr, new RegExp(`; backend ${want} \\(`), `the run did not train on the faster (${want}): ${r.stderr}`);
    assert.strictEqual(decodeCheckpoint(fs.readFileSync(path.join(tmp, 'auto.safetensors'))).step, 2);
    // Without the variable, the software adapter is not probed: auto trains on wasm at once.
    const plain = run(['train', dir, '--steps', '1', '--out', path.join(tmp, 'auto2.safetensors'), ...common]);
    assert.doesNotMatch(plain.stderr, /timed probe/);
    assert.match(plain.stderr, /software renderer, slower than the CPU: training on the CPU \(WebAssembly SIMD\)/);
  });
});
