// A checkpoint on disk: the model file (a PyTorch state dict in .safetensors with GateScope metadata)
// and, beside it, the Adam moments in `<name>.optim.safetensors`. Both are written atomically; the
// optimizer file first, so a crash between the two never pairs new weights with a stale optimizer
// newer than them (a stale optimizer is detected by its step and ignored).

import * as fs from 'fs';
import { ModelCheckpoint, OptimizerState, decodeCheckpoint, encodeCheckpoint, encodeOptimizerState, optimizerStateFor } from '../checkpoint';
import { GateScopeError } from '../errors';
import { atomicWriteFile, readFileLimited } from './atomicWrite';

/** Largest checkpoint file read (the largest model config.ts allows is well below this). */
export const MAX_CHECKPOINT_BYTES = 1024 ** 3;

export function optimizerPath(modelPath: string): string {
  return modelPath.replace(/(\.safetensors)?$/, '.optim.safetensors');
}

export async function saveCheckpointFiles(modelPath: string, ck: ModelCheckpoint, optim?: OptimizerState): Promise<void> {
  if (optim) await atomicWriteFile(optimizerPath(modelPath), encodeOptimizerState(optim));
  await atomicWriteFile(modelPath, encodeCheckpoint(ck));
}

export async function loadCheckpointFile(modelPath: string): Promise<ModelCheckpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await readFileLimited(modelPath, MAX_CHECKPOINT_BYTES);
  } catch (e) {
    if (e instanceof GateScopeError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new GateScopeError(code === 'ENOENT' ? `no checkpoint at ${modelPath}` : `cannot read checkpoint ${modelPath} (${code ?? (e as Error).message})`);
  }
  return decodeCheckpoint(bytes, `checkpoint ${modelPath}`);
}

/**
 * The optimizer state saved beside a model, if there is a valid one for the same step; otherwise
 * null and a reason (training then restarts Adam's moments, which costs a little speed, nothing else).
 */
export async function loadOptimizerFile(modelPath: string, ck: ModelCheckpoint): Promise<{ state: OptimizerState | null; note?: string }> {
  const p = optimizerPath(modelPath);
  if (!fs.existsSync(p)) return optimizerStateFor(undefined, ck);
  let bytes: Uint8Array;
  try {
    bytes = await readFileLimited(p, MAX_CHECKPOINT_BYTES * 2);
  } catch (e) {
    return { state: null, note: `${(e as Error).message}; Adam starts afresh` };
  }
  return optimizerStateFor(bytes, ck, `optimizer state ${p}`);
}
