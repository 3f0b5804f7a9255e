// `gatescope inspect`: the inspector without VS Code. It plans the window exactly as the extension's
// inspector does (kernels/inspect/window.ts: the selection widened to whole lines plus a margin, or
// the visible range, at most 4,000 tokens, primed with the text before), inspects it (every layer's
// activations, surprisal, next-token probability, top-5: kernels/inspect/trace.ts), ranks units for
// the text probes (probes.ts), and optionally runs a unit search over the selection (unitSearch.ts)
// and a match of units across a folder's corpus read as `gatescope train` reads it (match.ts).

import * as path from 'path';
import { pathToFileURL } from 'url';
import { GateScopeError, check } from '../kernels/errors';
import { probeWindow } from '../kernels/inspect/probes';
import { inspectWindow } from '../kernels/inspect/trace';
import { CorpusActivations, CorpusSource, matchUnits } from '../kernels/inspect/match';
import { InspectResult, MatchResult, ProbeResult, QUANTITY_NAMES, QuantityName, UnitSearchResult } from '../kernels/inspect/types';
import { searchUnits } from '../kernels/inspect/unitSearch';
import { InspectionPlan, Range, planInspection } from '../kernels/inspect/window';
import { int, num, parse } from './args';
import { readFolderCorpus } from './corpusOptions';
import { TEXT_OPTIONS, loadForText } from './textInput';

const USAGE_LINE = 'usage: gatescope inspect CHECKPOINT (--text TEXT | --file PATH) [--select START:END] [--cursor N] [--visible START:END] [--layer L] ' +
  '[--quantity Q --threshold X] [--match DIR [--units A,B] [--length N]] [--json]';

export const INSPECT_USAGE = `Inspect options:
  --text TEXT, --file PATH the text to inspect (one of the two)
  --select START:END       the selection, UTF-16 offsets into the text; inspected as whole lines
                           with 3 lines around them, as the extension's inspector does
  --visible START:END      the visible range, inspected when nothing is selected (default: all)
  --cursor N               where the cursor is: the part kept when the range is over 4,000 tokens
  --layer L                the layer for --json's layers, the unit search and the match (default:
                           every layer in --json, layer 0 for the search and the match)
  --quantity Q             h, c, a gate (i f g o, r z n) or pre: search the selection for the units
  --threshold X            on (>= X) across it and off around it (LSTMVis's select)
  --match DIR              find the places in DIR's corpus (read as 'gatescope train DIR' reads it)
                           where --units (default: the search's units) of --quantity (default h)
                           are >= --threshold for --length tokens (default: the selection's
                           length), best 50, ranked as LSTMVis ranks them
  --json                   print one object: {"window": {"start","end","primeStart","selection",
                           "notice"}, "tokens", "offsets", "surprisal", "nextProb", "top": [[{"token",
                           "prob"}]], "layers": [{"layer","names","values": {"h": [[...]], ...}}],
                           "probes": [{"name","label","values","best"}], "search", "matches"}, NaN
                           written as null; without --json, tables`;

export async function inspectCommand(argv: string[]): Promise<void> {
  const { values: o, positionals } = parse(argv, {
    ...TEXT_OPTIONS,
    select: { type: 'string' }, visible: { type: 'string' }, cursor: { type: 'string' }, layer: { type: 'string' },
    quantity: { type: 'string' }, threshold: { type: 'string' }, match: { type: 'string' }, units: { type: 'string' }, length: { type: 'string' },
  } as const);
  const { ck, tokenizer, ids, session } = await loadForText(positionals, o, USAGE_LINE);
  // The text as read (--file checked as UTF-8 there): tokenizers round-trip any text exactly.
  const text = tokenizer.decode(ids);
  const { numLayers, hiddenSize: H, cell } = ck.config;
  const selection = o.select === undefined ? null : range(o.select, 'select', text.length);
  const visible = o.visible === undefined ? { start: 0, end: text.length } : range(o.visible, 'visible', text.length);
  const cursor = int(o, 'cursor', selection ? selection.start : visible.start, 0, text.length);
  const layer = o.layer === undefined ? null : int(o, 'layer', 0, 0, numLayers - 1);
  check(o.quantity === undefined || o.threshold !== undefined, '--quantity needs --threshold X: the value a unit must reach to count as on');
  check(o.threshold !== undefined || o.match === undefined, '--match needs --threshold X: the value a unit must reach to count as on');
  check(o.threshold === undefined || o.quantity !== undefined || o.match !== undefined, '--threshold goes with --quantity (a unit search) or --match');
  check(o.match !== undefined || (o.units === undefined && o.length === undefined), '--units and --length go with --match DIR');

  const plan = planInspection(text, tokenizer, { selection, visible, cursor });
  const result = inspectWindow(session, tokenizer, text, plan);
  const probes = probeWindow(text, plan, result);
  const T = result.tokens.length;
  const L = layer ?? 0;

  let search: UnitSearchResult | null = null;
  if (o.quantity !== undefined) {
    check(plan.selection !== null, '--quantity and --threshold search the selected tokens; give --select START:END (a non-empty range)');
    const quantity = quantityOf(o.quantity, result, L);
    const threshold = num(o, 'threshold', 0);
    const values = result.layers[L].values[result.layers[L].names.indexOf(quantity)];
    const { start, end } = plan.selection;
    search = { layer: L, quantity, threshold, start, end, units: searchUnits(values, T, H, start, end, threshold) };
  }

  let matches: MatchResult[] | null = null;
  if (o.match !== undefined) {
    const quantity = search?.quantity ?? (o.quantity === undefined ? 'h' : quantityOf(o.quantity, result, L));
    check(search !== null || o.units !== undefined, '--match needs the units to look for: --units A,B, or a unit search (--select, --quantity, --threshold) to take them from');
    const units = o.units !== undefined ? unitList(o.units, H) : search!.units.map((u) => u.unit);
    check(units.length > 0, `the unit search found no unit on across the selection and off around it at threshold ${search?.threshold}; give --units or a lower --threshold`);
    const length = o.length !== undefined ? int(o, 'length', 1, 1, 100_000) : plan.selection ? plan.selection.end - plan.selection.start : 0;
    check(length >= 1, '--match needs --length N (tokens), or a selection to take its length from');
    const threshold = num(o, 'threshold', 0);
    const corpus = folderCorpus(o.match);
    const acts = await CorpusActivations.compute(session, tokenizer, corpus, L, quantity);
    matches = matchUnits(acts, units, threshold, length);
  }

  if (o.json) {
    process.stdout.write(JSON.stringify({
      window: { start: plan.start, end: plan.end, primeStart: plan.primeStart, selection: plan.selection, notice: plan.notice },
      cell,
      tokens: result.tokens,
      offsets: Array.from(result.offsets),
      surprisal: Array.from(result.surprisal),
      nextProb: Array.from(result.nextProb),
      top: Array.from({ length: T }, (_, t) => Array.from({ length: result.topK }, (_, r) => ({ token: result.topTokens[t * result.topK + r], prob: result.topProbs[t * result.topK + r] }))),
      layers: result.layers.flatMap((l, i) => (layer === null || layer === i ? [{ layer: i, names: l.names, values: Object.fromEntries(l.names.map((n, q) => [n, rows(l.values[q], T, H)])) }] : [])),
      probes: probes.map((p) => ({ ...p, values: Array.from(p.values) })),
      ...(search ? { search } : {}),
      ...(matches ? { matches: matches.map((m) => ({ ...m, values: Array.from(m.values) })) } : {}),
    }) + '\n');
    return;
  }
  printHuman(text, plan, result, probes, search, matches, ck.config);
}

/** START:END, two whole numbers from 0 to the text's length. */
function range(s: string, name: string, n: number): Range {
  const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(s);
  if (!m) throw new GateScopeError(`--${name} must be START:END, two whole numbers (UTF-16 offsets into the text), got ${JSON.stringify(s)}`);
  const start = Number(m[1]), end = Number(m[2]);
  check(start <= end, `--${name} ${s}: START must not be after END`);
  check(end <= n, `--${name} ${s} goes past the end of the text (${n} UTF-16 units)`);
  return { start, end };
}

function quantityOf(q: string, result: InspectResult, layer: number): QuantityName {
  const names = result.layers[layer].names;
  check((QUANTITY_NAMES as readonly string[]).includes(q) && names.includes(q as QuantityName),
    `--quantity ${JSON.stringify(q)}: a ${result.cell.toUpperCase()} layer has ${names.join(', ')}`);
  return q as QuantityName;
}

function unitList(s: string, H: number): number[] {
  const parts = s.split(',').map((p) => p.trim());
  const units = parts.map(Number);
  check(parts.length > 0 && units.every((u, i) => parts[i] !== '' && Number.isInteger(u) && u >= 0 && u < H),
    `--units must be unit numbers from 0 to ${H - 1} separated by commas, got ${JSON.stringify(s)}`);
  return [...new Set(units)];
}

/** DIR's corpus as `gatescope train DIR` reads it, with each file's span and file URI. */
function folderCorpus(dir: string): CorpusSource {
  const corpus = readFolderCorpus({}, dir, (line) => process.stderr.write(`${line}\n`));
  check(corpus.files.length > 0, `no text files to search under ${dir}`);
  return {
    text: corpus.text,
    files: corpus.files.map((f, i) => ({ path: f.path, uri: pathToFileURL(path.resolve(dir, f.path)).href, start: corpus.spans[i].start, end: corpus.spans[i].end })),
  };
}

/** Splits [T*W] values into T rows of W plain numbers. */
function rows(values: Float32Array, T: number, W: number): number[][] {
  return Array.from({ length: T }, (_, t) => Array.from(values.subarray(t * W, (t + 1) * W)));
}

const fmt = (x: number, digits: number) => (Number.isNaN(x) ? '-' : x.toFixed(digits));

function printHuman(text: string, plan: InspectionPlan, r: InspectResult, probes: ProbeResult[], search: UnitSearchResult | null, matches: MatchResult[] | null, config: { cell: string; numLayers: number; hiddenSize: number }): void {
  const out: string[] = [];
  const T = r.tokens.length;
  out.push(`${config.cell.toUpperCase()}, ${config.numLayers} layer(s) of ${config.hiddenSize}; window: characters ${plan.start} to ${plan.end} of ${text.length}, ${T} token(s), primed with the ${plan.start - plan.primeStart} characters before`);
  if (plan.notice) out.push(plan.notice);
  if (plan.selection) out.push(`selection: tokens ${plan.selection.start} to ${plan.selection.end}`);
  out.push('', '     t  token         bits  p(next)  most likely next (probability)');
  for (let t = 0; t < T; t++) {
    const top = Array.from({ length: r.topK }, (_, k) => `${JSON.stringify(r.topTokens[t * r.topK + k])} ${r.topProbs[t * r.topK + k].toFixed(3)}`).join(', ');
    const mark = plan.selection && t >= plan.selection.start && t < plan.selection.end ? '*' : ' ';
    out.push(`${mark}${String(t).padStart(5)}  ${JSON.stringify(r.tokens[t]).padEnd(12)} ${fmt(r.surprisal[t], 2).padStart(5)}  ${fmt(r.nextProb[t], 3).padStart(7)}  ${top}`);
  }
  out.push('', 'probes: the units that track each property best (layer quantity unit: Pearson r)');
  for (const p of probes) {
    out.push(`  ${p.label.padEnd(30)} ${p.best.slice(0, 5).map((b) => `L${b.layer} ${b.quantity} ${b.unit}: ${b.r.toFixed(3)}`).join(', ')}`);
  }
  if (search) {
    out.push('', `unit search: layer ${search.layer} ${search.quantity} >= ${search.threshold} on tokens ${search.start} to ${search.end}, off around: ${search.units.length} unit(s)`);
    for (const u of search.units.slice(0, 20)) out.push(`  unit ${String(u.unit).padStart(4)}  score ${u.score.toFixed(3)}  mean in ${u.meanIn.toFixed(3)}  mean around ${fmt(u.meanOut, 3)}`);
  }
  if (matches) {
    out.push('', `matches: ${matches.length}`);
    for (const m of matches) {
      const shown = m.tokens.slice(m.matchStart, m.matchStart + m.matchLength).join('');
      out.push(`  ${m.score.toFixed(3)}  ${m.path}:${m.line + 1}:${m.character + 1}  ${JSON.stringify(shown.length > 60 ? shown.slice(0, 60) + '…' : shown)}`);
    }
  }
  process.stdout.write(out.join('\n') + '\n');
}
