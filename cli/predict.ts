// `gatescope predict`: the most likely next tokens after a text.

import { int, parse } from './args';
import { TEXT_OPTIONS, loadForText } from './textInput';

export const PREDICT_USAGE = `Predict options:
  --text TEXT, --file PATH the text fed to the model (one of the two)
  --top-k K                how many tokens to show (default 10)
  --json                   print {"tokens": [...], "predictions": [{"id","token","probability"}]}`;

export async function predictCommand(argv: string[]): Promise<void> {
  const { values: o, positionals } = parse(argv, { ...TEXT_OPTIONS, 'top-k': { type: 'string' } } as const);
  const { ck, tokenizer, ids, labels, session } = await loadForText(positionals, o, 'usage: gatescope predict CHECKPOINT (--text TEXT | --file PATH) [--top-k K] [--json]');
  const V = ck.config.vocabSize;
  const k = int(o, 'top-k', Math.min(10, V), 1, V);
  const state = session.newState();
  session.feedMany(state, ids);
  const predictions = session.predict(state, k).map(({ id, probability }) => ({ id, token: tokenizer.tokenLabel(id), probability }));
  if (o.json) {
    process.stdout.write(JSON.stringify({ tokens: labels, predictions }) + '\n');
    return;
  }
  process.stdout.write(`after ${ids.length} token(s), ending ${JSON.stringify(labels.slice(-8).join(''))}:\n`);
  for (const p of predictions) process.stdout.write(`  ${(p.probability * 100).toFixed(2).padStart(6)}%  ${JSON.stringify(p.token)}\n`);
}
