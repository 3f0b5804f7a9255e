/**
 * PyTorch baseline: drives bench/torch_bench.py with Debian's /usr/bin/python3 (PyTorch 1.13
 * with OpenBLAS from libopenblas0-pthread), JSON job on stdin, one JSON line on stdout.
 */
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { BenchConfig, InferRow, TrainRow, configLabel } from './configs';

/** The interpreter that has torch (the first `python3` on PATH does not). */
export const TORCH_PYTHON = '/usr/bin/python3';

const CHECK_SCRIPT = `
import json, torch
a = torch.randn(64, 64)
(a @ a).sum().item()
libs = set()
with open('/proc/self/maps') as f:
    for line in f:
        p = line.split()
        if len(p) >= 6 and ('blas' in p[-1].lower() or 'lapack' in p[-1].lower()):
            libs.add(p[-1])
print(json.dumps({'torch': torch.__version__, 'blas': sorted(libs)}))
`;

let availability: { ok: boolean; why?: string; torch?: string; blas?: string[] } | undefined;

/**
 * Checks that /usr/bin/python3 can import torch AND that torch's BLAS is OpenBLAS (found in
 * the loaded libraries after a matmul). Without libopenblas0-pthread, Debian's PyTorch falls
 * back to reference BLAS and runs 7-14x slower, which would make the comparison dishonest.
 */
export function torchAvailable(): { ok: boolean; why?: string } {
  if (availability) return { ok: availability.ok, why: availability.why };
  if (!fs.existsSync(TORCH_PYTHON)) {
    availability = { ok: false, why: `${TORCH_PYTHON} not found` };
    return availability;
  }
  const r = spawnSync(TORCH_PYTHON, ['-c', CHECK_SCRIPT], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' } });
  if (r.error || r.status !== 0) {
    const why = r.error ? String(r.error.message) : lastLines(r.stderr, 5) || `exit status ${r.status}`;
    availability = { ok: false, why: `cannot import torch with ${TORCH_PYTHON}: ${why}` };
    return availability;
  }
  let parsed: { torch: string; blas: string[] };
  try {
    parsed = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {
    availability = { ok: false, why: `unexpected output from the torch check: ${lastLines(r.stdout, 3)}` };
    return availability;
  }
  const openblas = parsed.blas.filter((l) => /openblas/i.test(l));
  if (openblas.length === 0) {
    let pkg = 'libopenblas0-pthread is not installed';
    const d = spawnSync('dpkg', ['-s', 'libopenblas0-pthread'], { encoding: 'utf8' });
    if (!d.error && d.status === 0 && /Status: install ok installed/.test(d.stdout)) pkg = 'libopenblas0-pthread is installed but not selected (update-alternatives libblas.so.3)';
    availability = {
      ok: false,
      why:
        `PyTorch ${parsed.torch} is not using OpenBLAS (${pkg}; BLAS libraries loaded: ${parsed.blas.join(', ') || 'none'}). ` +
        'It would fall back to reference BLAS and run 7-14x slower, which would make the comparison dishonest.',
    };
    return availability;
  }
  availability = { ok: true, torch: parsed.torch, blas: parsed.blas };
  return { ok: true };
}

/** torch version and loaded BLAS libraries (after a successful torchAvailable()). */
export function torchInfo(): { torch?: string; blas?: string[] } {
  torchAvailable();
  return { torch: availability?.torch, blas: availability?.blas };
}

function lastLines(s: string | null | undefined, n: number): string {
  if (!s) return '';
  return s.trim().split('\n').slice(-n).join('\n');
}

/** Finds bench/torch_bench.py (next to this file in out/bench/, in the source tree, or from the cwd). */
export function torchScriptPath(name = 'torch_bench.py'): string {
  const candidates = [
    path.join(__dirname, name),
    path.join(__dirname, '..', '..', 'bench', name), // out/bench/ -> bench/
    path.join(__dirname, '..', 'bench', name), // dist/ -> bench/
    path.join(process.cwd(), 'bench', name),
  ];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new Error(`bench/${name} not found (looked in: ${candidates.join(', ')})`);
}

/**
 * Environment for a PyTorch child with `threads` threads: OMP_NUM_THREADS and
 * OPENBLAS_NUM_THREADS (OpenBLAS reads its thread count at load time; torch.set_num_threads
 * does not reach Debian's OpenBLAS), everything else inherited (OPENBLAS_CORETYPE etc. kept).
 */
export function torchEnv(threads: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
  // With 2 threads on a shared 2-core machine, an idle OpenMP thread must sleep, not spin.
  if (threads > 1) env.OMP_WAIT_POLICY = 'PASSIVE';
  return env;
}

/**
 * Runs the PyTorch benchmark for `configs` with `threads` threads (system `pytorch-1t` /
 * `pytorch-2t`). Synchronous; throws with the tail of Python's stderr on failure.
 * `inferMinSeconds` (default: minSeconds) is the measuring time of each latency figure.
 */
export function benchTorch(
  configs: BenchConfig[],
  threads: 1 | 2,
  minSeconds: number,
  infer: boolean,
  inferMinSeconds = minSeconds,
): { train: TrainRow[]; infer: InferRow[] } {
  const avail = torchAvailable();
  if (!avail.ok) throw new Error(`PyTorch benchmark unavailable: ${avail.why}`);
  const job = { configs, threads, minSeconds, infer, inferMinSeconds };
  // Generous budget: per config 2 warm-up steps + minSeconds (+ 2 * inferMinSeconds), slow configs ~1 s a step.
  const timeoutMs = Math.round(1000 * (120 + configs.length * (30 + minSeconds * 2 + (infer ? 4 * inferMinSeconds + 10 : 0))));
  const r = spawnSync(TORCH_PYTHON, [torchScriptPath()], {
    input: JSON.stringify(job),
    encoding: 'utf8',
    env: torchEnv(threads),
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  const what = `PyTorch benchmark (${threads} thread(s), ${configs.map(configLabel).join('; ')})`;
  if (r.error) throw new Error(`${what} failed: ${r.error.message}\n${lastLines(r.stderr, 15)}`);
  if (r.status !== 0) throw new Error(`${what} exited with status ${r.status}${r.signal ? ` (signal ${r.signal})` : ''}:\n${lastLines(r.stderr, 15)}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let out: { train: TrainRow[]; infer: InferRow[] };
  try {
    out = JSON.parse(line);
  } catch {
    throw new Error(`${what}: could not parse its output: ${line.slice(0, 300)}\n${lastLines(r.stderr, 15)}`);
  }
  return { train: out.train, infer: out.infer };
}

if (require.main === module) {
  const avail = torchAvailable();
  console.log(JSON.stringify({ ...avail, ...torchInfo() }));
  if (avail.ok) {
    const { BENCH_CONFIGS } = require('./configs') as typeof import('./configs');
    const minSeconds = Number(process.argv[2] ?? 3);
    const threads = (Number(process.argv[3] ?? 1) === 2 ? 2 : 1) as 1 | 2;
    const all = process.argv.includes('--all');
    const cfgs = all ? BENCH_CONFIGS : [BENCH_CONFIGS[0], BENCH_CONFIGS[1]];
    const res = benchTorch(cfgs, threads, minSeconds, true, Math.min(2, minSeconds));
    for (const r of res.train) console.log(`${r.system} ${r.cell} h${r.hidden} L${r.layers} T${r.seq} B${r.batch}: ${r.tokensPerSecond.toFixed(0)} tok/s`);
    for (const r of res.infer) console.log(`${r.system} ${r.cell} h${r.hidden} L${r.layers}: ${r.msPerToken.toFixed(3)} ms/token, ${r.msContext256.toFixed(1)} ms/ctx256`);
  }
}
