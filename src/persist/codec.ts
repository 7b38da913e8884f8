// Bytes in and out: a growable writer, a bounds-checked reader, and the one
// encoding of a whole variable that REGISTER and IMPORT records and snapshot
// frames share.
//
//   variable, numeric (float, integer, boolean)        variable, record (every other type)
//   ┌────────────────────────────────────────┐         ┌────────────────────────────────────────────┐
//   │ u8 0 │ u8 type (0 float, 1 int, 2 bool)│         │ u8 1 │ f64 order                           │
//   │ f64 order │ f64 serial │ f64 version   │         │ u32 n │ n bytes: the variable in the export │
//   │ f64 createdAt │ f64 lastUpdatedAt      │         │        format as JSON (snapshot.ts), which │
//   │ f64 value │ f64 min │ f64 max          │         │        keeps NaN, ±Infinity and -0 exact   │
//   │ u32 n │ name, n UTF-16 code units      │         └────────────────────────────────────────────┘
//   │ u32 n │ metadata, n bytes JSON (0: none)│
//   └────────────────────────────────────────┘
//
// Names and strings must come back exactly, lone surrogates included: names
// travel as UTF-16 code units, and JSON escapes what UTF-8 could not carry.

import { StateError } from '../errors.js';
import { idOf, MAX_SERIAL } from '../ids.js';
import { copyMetadata, EMPTY_METADATA } from '../metadata.js';
import { parseVariable, snapshotVariable } from '../snapshot.js';
import type { NewVariable } from '../storage/storage.js';
import type { StoredVariable } from '../store/journal.js';
import { coerce, parseConstraints, type TypeSpec } from '../types/index.js';
import { booleanSpec, floatSpec, integerSpec, toCell } from '../types/numeric.js';

const KIND_NUMERIC = 0;
const KIND_RECORD = 1;
const NUMERIC_SPECS: readonly TypeSpec[] = [floatSpec as TypeSpec, integerSpec as TypeSpec, booleanSpec as TypeSpec];

/** A variable read back: what Store.add takes, and the order it had. */
export interface DecodedVariable extends NewVariable {
  readonly order: number;
}

/** An append-only byte buffer that grows by doubling. */
export class ByteWriter {
  bytes: Buffer;
  view: DataView;
  at = 0;

  constructor(capacity: number) {
    this.bytes = Buffer.allocUnsafeSlow(capacity);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.at + n > this.bytes.length) this.resize(this.at + n);
  }

  /** Replaces the buffer by one of at least `size` bytes, keeping the bytes written so far. */
  resize(size: number): void {
    let capacity = Math.max(64, this.bytes.length);
    while (capacity < size) capacity *= 2;
    if (capacity === this.bytes.length) return;
    const next = Buffer.allocUnsafeSlow(capacity);
    this.bytes.copy(next, 0, 0, this.at);
    this.bytes = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  /** Gives back a buffer that grew for one large frame (the bytes written so far must fit `capacity`). */
  shrink(capacity: number): void {
    const next = Buffer.allocUnsafeSlow(capacity);
    this.bytes.copy(next, 0, 0, this.at);
    this.bytes = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  u8(value: number): void {
    this.reserve(1);
    this.view.setUint8(this.at, value);
    this.at += 1;
  }

  u32(value: number): void {
    this.reserve(4);
    this.view.setUint32(this.at, value, true);
    this.at += 4;
  }

  f64(value: number): void {
    this.reserve(8);
    this.view.setFloat64(this.at, value, true);
    this.at += 8;
  }

  /** A u32 count of UTF-16 code units, then the units: lossless for any string. */
  utf16(text: string): void {
    this.u32(text.length);
    this.reserve(text.length * 2);
    this.at += this.bytes.write(text, this.at, 'utf16le');
  }

  /** A u32 byte count, then the value as JSON in UTF-8. */
  json(value: unknown): void {
    this.text(JSON.stringify(value));
  }

  /** A u32 byte count, then `text` (well-formed: JSON output) in UTF-8. */
  text(text: string): void {
    const lengthAt = this.at;
    this.reserve(4 + text.length * 3);
    const written = this.bytes.write(text, lengthAt + 4, 'utf8');
    this.view.setUint32(lengthAt, written, true);
    this.at = lengthAt + 4 + written;
  }
}

/** Reads a payload; any read past its end is `corrupt_data` naming the file and the frame. */
export class ByteReader {
  at: number;
  private readonly view: DataView;
  private readonly end: number;

  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
    /** Where the payload's frame starts in the file, for error messages. */
    readonly frameOffset: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.at = 0;
    this.end = bytes.byteLength;
  }

  get done(): boolean {
    return this.at >= this.end;
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.at++);
  }

  u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.at, true);
    this.at += 4;
    return value;
  }

  f64(): number {
    this.need(8);
    const value = this.view.getFloat64(this.at, true);
    this.at += 8;
    return value;
  }

  utf16(): string {
    const units = this.u32();
    this.need(units * 2);
    const text = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.at, units * 2).toString('utf16le');
    this.at += units * 2;
    return text;
  }

  /** The JSON value of a u32-length-prefixed UTF-8 text. */
  json(): unknown {
    const length = this.u32();
    this.need(length);
    const text = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.at, length).toString('utf8');
    this.at += length;
    try {
      return JSON.parse(text);
    } catch {
      throw this.bad('a record holds malformed JSON');
    }
  }

  /** corrupt_data for a record that passed its checksum but does not make sense (a bug or a forged file). */
  bad(why: string): StateError {
    return new StateError('corrupt_data', `${this.file} holds a bad record in the frame at byte ${this.frameOffset}: ${why}`, {
      file: this.file,
      offset: this.frameOffset,
      rule: 'record',
    });
  }

  private need(n: number): void {
    if (this.at + n > this.end) throw this.bad('a record runs past the end of its frame');
  }
}

/** Appends one variable (see the diagram above). */
export function encodeVariable(out: ByteWriter, v: StoredVariable): void {
  if (v.spec.numeric) {
    out.u8(KIND_NUMERIC);
    out.u8(NUMERIC_SPECS.indexOf(v.spec));
    out.f64(v.order);
    out.f64(v.serial);
    out.f64(v.version);
    out.f64(v.createdAt);
    out.f64(v.lastUpdatedAt);
    out.f64(toCell(v.value));
    const bounds = v.constraints as { readonly min?: number; readonly max?: number };
    out.f64(bounds.min ?? Number.NEGATIVE_INFINITY);
    out.f64(bounds.max ?? Number.POSITIVE_INFINITY);
    out.utf16(v.name);
    if (Object.keys(v.metadata).length === 0) out.u32(0);
    else out.json(v.metadata);
    return;
  }
  out.u8(KIND_RECORD);
  out.f64(v.order);
  out.json(snapshotVariable(v));
}

/** Compiled numeric constraints by type and bounds: most variables share a few, and zod costs a microsecond. */
const boundsCache = new Map<string, { readonly constraints: unknown; readonly rules: unknown }>();

function numericConstraints(spec: TypeSpec, min: number, max: number, name: string): { constraints: unknown; rules: unknown } {
  const key = `${spec.type} ${min} ${max}`;
  let parsed = boundsCache.get(key);
  if (parsed === undefined) {
    const raw: Record<string, number> = {};
    if (min !== Number.NEGATIVE_INFINITY) raw.min = min;
    if (max !== Number.POSITIVE_INFINITY) raw.max = max;
    parsed = parseConstraints(spec, raw, name);
    if (boundsCache.size >= 1024) boundsCache.clear();
    boundsCache.set(key, parsed);
  }
  return parsed;
}

const isCount = (n: number, max: number) => Number.isInteger(n) && n >= 0 && n <= max;

/** Reads one variable, validated as an import is (type, constraints, value, metadata); corrupt_data if it is not valid. */
export function decodeVariable(input: ByteReader): DecodedVariable {
  const kind = input.u8();
  if (kind === KIND_RECORD) {
    const order = input.f64();
    const raw = input.json() as { id?: unknown } | null;
    const key = raw !== null && typeof raw === 'object' && typeof raw.id === 'string' ? raw.id : '';
    let parsed: ReturnType<typeof parseVariable>;
    try {
      parsed = parseVariable(key, raw);
    } catch (error) {
      throw input.bad(error instanceof Error ? error.message : String(error));
    }
    if (!isCount(order, Number.MAX_SAFE_INTEGER) || order === 0) throw input.bad(`order ${order} is not a positive integer`);
    return { ...parsed, order };
  }
  if (kind !== KIND_NUMERIC) throw input.bad(`unknown variable kind ${kind}`);
  const spec = NUMERIC_SPECS[input.u8()];
  const order = input.f64();
  const serial = input.f64();
  const version = input.f64();
  const createdAt = input.f64();
  const lastUpdatedAt = input.f64();
  const cell = input.f64();
  const min = input.f64();
  const max = input.f64();
  const name = input.utf16();
  const metadataBytes = input.u32();
  let metadata = EMPTY_METADATA;
  if (metadataBytes > 0) {
    input.at -= 4;
    try {
      metadata = copyMetadata(input.json(), 'a journaled variable');
    } catch (error) {
      throw input.bad(error instanceof Error ? error.message : String(error));
    }
  }
  if (spec === undefined) throw input.bad('unknown numeric type');
  if (name.length === 0) throw input.bad('a variable without a name');
  if (!isCount(order, Number.MAX_SAFE_INTEGER) || order === 0) throw input.bad(`order ${order} is not a positive integer`);
  if (!isCount(serial, MAX_SERIAL) || serial === 0) throw input.bad(`${idOf(name, serial)} has no valid serial`);
  if (!isCount(version, Number.MAX_SAFE_INTEGER)) throw input.bad(`version ${version} of ${JSON.stringify(name)}`);
  if (!Number.isFinite(createdAt) || !Number.isFinite(lastUpdatedAt)) throw input.bad(`the times of ${JSON.stringify(name)}`);
  let constraints: { constraints: unknown; rules: unknown };
  try {
    constraints = numericConstraints(spec, min, max, name);
  } catch (error) {
    throw input.bad(error instanceof Error ? error.message : String(error));
  }
  const value = coerce(spec, cell);
  if (value === undefined || spec.violation(value, constraints.rules) !== undefined) {
    throw input.bad(`value ${cell} does not fit ${JSON.stringify(name)}`);
  }
  return { order, serial, name, spec, metadata, value, version, createdAt, lastUpdatedAt, ...constraints };
}
