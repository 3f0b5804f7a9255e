// The CLI's CPU engines: `--backend wasm` trains on the WebAssembly SIMD engine with --threads threads;
// checkpoints move between `cpu` (the reference) and `wasm` with --resume and continue the same run
// (step counts continue, and the result lands where a run on one engine lands); "auto" on this
// machine (no hardware GPU) trains on wasm and says why; GATESCOPE_NO_WASM_SIMD=1 makes auto and wasm
// fall back to the reference with exactly one notice line; --threads and --backend are checked.

import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { decodeCheckpoint } from '../kernels/checkpoint';
import { CLI, assertCleanError } from './cliRun';

const NOTICE = /^WebAssembly SIMD is not available here \(GATESCOPE_NO_WASM_SIMD=1 turned it off\): training on the reference CPU engine, which is several times slower\.$/;

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 180000, env: { ...process.env, GATESCOPE_DEBUG: '', GATESCOPE_NO_WASM_SIMD: '', ...env } });
  assert.ok(!r.error, `CLI did not finish: ${r.error}`);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(args: string[], env: Record<string, string> = {}) {
  const r = cli(args, env);
  assert.strictEqual(r.code, 0, r.stderr);
  return r;
}

/** The backend and adapter of the run, from its "model: …; backend X (Y)" line. */
function backendOf(stderr: string): { backend: string; adapter: string } {
  const m = /; backend (\w+) \((.*)\)$/m.exec(stderr);
  assert.ok(m, `no backend line in: ${stderr}`);
  return { backend: m[1], adapter: m[2] };
}

const bpc = (stdout: string) => Number(/validation: ([\d.]+) bits per character/.exec(stdout)![1]);

describe('cli CPU engines (--backend wasm|cpu|auto, --threads)', function () {
  this.timeout(300000);
  let tmp: string;
  let dir: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gatescope-cli-wasm-'));
    dir = path.join(tmp, 'src');
    fs.mkdirSync(dir);
    // 160 characters, half held out: 80 training tokens = exactly 4 windows of 8 × 2, so steps 5 and 9
    // start a new epoch (state reset) in every run and a resumed run must follow a straight one step for step.
    const line = 'let a = b + c;\n';
    fs.writeFileSync(path.join(dir, 'a.js'), (line.repeat(11) + 'x = 1;;;').slice(0, 159));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const common = ['--hidden', '12', '--embed', '6', '--seq', '8', '--batch', '2', '--val-fraction', '0.5', '--eval-every', '1000', '--sample-length', '0', '--quiet', '--lr', '0.01', '--layers', '2', '--arch', 'gru'];

  it('--backend wasm --threads 2 trains on the WebAssembly engine with 2 threads and says so', () => {
    const out = path.join(tmp, 'wasm2.safetensors');
    const r = ok(['train', dir, '--backend', 'wasm', '--threads', '2', '--steps', '6', '--out', out, ...common]);
    assert.match(r.stderr, /^backend: the backend setting is "wasm": training on the CPU \(WebAssembly SIMD\)$/m);
    const b = backendOf(r.stderr);
    assert.strictEqual(b.backend, 'wasm');
    assert.match(b.adapter, /^WebAssembly SIMD, 2 threads \(.+\)$/);
    assert.match(r.stderr, /trained 6 steps .* step 6 in all/);
    assert.strictEqual(decodeCheckpoint(fs.readFileSync(out)).step, 6);
    assert.ok(bpc(r.stdout) > 0 && bpc(r.stdout) < 8, r.stdout);
    // The default thread count: cores − 1, at least 1.
    const d = ok(['train', dir, '--backend', 'wasm', '--steps', '1', '--out', path.join(tmp, 'wasmd.safetensors'), ...common]);
    const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    const want = Math.max(1, cores - 1);
    assert.match(backendOf(d.stderr).adapter, new RegExp(`^WebAssembly SIMD, ${want} threads? \\(`));
  });

  it('checkpoints move between cpu and wasm with --resume and continue the same run', () => {
    // cpu 4 steps → wasm to 8 → cpu to 12, against cpu for 12 and wasm for 12 straight.
    const mixed = path.join(tmp, 'mixed.safetensors');
    ok(['train', dir, '--backend', 'cpu', '--steps', '4', '--out', mixed, ...common]);
    const w = ok(['train', dir, '--backend', 'wasm', '--threads', '2', '--steps', '8', '--resume', '--out', mixed, ...common]);
    assert.match(w.stderr, /resuming .* at step 4/);
    assert.match(w.stderr, /trained 4 steps .* step 8 in all/);
    assert.strictEqual(backendOf(w.stderr).backend, 'wasm');
    const c = ok(['train', dir, '--backend', 'cpu', '--steps', '12', '--resume', '--out', mixed, ...common]);
    assert.match(c.stderr, /resuming .* at step 8/);
    assert.match(c.stderr, /trained 4 steps .* step 12 in all/);
    assert.strictEqual(backendOf(c.stderr).backend, 'cpu');
    const cpuOut = path.join(tmp, 'cpu12.safetensors');
    const straight = ok(['train', dir, '--backend', 'cpu', '--steps', '12', '--out', cpuOut, ...common]);
    const wasmOut = path.join(tmp, 'wasm12.safetensors');
    const straightWasm = ok(['train', dir, '--backend', 'wasm', '--threads', '1', '--steps', '12', '--out', wasmOut, ...common]);

    const a = decodeCheckpoint(fs.readFileSync(mixed)), b = decodeCheckpoint(fs.readFileSync(cpuOut)), bw = decodeCheckpoint(fs.readFileSync(wasmOut));
    assert.strictEqual(a.step, 12);
    let worst = 0, worstWasm = 0, largest = 0;
    for (const [name, pb] of b.params) {
      const pa = a.params.get(name)!, pw = bw.params.get(name)!;
      for (let i = 0; i < pb.length; i++) {
        worst = Math.max(worst, Math.abs(pa[i] - pb[i]));
        worstWasm = Math.max(worstWasm, Math.abs(pw[i] - pb[i]));
        largest = Math.max(largest, Math.abs(pb[i]));
      }
    }
    const [mixedBpc, cpuBpc, wasmBpc] = [bpc(c.stdout), bpc(straight.stdout), bpc(straightWasm.stdout)];
    console.log(`      cpu 4 + wasm 4 + cpu 4: ${mixedBpc} bpc; cpu 12: ${cpuBpc}; wasm 12: ${wasmBpc}; largest parameter difference ${worst.toExponential(2)} (wasm 12 vs cpu 12: ${worstWasm.toExponential(2)}; largest parameter ${largest.toFixed(3)})`);
    // Measured: parameters differ by about 1e-7 (float32 rounding of the two engines, parameters up
    // to about 3) and the printed bits per character (4 decimals) not at all; a resume that lost the
    // optimizer state, the step count or the carried parameters moves them by 1e-3 or more.
    assert.ok(worst <= 1e-5, `the resumed run's parameters differ from a cpu-only run's by ${worst}`);
    assert.ok(Math.abs(mixedBpc - cpuBpc) <= 2e-4, `${mixedBpc} vs ${cpuBpc}`);
    assert.ok(worstWasm <= 1e-5 && Math.abs(wasmBpc - cpuBpc) <= 2e-4, `wasm-only ${wasmBpc} (${worstWasm}) vs cpu-only ${cpuBpc}`);
  });

  it('auto trains on wasm here (no hardware GPU) and says why', () => {
    const r = ok(['train', dir, '--steps', '2', '--threads', '1', '--out', path.join(tmp, 'auto.safetensors'), ...common]);
    assert.strictEqual(backendOf(r.stderr).backend, 'wasm');
    const why = r.stderr.split('\n').filter((l) => l.startsWith('backend: '));
    assert.strictEqual(why.length, 1, r.stderr);
    assert.match(why[0], /(software renderer, slower than the CPU|WebGPU is not available \(.+\)): training on the CPU \(WebAssembly SIMD\)$/);
    assert.doesNotMatch(r.stderr, /WebAssembly SIMD is not available/);
  });

  it('GATESCOPE_NO_WASM_SIMD=1: auto and wasm fall back to the reference engine with exactly one notice line; cpu has none', () => {
    for (const backend of ['auto', 'wasm']) {
      const out = path.join(tmp, `nosimd-${backend}.safetensors`);
      const r = ok(['train', dir, '--backend', backend, '--steps', '2', '--out', out, ...common], { GATESCOPE_NO_WASM_SIMD: '1' });
      const notices = r.stderr.split('\n').filter((l) => /WebAssembly SIMD is not available/.test(l));
      assert.strictEqual(notices.length, 1, `--backend ${backend}: ${r.stderr}`);
      assert.match(notices[0], NOTICE);
      const b = backendOf(r.stderr);
      assert.strictEqual(b.backend, 'cpu', `--backend ${backend}`);
      assert.match(b.adapter, /^reference engine, 1 thread/);
      assert.strictEqual(decodeCheckpoint(fs.readFileSync(out)).step, 2);
    }
    const c = ok(['train', dir, '--backend', 'cpu', '--steps', '1', '--out', path.join(tmp, 'nosimd-cpu.safetensors'), ...common], { GATESCOPE_NO_WASM_SIMD: '1' });
    assert.doesNotMatch(c.stderr, /WebAssembly SIMD is not available/);
    assert.strictEqual(backendOf(c.stderr).backend, 'cpu');
  });

  it('--threads and --backend are checked before anything is read', () => {
    for (const [v, want] of [
      ['65', /number of threads must be between 0 and 64, got 65/],
      ['-1', /number of threads must be between 0 and 64, got -1/],
      ['1.5', /number of threads must be a whole number, got 1\.5/],
      ['two', /--threads must be a number, got "two"/],
    ] as const) {
      assertCleanError(cli(['train', path.join(tmp, 'missing'), '--threads', v]), want);
    }
    assertCleanError(cli(['train', path.join(tmp, 'missing'), '--backend', 'gpu']), /--backend must be one of auto, webgpu, wasm, cpu, got "gpu"/);
    // 0 is the default (cores − 1), 64 the most.
    const r = ok(['train', dir, '--backend', 'wasm', '--threads', '0', '--steps', '1', '--out', path.join(tmp, 't0.safetensors'), ...common]);
    assert.strictEqual(backendOf(r.stderr).backend, 'wasm');
  });

  it('help lists every backend and --threads', () => {
    const r = ok(['help']);
    assert.match(r.stdout + r.stderr, /--backend auto\|wasm\|cpu\|webgpu/);
    assert.match(r.stdout + r.stderr, /--threads N +threads of the wasm engine, 1-64 \(default: cores - 1, at least 1; 0 = the default\)/);
  });
});
