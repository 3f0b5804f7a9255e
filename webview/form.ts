// The hyperparameter form as data: one entry per FormValues field (label, kind, choices, hint) and
// the check of what the user typed against FORM_BOUNDS, with the inline message to show. DOM-free.

import { FORM_BOUNDS, FormValues } from './protocol';

export type FormKey = keyof FormValues;
export type NumericKey = keyof typeof FORM_BOUNDS;
export type ChoiceKey = Exclude<FormKey, NumericKey>;

export interface NumberField {
  kind: 'number';
  key: NumericKey;
  label: string;
  hint?: string;
}

export interface ChoiceField {
  kind: 'choice';
  key: ChoiceKey;
  label: string;
  options: readonly (readonly [value: string, label: string])[];
  hint?: string;
}

export type FieldDef = NumberField | ChoiceField;

export const FIELDS: readonly FieldDef[] = [
  { kind: 'choice', key: 'architecture', label: 'Architecture', options: [['lstm', 'LSTM'], ['gru', 'GRU'], ['rnn', 'RNN (tanh)']] },
  { kind: 'number', key: 'hiddenSize', label: 'Hidden size' },
  { kind: 'number', key: 'layers', label: 'Layers' },
  { kind: 'number', key: 'embeddingSize', label: 'Embedding size' },
  { kind: 'number', key: 'dropout', label: 'Dropout', hint: 'between stacked layers and before the decoder' },
  { kind: 'number', key: 'sequenceLength', label: 'Sequence length', hint: 'steps of truncated BPTT' },
  { kind: 'number', key: 'batchSize', label: 'Batch size' },
  { kind: 'number', key: 'learningRate', label: 'Learning rate', hint: 'Adam' },
  { kind: 'number', key: 'gradientClip', label: 'Gradient clip', hint: 'by global norm; 0 turns it off' },
  { kind: 'choice', key: 'tokenizer', label: 'Tokenizer', options: [['char', 'Characters'], ['bpe', 'BPE (byte pairs)']] },
  { kind: 'number', key: 'vocabularySize', label: 'Vocabulary size', hint: 'BPE only' },
  { kind: 'number', key: 'timeBudgetSeconds', label: 'Time budget (seconds)' },
  { kind: 'choice', key: 'backend', label: 'Backend', options: [['auto', 'Auto (the fastest here)'], ['webgpu', 'WebGPU (this panel)'], ['wasm', 'CPU, WebAssembly SIMD (worker threads)'], ['cpu', 'CPU, reference engine (slow)']] },
];

export type FieldCheck<T> = { ok: true; value: T } | { ok: false; message: string };

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Checks a typed value of a numeric field against FORM_BOUNDS. */
export function checkNumber(key: NumericKey, raw: string, label = labelOf(key)): FieldCheck<number> {
  const b = FORM_BOUNDS[key];
  const text = raw.trim();
  const range = `${b.integer ? 'a whole number' : 'a number'} from ${formatValue(b.min)} to ${formatValue(b.max)}`;
  if (text === '') return { ok: false, message: `${label}: enter ${range}.` };
  if (!NUMBER.test(text)) return { ok: false, message: `${label}: "${text.slice(0, 20)}" is not a number; enter ${range}.` };
  const v = Number(text);
  if (!Number.isFinite(v)) return { ok: false, message: `${label}: enter ${range}.` };
  if (b.integer && !Number.isInteger(v)) return { ok: false, message: `${label} must be ${range}.` };
  if (v < b.min || v > b.max) return { ok: false, message: `${label} must be ${range}.` };
  return { ok: true, value: v };
}

/** Checks a choice field's value. */
export function checkChoice(key: ChoiceKey, raw: string): FieldCheck<string> {
  const def = FIELDS.find((f) => f.key === key) as ChoiceField;
  return def.options.some(([v]) => v === raw) ? { ok: true, value: raw } : { ok: false, message: `${def.label}: choose one of the listed values.` };
}

export function labelOf(key: FormKey): string {
  return FIELDS.find((f) => f.key === key)?.label ?? key;
}

/** A number as the form shows it (no float noise, no exponent for ordinary values). */
export function formatValue(v: number): string {
  if (Number.isInteger(v)) return String(v);
  if (Math.abs(v) < 1e-3) return v.toExponential().replace(/\.?0+e/, 'e');
  return String(Number(v.toPrecision(10)));
}

/** Whether a field applies with the other values (the vocabulary size only for BPE). */
export function fieldApplies(key: FormKey, values: Pick<FormValues, 'tokenizer'>): boolean {
  return key !== 'vocabularySize' || values.tokenizer === 'bpe';
}
