// The declared shape of a TypeScript type, read from the sources with the compiler, for tests that
// fuzz a runtime checker against the type it is meant to enforce (test/protocol.test.ts): which
// fields each object has, which are optional, which may be null, and what kinds of value each takes.
// Reading the type instead of keeping a hand list means a message or field added to the source is
// fuzzed (or reported as not covered by a sample) without editing the test.

import * as path from 'path';
import * as ts from 'typescript';

/** One alternative of a value's type. */
export type Alt =
  | { kind: 'string'; literals: string[] | null } // null: any string
  | { kind: 'number' }
  | { kind: 'boolean' }
  | { kind: 'bytes' }
  | { kind: 'f32' }
  | { kind: 'i32' }
  | { kind: 'array'; item: Shape }
  | { kind: 'object'; props: Map<string, Prop> };

/** A value's type: its alternatives, and whether null is allowed. */
export interface Shape {
  alts: Alt[];
  nullable: boolean;
}

export interface Prop {
  /** May be left out (`?` or `| undefined`). */
  optional: boolean;
  shape: Shape;
}

/** Reads `typeName` (a type alias or interface exported by `file`, relative to `root`) with the project's tsconfig.json. */
export function readTypeShape(root: string, file: string, typeName: string): Shape {
  const configPath = path.join(root, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const fileName = path.join(root, file);
  const program = ts.createProgram([fileName], { ...options, noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(fileName);
  if (!source) throw new Error(`${fileName} is not in the program`);
  const symbol = checker.getSymbolAtLocation(source);
  const exported = symbol && checker.getExportsOfModule(symbol).find((s) => s.name === typeName);
  if (!exported) throw new Error(`${file} exports no type ${typeName}`);
  return new ShapeReader(checker).shape(checker.getDeclaredTypeOfSymbol(exported));
}

class ShapeReader {
  private readonly seen = new Map<ts.Type, Shape>();

  constructor(private readonly checker: ts.TypeChecker) {}

  shape(type: ts.Type): Shape {
    const cached = this.seen.get(type);
    if (cached) return cached;
    const out: Shape = { alts: [], nullable: false };
    this.seen.set(type, out); // before recursing, so a recursive type ends
    const members = type.isUnion() ? type.types : [type];
    const literals: string[] = [];
    let anyString = false, number = false, boolean = false;
    for (const t of members) {
      const f = t.flags;
      if (f & ts.TypeFlags.Null) out.nullable = true;
      else if (f & (ts.TypeFlags.Undefined | ts.TypeFlags.Void)) continue; // optionality is the property's
      else if (f & ts.TypeFlags.StringLiteral) literals.push((t as ts.StringLiteralType).value);
      else if (f & ts.TypeFlags.String) anyString = true;
      else if (f & (ts.TypeFlags.Number | ts.TypeFlags.NumberLiteral)) number = true;
      else if (f & (ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral)) boolean = true;
      else if (f & ts.TypeFlags.Object || f & ts.TypeFlags.Intersection) out.alts.push(this.objectAlt(t));
      else throw new Error(`unsupported type ${this.checker.typeToString(t)}`);
    }
    if (anyString) out.alts.push({ kind: 'string', literals: null });
    else if (literals.length) out.alts.push({ kind: 'string', literals });
    if (number) out.alts.push({ kind: 'number' });
    if (boolean) out.alts.push({ kind: 'boolean' });
    return out;
  }

  private objectAlt(t: ts.Type): Alt {
    if (this.checker.isArrayType(t)) return { kind: 'array', item: this.shape(this.checker.getTypeArguments(t as ts.TypeReference)[0]) };
    const name = t.getSymbol()?.name;
    if (name === 'Uint8Array') return { kind: 'bytes' };
    if (name === 'Float32Array') return { kind: 'f32' };
    if (name === 'Int32Array') return { kind: 'i32' };
    if (this.checker.getSignaturesOfType(t, ts.SignatureKind.Call).length) throw new Error(`a function type in a message: ${this.checker.typeToString(t)}`);
    const props = new Map<string, Prop>();
    for (const p of this.checker.getPropertiesOfType(t)) {
      const type = this.checker.getTypeOfSymbol(p);
      const optional = (p.flags & ts.SymbolFlags.Optional) !== 0 || (type.isUnion() && type.types.some((m) => m.flags & ts.TypeFlags.Undefined));
      props.set(p.name, { optional, shape: this.shape(type) });
    }
    return { kind: 'object', props };
  }
}

/** The discriminating field of a union of objects (a field every alternative has, with string literals only), if any. */
export function discriminant(objects: Extract<Alt, { kind: 'object' }>[]): string | null {
  if (objects.length < 2) return null;
  for (const key of objects[0].props.keys()) {
    const literal = (o: Extract<Alt, { kind: 'object' }>) => {
      const s = o.props.get(key)?.shape;
      return s && !s.nullable && s.alts.length === 1 && s.alts[0].kind === 'string' && s.alts[0].literals !== null;
    };
    if (objects.every(literal)) return key;
  }
  return null;
}

/** Whether `v` is one of the kinds of value `shape` declares (literal strings included; numeric bounds are not types). */
export function admits(shape: Shape, v: unknown): boolean {
  if (v === null) return shape.nullable;
  return shape.alts.some((a) => {
    switch (a.kind) {
      case 'string': return typeof v === 'string' && (a.literals === null || a.literals.includes(v));
      case 'number': return typeof v === 'number';
      case 'boolean': return typeof v === 'boolean';
      case 'bytes': return v instanceof Uint8Array;
      case 'f32': return v instanceof Float32Array;
      case 'i32': return v instanceof Int32Array;
      case 'array': return Array.isArray(v) && v.every((x) => admits(a.item, x));
      case 'object':
        return typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v)
          && [...a.props].every(([k, p]) => (Object.hasOwn(v, k) ? admits(p.shape, (v as Record<string, unknown>)[k]) : p.optional));
    }
  });
}

/** The alternative of `shape` that `v` is an instance of (for a union of objects, the one its discriminant names). */
export function altOf(shape: Shape, v: unknown): Alt | undefined {
  return shape.alts.find((a) => admits({ alts: [a], nullable: false }, v));
}
