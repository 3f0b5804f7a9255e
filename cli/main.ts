// The `gatescope` command line: a dispatcher over one module per command (train, sample, eval,
// eval-completions, predict, activations, inspect, corpus), with the help text and the one place
// errors become messages and exit codes. Run as `npx gatescope <command>` or `npm start -- <command>`;
// `npm start` alone trains on this repository for about a minute and shows what the model learned.

import { GateScopeError } from '../kernels/errors';
import { ACTIVATIONS_USAGE, activationsCommand } from './activations';
import { CORPUS_COMMAND_USAGE, corpusCommand } from './corpusCommand';
import { CORPUS_USAGE } from './corpusOptions';
import { applyNoSimdEnv } from './engines';
import { EVAL_USAGE, evalCommand } from './eval';
import { EVAL_COMPLETIONS_USAGE, evalCompletionsCommand } from './evalCompletions';
import { INSPECT_USAGE, inspectCommand } from './inspect';
import { PREDICT_USAGE, predictCommand } from './predict';
import { SAMPLE_USAGE, sampleCommand } from './sample';
import { TRAIN_USAGE, trainCommand } from './train';

const USAGE = `gatescope — train small LSTM/GRU/RNN language models on your own code

Usage:
  gatescope train [DIR] [options]         train on the text files under DIR (default: .)
  gatescope sample CHECKPOINT [options]   generate text from a checkpoint
  gatescope eval CHECKPOINT DIR [--json]  bits per character of a model on the files under DIR
  gatescope eval-completions CHECKPOINT DIR [--json]
                                          the keystrokes inline completions save on the files under
                                          DIR, typed left to right, beside a word and an n-gram baseline
  gatescope predict CHECKPOINT (--text TEXT | --file PATH) [--top-k K] [--json]
                                          the most likely next tokens after a text
  gatescope activations CHECKPOINT (--text TEXT | --file PATH) [--layer L] [--json]
                                          one layer's hidden state, cell and gates after each token
  gatescope inspect CHECKPOINT (--text TEXT | --file PATH) [--select START:END] [--layer L] [--json]
                                          what the inspector shows: surprisal, top-5, every layer's
                                          activations, the probes; unit search and match (below)
  gatescope corpus [DIR] [--json]         the files training on DIR reads, in order, and what it
                                          skips and why (the same planner as the VS Code extension)
  gatescope help                          this text

${TRAIN_USAGE}

${CORPUS_USAGE}

${SAMPLE_USAGE}

${EVAL_USAGE}

${EVAL_COMPLETIONS_USAGE}

${PREDICT_USAGE}

${ACTIVATIONS_USAGE}

${INSPECT_USAGE}

${CORPUS_COMMAND_USAGE}

Tokens are shown as their text; a BPE token that ends inside a character shows its incomplete
bytes as <0xE2>, and the char tokenizer's escapes for unseen characters as <unk>, <unk:3>.
`;

const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = {
  train: trainCommand,
  sample: sampleCommand,
  eval: evalCommand,
  'eval-completions': evalCompletionsCommand,
  predict: predictCommand,
  activations: activationsCommand,
  inspect: inspectCommand,
  corpus: corpusCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [command = 'train', ...rest] = argv;
  applyNoSimdEnv();
  try {
    if (command === 'help' || command === '--help' || command === '-h') process.stdout.write(USAGE);
    else if (COMMANDS[command]) await COMMANDS[command](rest);
    else if (command.startsWith('-')) await trainCommand(argv);
    else throw new GateScopeError(`unknown command ${JSON.stringify(command)}; try 'gatescope help'`);
    return 0;
  } catch (e) {
    if (e instanceof GateScopeError) {
      process.stderr.write(`gatescope: error: ${e.message}\n`);
      return 1;
    }
    const err = e as Error;
    process.stderr.write(`gatescope: internal error: ${err?.message ?? String(e)}\n`);
    if (process.env.GATESCOPE_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
    else process.stderr.write('(set GATESCOPE_DEBUG=1 for details, and please report it)\n');
    return 2;
  }
}

/**
 * When whoever reads the output goes away (`gatescope activations ... --json | head`), the command
 * ends quietly, as Unix tools do, instead of dying on an EPIPE error with a stack trace.
 */
export function endQuietlyWhenOutputCloses(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
}
