// Where the workspace's model lives: `model.safetensors` and `model.optim.safetensors` in the
// extension's workspace storage (context.storageUri; the global storage when no folder is open).
// Every write is atomic and checked first: bytes that come from a webview or a worker are decoded
// (shapes, offsets, dtypes, tokenizer) before they replace the files, so a bad message can never
// destroy a good model.

import * as fs from 'fs';
import * as path from 'path';
import { ModelCheckpoint, checkpointTokenizer, decodeCheckpoint, decodeOptimizerState } from '../kernels/checkpoint';
import { GateScopeError, check } from '../kernels/errors';
import { atomicWriteFile, readFileLimited } from '../kernels/node/atomicWrite';
import { MAX_CHECKPOINT_BYTES, optimizerPath } from '../kernels/node/checkpointFiles';

export interface StoredModel {
  checkpoint: ModelCheckpoint;
  bytes: Uint8Array;
}

/** Decodes and checks a model file, including that its tokenizer fits its vocabulary. */
export function checkModelBytes(bytes: Uint8Array, what: string): ModelCheckpoint {
  const ck = decodeCheckpoint(bytes, what);
  checkpointTokenizer(ck, what, 'GateScope needs the tokenizer it was trained with');
  return ck;
}

export class ModelStore {
  readonly modelPath: string;
  readonly optimizerPath: string;
  private cached: { mtimeMs: number; size: number; model: StoredModel } | null = null;

  constructor(readonly dir: string) {
    this.modelPath = path.join(dir, 'model.safetensors');
    this.optimizerPath = optimizerPath(this.modelPath);
  }

  exists(): boolean {
    return fs.existsSync(this.modelPath);
  }

  /** Checks, then atomically writes a checkpoint (optimizer first; see kernels/node/checkpointFiles). */
  async save(model: Uint8Array, optimizer?: Uint8Array): Promise<ModelCheckpoint> {
    const ck = checkModelBytes(model, 'the checkpoint to save');
    if (optimizer) {
      const s = decodeOptimizerState(optimizer, ck.config, 'the optimizer state to save');
      check(s.step === ck.step, `the optimizer state is for step ${s.step}, the model for step ${ck.step}`);
      await atomicWriteFile(this.optimizerPath, optimizer);
    } else {
      await fs.promises.rm(this.optimizerPath, { force: true });
    }
    await atomicWriteFile(this.modelPath, model);
    return ck;
  }

  /** The stored model, or null when there is none; a damaged file is a GateScopeError. */
  async load(): Promise<StoredModel | null> {
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(this.modelPath);
    } catch {
      return null;
    }
    if (this.cached && this.cached.mtimeMs === stat.mtimeMs && this.cached.size === stat.size) return this.cached.model;
    const bytes = await readFileLimited(this.modelPath, MAX_CHECKPOINT_BYTES);
    const model = { checkpoint: checkModelBytes(bytes, `the stored model ${this.modelPath}`), bytes };
    this.cached = { mtimeMs: stat.mtimeMs, size: stat.size, model };
    return model;
  }

  async loadOptimizerBytes(): Promise<Uint8Array | undefined> {
    try {
      return await readFileLimited(this.optimizerPath, MAX_CHECKPOINT_BYTES * 2);
    } catch (e) {
      if (e instanceof GateScopeError) throw e;
      return undefined;
    }
  }

  async clear(): Promise<void> {
    this.cached = null;
    await fs.promises.rm(this.modelPath, { force: true });
    await fs.promises.rm(this.optimizerPath, { force: true });
  }
}
