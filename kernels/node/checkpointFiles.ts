// A checkpoint on disk: the model file (a PyTorch state dict in .safetensors with GateScope metadata)
// and, beside it, the Adam moments in `<name>.optim.safetensors`. Both are written atomically; the
// optimizer file first, so a crash between the two never pairs new weights with a stale optimizer
// newer than them (a stale optimizer is detected by its step and ignored).

import * as fs from 'fs';
import { ModelCheckpoint, decodeCheckpoint } from '../checkpoint';
import { GateScopeError } from '../errors';
import { atomicWriteFile, readFileLimited } from './atomicWrite';

/** Largest checkpoint file read (the largest model config.ts allows is well below this). */
export const MAX_CHECKPOINT_BYTES = 1024 ** 3;

export function optimizerPath(modelPath: string): string {
  return modelPath.replace(/(\.safetensors)?$/, '.optim.safetensors');
}

/** Writes a checkpoint already encoded (as a training job reports it): the optimizer file first. */
export async function saveCheckpointBytes(modelPath: string, model: Uint8Array, optimizer?: Uint8Array): Promise<void> {
  if (optimizer) await atomicWriteFile(optimizerPath(modelPath), optimizer);
  await atomicWriteFile(modelPath, model);
}

/** A model file's bytes and what they decode to (a clear error for a missing, unreadable or invalid file). */
export async function loadCheckpointFileBytes(modelPath: string): Promise<{ bytes: Uint8Array; checkpoint: ModelCheckpoint }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFileLimited(modelPath, MAX_CHECKPOINT_BYTES);
  } catch (e) {
    if (e instanceof GateScopeError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new GateScopeError(code === 'ENOENT' ? `no checkpoint at ${modelPath}` : `cannot read checkpoint ${modelPath} (${code ?? (e as Error).message})`);
  }
  return { bytes, checkpoint: decodeCheckpoint(bytes, `checkpoint ${modelPath}`) };
}

export async function loadCheckpointFile(modelPath: string): Promise<ModelCheckpoint> {
  return (await loadCheckpointFileBytes(modelPath)).checkpoint;
}

/**
 * The bytes of the optimizer file saved beside a model, or undefined (with a note when it exists but
 * cannot be read): whether it pairs with the model is checkpoint.ts's optimizerStateFor to say;
 * without it, training restarts Adam's moments, which costs a little speed, nothing else.
 */
export async function readOptimizerFile(modelPath: string): Promise<{ bytes?: Uint8Array; note?: string }> {
  const p = optimizerPath(modelPath);
  if (!fs.existsSync(p)) return {};
  try {
    return { bytes: await readFileLimited(p, MAX_CHECKPOINT_BYTES * 2) };
  } catch (e) {
    return { note: `${(e as Error).message}; Adam starts afresh` };
  }
}
