// The text that `predict` and `activations` feed a model (--text, or --file read as UTF-8 within a
// size limit) and the checkpoint they load: what the two commands share.

import * as fs from 'fs';
import { checkpointTokenizer } from '../kernels/checkpoint';
import { DEFAULT_CORPUS_LIMITS } from '../kernels/corpusPlan';
import { GateScopeError, check } from '../kernels/errors';
import { formatBytes } from '../kernels/format';
import { InferenceSession } from '../kernels/infer';
import { loadCheckpointFile } from '../kernels/node/checkpointFiles';

/** Largest --file read by predict and activations: the corpus's per-file limit. */
const MAX_INPUT_BYTES = DEFAULT_CORPUS_LIMITS.maxFileBytes;

export const TEXT_OPTIONS = { text: { type: 'string' }, file: { type: 'string' }, json: { type: 'boolean' } } as const;

/** The text given with --text or read from --file (exactly one of them), not empty. */
async function inputText(o: { text?: string; file?: string }, usage: string): Promise<string> {
  check((o.text === undefined) !== (o.file === undefined), usage);
  if (o.text !== undefined) {
    check(o.text.length > 0, '--text is empty; give some text to feed the model');
    return o.text;
  }
  const file = o.file!;
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new GateScopeError(code === 'ENOENT' ? `no file at ${file}` : `cannot read ${file} (${code ?? (e as Error).message})`);
  }
  check(st.isFile(), `${file} is not a regular file`);
  check(st.size <= MAX_INPUT_BYTES, `${file} is ${formatBytes(st.size)}, over the ${formatBytes(MAX_INPUT_BYTES)} limit for --file`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await fs.promises.readFile(file));
  } catch {
    throw new GateScopeError(`${file} is not valid UTF-8 text`);
  }
  check(text.length > 0, `${file} is empty; give some text to feed the model`);
  return text;
}

/** Loads the checkpoint and tokenizes the input text. */
export async function loadForText(positionals: string[], o: { text?: string; file?: string }, usage: string) {
  check(positionals.length === 1, usage);
  const text = await inputText(o, usage);
  const ck = await loadCheckpointFile(positionals[0]);
  const tokenizer = checkpointTokenizer(ck, `checkpoint ${positionals[0]}`);
  const ids = tokenizer.encode(text);
  const labels = Array.from(ids, (id) => tokenizer.tokenLabel(id));
  return { ck, tokenizer, ids, labels, session: new InferenceSession(ck.config, ck.params) };
}
