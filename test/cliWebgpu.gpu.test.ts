// The CLI on the WebGPU backend: `--backend webgpu` writes the same checkpoint format, and resuming
// it with `--backend cpu` continues the loss curve exactly where a CPU-only run would be.

import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { decodeCheckpoint } from '../kernels/checkpoint';
import { runCli } from './cliRun';
import { requireGpu } from './gpuContext';


function run(args: string[]) {
  const r = runCli(args, 300000);
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
    const bpc = (s: string) => Number(/validation: ([\d.]+) bits per character/.exec(s)![1]);
    console.log(`      webgpu 4 steps + cpu 4 steps: ${bpc(b.stdout)} bpc; cpu 8 steps: ${bpc(c.stdout)} bpc`);
    assert.ok(Math.abs(bpc(b.stdout) - bpc(c.stdout)) <= 2e-3 * bpc(c.stdout), `${bpc(b.stdout)} vs ${bpc(c.stdout)}`);
    assert.strictEqual(decodeCheckpoint(fs.readFileSync(gpuOut)).step, 8);
  });
});
