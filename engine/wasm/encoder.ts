/**
 * A small WebAssembly binary encoder: LEB128 numbers, a function body
 * builder with the instructions tapegrad's code generator uses (scalar f64
 * and f32, 128-bit SIMD, relaxed-SIMD fused multiply-add, bulk memory fill),
 * and a module assembler for types, imports, functions, one memory, exports
 * and code. No toolchain, no dependency.
 *
 * @module
 */

/** A WebAssembly value type's byte. */
export const ValType = {
  /** 32-bit integer. */
  I32: 0x7f,
  /** 64-bit integer. */
  I64: 0x7e,
  /** 32-bit float. */
  F32: 0x7d,
  /** 64-bit float. */
  F64: 0x7c,
  /** 128-bit vector. */
  V128: 0x7b,
} as const;

/** One of the values of {@linkcode ValType}. */
export type ValTypeCode = typeof ValType[keyof typeof ValType];

/**
 * Appends `n` as unsigned LEB128.
 *
 * @param out The byte list to append to.
 * @param n A non-negative integer below 2^32.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unsignedLeb128 } from "./encoder.ts";
 * const out: number[] = [];
 * unsignedLeb128(out, 624485);
 * assert.deepEqual(out, [0xe5, 0x8e, 0x26]);
 * ```
 */
export function unsignedLeb128(out: number[], n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RangeError(
      `Unsigned LEB128 needs an integer in [0, 2^32), got ${n}`,
    );
  }
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
}

/**
 * Appends `n` as signed LEB128.
 *
 * @param out The byte list to append to.
 * @param n An integer in [-2^31, 2^31).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { signedLeb128 } from "./encoder.ts";
 * const out: number[] = [];
 * signedLeb128(out, -123456);
 * assert.deepEqual(out, [0xc0, 0xbb, 0x78]);
 * ```
 */
export function signedLeb128(out: number[], n: number): void {
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) {
    throw new RangeError(
      `Signed LEB128 needs an integer in [-2^31, 2^31), got ${n}`,
    );
  }
  n |= 0;
  while (true) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) ||
      (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

const SIMD = 0xfd;
const MISC = 0xfc;

/**
 * A function body under construction: one method per instruction, each
 * appending its bytes. Memory instructions take a byte offset and use the
 * natural alignment hint.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Body } from "./encoder.ts";
 * const body = new Body();
 * body.localGet(0).localGet(1).f64Add();
 * assert.deepEqual(body.bytes, [0x20, 0, 0x20, 1, 0xa0]);
 * ```
 */
export class Body {
  /** The instruction bytes so far (without locals or the final `end`). */
  readonly bytes: number[] = [];

  private op(...b: number[]): this {
    for (const x of b) this.bytes.push(x);
    return this;
  }
  private u(n: number): this {
    unsignedLeb128(this.bytes, n);
    return this;
  }
  private simd(code: number): this {
    this.bytes.push(SIMD);
    return this.u(code);
  }
  private mem(align: number, offset: number): this {
    return this.u(align).u(offset);
  }

  // Control.
  /** `block` with no result. @returns This body. */
  block(): this {
    return this.op(0x02, 0x40);
  }
  /** `loop` with no result. @returns This body. */
  loop(): this {
    return this.op(0x03, 0x40);
  }
  /** `if` with no result. @returns This body. */
  if(): this {
    return this.op(0x04, 0x40);
  }
  /** `else`. @returns This body. */
  else(): this {
    return this.op(0x05);
  }
  /** `end`. @returns This body. */
  end(): this {
    return this.op(0x0b);
  }
  /** `br depth`. @param depth Label depth. @returns This body. */
  br(depth: number): this {
    return this.op(0x0c).u(depth);
  }
  /** `br_if depth`. @param depth Label depth. @returns This body. */
  brIf(depth: number): this {
    return this.op(0x0d).u(depth);
  }
  /** `call f`. @param f Function index. @returns This body. */
  call(f: number): this {
    return this.op(0x10).u(f);
  }
  /** `select`. @returns This body. */
  select(): this {
    return this.op(0x1b);
  }
  /** `drop`. @returns This body. */
  drop(): this {
    return this.op(0x1a);
  }

  // Locals.
  /** `local.get`. @param i Local index. @returns This body. */
  localGet(i: number): this {
    return this.op(0x20).u(i);
  }
  /** `local.set`. @param i Local index. @returns This body. */
  localSet(i: number): this {
    return this.op(0x21).u(i);
  }
  /** `local.tee`. @param i Local index. @returns This body. */
  localTee(i: number): this {
    return this.op(0x22).u(i);
  }

  // Memory.
  /** `f32.load`. @param offset Byte offset. @returns This body. */
  f32Load(offset = 0): this {
    return this.op(0x2a).mem(2, offset);
  }
  /** `f64.load`. @param offset Byte offset. @returns This body. */
  f64Load(offset = 0): this {
    return this.op(0x2b).mem(3, offset);
  }
  /** `f32.store`. @param offset Byte offset. @returns This body. */
  f32Store(offset = 0): this {
    return this.op(0x38).mem(2, offset);
  }
  /** `f64.store`. @param offset Byte offset. @returns This body. */
  f64Store(offset = 0): this {
    return this.op(0x39).mem(3, offset);
  }
  /** `v128.load` (alignment hint 8 bytes). @param offset Byte offset. @returns This body. */
  v128Load(offset = 0): this {
    return this.simd(0x00).mem(3, offset);
  }
  /** `v128.store` (alignment hint 8 bytes). @param offset Byte offset. @returns This body. */
  v128Store(offset = 0): this {
    return this.simd(0x0b).mem(3, offset);
  }
  /** `memory.fill` on memory 0: [dest, value, length]. @returns This body. */
  memoryFill(): this {
    return this.op(MISC).u(11).op(0x00);
  }

  // Constants.
  /** `i32.const`. @param n The value. @returns This body. */
  i32Const(n: number): this {
    this.op(0x41);
    signedLeb128(this.bytes, n);
    return this;
  }
  /** `f64.const`. @param x The value. @returns This body. */
  f64Const(x: number): this {
    const b = new Uint8Array(new Float64Array([x]).buffer);
    return this.op(0x44, ...b);
  }
  /** `f32.const`. @param x The value (rounded to float32). @returns This body. */
  f32Const(x: number): this {
    const b = new Uint8Array(new Float32Array([x]).buffer);
    return this.op(0x43, ...b);
  }

  // i32 arithmetic.
  /** `i32.eqz`. @returns This body. */
  i32Eqz(): this {
    return this.op(0x45);
  }
  /** `i32.lt_s`. @returns This body. */
  i32LtS(): this {
    return this.op(0x48);
  }
  /** `i32.gt_s`. @returns This body. */
  i32GtS(): this {
    return this.op(0x4a);
  }
  /** `i32.ge_s`. @returns This body. */
  i32GeS(): this {
    return this.op(0x4e);
  }
  /** `i32.add`. @returns This body. */
  i32Add(): this {
    return this.op(0x6a);
  }
  /** `i32.sub`. @returns This body. */
  i32Sub(): this {
    return this.op(0x6b);
  }
  /** `i32.mul`. @returns This body. */
  i32Mul(): this {
    return this.op(0x6c);
  }
  /** `i32.and`. @returns This body. */
  i32And(): this {
    return this.op(0x71);
  }
  /** `i32.or`. @returns This body. */
  i32Or(): this {
    return this.op(0x72);
  }

  // f32 / f64 comparisons and arithmetic.
  /** `f32.eq`. @returns This body. */
  f32Eq(): this {
    return this.op(0x5b);
  }
  /** `f32.lt`. @returns This body. */
  f32Lt(): this {
    return this.op(0x5d);
  }
  /** `f32.gt`. @returns This body. */
  f32Gt(): this {
    return this.op(0x5e);
  }
  /** `f32.ge`. @returns This body. */
  f32Ge(): this {
    return this.op(0x60);
  }
  /** `f32.le`. @returns This body. */
  f32Le(): this {
    return this.op(0x5f);
  }
  /** `f64.eq`. @returns This body. */
  f64Eq(): this {
    return this.op(0x61);
  }
  /** `f64.lt`. @returns This body. */
  f64Lt(): this {
    return this.op(0x63);
  }
  /** `f64.gt`. @returns This body. */
  f64Gt(): this {
    return this.op(0x64);
  }
  /** `f64.le`. @returns This body. */
  f64Le(): this {
    return this.op(0x65);
  }
  /** `f64.ge`. @returns This body. */
  f64Ge(): this {
    return this.op(0x66);
  }
  /** `f32.abs`. @returns This body. */
  f32Abs(): this {
    return this.op(0x8b);
  }
  /** `f32.neg`. @returns This body. */
  f32Neg(): this {
    return this.op(0x8c);
  }
  /** `f32.sqrt`. @returns This body. */
  f32Sqrt(): this {
    return this.op(0x91);
  }
  /** `f32.add`. @returns This body. */
  f32Add(): this {
    return this.op(0x92);
  }
  /** `f32.sub`. @returns This body. */
  f32Sub(): this {
    return this.op(0x93);
  }
  /** `f32.mul`. @returns This body. */
  f32Mul(): this {
    return this.op(0x94);
  }
  /** `f32.div`. @returns This body. */
  f32Div(): this {
    return this.op(0x95);
  }
  /** `f32.min`. @returns This body. */
  f32Min(): this {
    return this.op(0x96);
  }
  /** `f32.max`. @returns This body. */
  f32Max(): this {
    return this.op(0x97);
  }
  /** `f64.abs`. @returns This body. */
  f64Abs(): this {
    return this.op(0x99);
  }
  /** `f64.neg`. @returns This body. */
  f64Neg(): this {
    return this.op(0x9a);
  }
  /** `f64.sqrt`. @returns This body. */
  f64Sqrt(): this {
    return this.op(0x9f);
  }
  /** `f64.add`. @returns This body. */
  f64Add(): this {
    return this.op(0xa0);
  }
  /** `f64.sub`. @returns This body. */
  f64Sub(): this {
    return this.op(0xa1);
  }
  /** `f64.mul`. @returns This body. */
  f64Mul(): this {
    return this.op(0xa2);
  }
  /** `f64.div`. @returns This body. */
  f64Div(): this {
    return this.op(0xa3);
  }
  /** `f64.min`. @returns This body. */
  f64Min(): this {
    return this.op(0xa4);
  }
  /** `f64.max`. @returns This body. */
  f64Max(): this {
    return this.op(0xa5);
  }
  /** `f32.demote_f64`. @returns This body. */
  f32DemoteF64(): this {
    return this.op(0xb6);
  }
  /** `f64.promote_f32`. @returns This body. */
  f64PromoteF32(): this {
    return this.op(0xbb);
  }

  // SIMD.
  /** `f32x4.splat`. @returns This body. */
  f32x4Splat(): this {
    return this.simd(0x13);
  }
  /** `f64x2.splat`. @returns This body. */
  f64x2Splat(): this {
    return this.simd(0x14);
  }
  /** `f32x4.extract_lane`. @param lane 0…3. @returns This body. */
  f32x4ExtractLane(lane: number): this {
    return this.simd(0x1f).op(lane);
  }
  /** `f64x2.extract_lane`. @param lane 0 or 1. @returns This body. */
  f64x2ExtractLane(lane: number): this {
    return this.simd(0x21).op(lane);
  }
  /** `f32x4.lt` (lane mask). @returns This body. */
  f32x4Lt(): this {
    return this.simd(0x43);
  }
  /** `f32x4.gt` (lane mask). @returns This body. */
  f32x4Gt(): this {
    return this.simd(0x44);
  }
  /** `f64x2.lt` (lane mask). @returns This body. */
  f64x2Lt(): this {
    return this.simd(0x49);
  }
  /** `f64x2.gt` (lane mask). @returns This body. */
  f64x2Gt(): this {
    return this.simd(0x4a);
  }
  /**
   * `v128.bitselect`: bits of the first operand where the third (mask) is
   * set, else of the second. @returns This body.
   */
  v128Bitselect(): this {
    return this.simd(0x52);
  }
  /** `f32x4.add`. @returns This body. */
  f32x4Add(): this {
    return this.simd(0xe4);
  }
  /** `f32x4.sub`. @returns This body. */
  f32x4Sub(): this {
    return this.simd(0xe5);
  }
  /** `f32x4.mul`. @returns This body. */
  f32x4Mul(): this {
    return this.simd(0xe6);
  }
  /** `f64x2.add`. @returns This body. */
  f64x2Add(): this {
    return this.simd(0xf0);
  }
  /** `f64x2.sub`. @returns This body. */
  f64x2Sub(): this {
    return this.simd(0xf1);
  }
  /** `f64x2.mul`. @returns This body. */
  f64x2Mul(): this {
    return this.simd(0xf2);
  }
  /** `f32x4.relaxed_madd` (a·b + c, maybe fused). @returns This body. */
  f32x4RelaxedMadd(): this {
    return this.simd(0x105);
  }
  /** `f64x2.relaxed_madd` (a·b + c, maybe fused). @returns This body. */
  f64x2RelaxedMadd(): this {
    return this.simd(0x107);
  }
}

/** A function signature. */
export interface FuncType {
  /** Parameter types. */
  params: readonly ValTypeCode[];
  /** Result types. */
  results: readonly ValTypeCode[];
}

/** A function imported from JavaScript. */
export interface FuncImport {
  /** Import module name. */
  module: string;
  /** Import field name. */
  name: string;
  /** Its signature. */
  type: FuncType;
}

/** A function defined in the module. */
export interface FuncDef {
  /** Its signature. */
  type: FuncType;
  /** Extra locals after the parameters, one type each. */
  locals: readonly ValTypeCode[];
  /** The body's instructions, without the final `end`. */
  body: Body;
  /** The export name, if exported. */
  export?: string;
}

/** What {@linkcode encodeModule} assembles. */
export interface ModuleSpec {
  /** Imported functions: they take function indices 0, 1, … */
  imports?: readonly FuncImport[];
  /** Defined functions: indices follow the imports. */
  functions: readonly FuncDef[];
  /** One memory of this many 64 KiB pages, exported as `"memory"`. */
  memoryPages?: number;
}

function section(out: number[], id: number, content: number[]): void {
  out.push(id);
  unsignedLeb128(out, content.length);
  for (const b of content) out.push(b);
}

function name(out: number[], s: string): void {
  const b = new TextEncoder().encode(s);
  unsignedLeb128(out, b.length);
  for (const x of b) out.push(x);
}

function vector<T>(out: number[], items: readonly T[], each: (x: T) => void) {
  unsignedLeb128(out, items.length);
  for (const x of items) each(x);
}

/**
 * Assembles a module: type, import, function, memory, export and code
 * sections, in the order the binary format requires.
 *
 * @param spec The imports, functions and memory.
 * @returns The module's bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Body, encodeModule, ValType } from "./encoder.ts";
 * const F64 = ValType.F64;
 * const bytes = encodeModule({
 *   functions: [{
 *     type: { params: [F64, F64], results: [F64] },
 *     locals: [],
 *     body: new Body().localGet(0).localGet(1).f64Mul(),
 *     export: "mul",
 *   }],
 * });
 * const mul = (new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports
 *   .mul) as (a: number, b: number) => number;
 * assert.equal(mul(3, 0.5), 1.5);
 * ```
 */
export function encodeModule(spec: ModuleSpec): Uint8Array<ArrayBuffer> {
  const imports = spec.imports ?? [];
  const types: string[] = [];
  const typeIndex = (t: FuncType) => {
    const key = `${t.params.join(",")}:${t.results.join(",")}`;
    let i = types.indexOf(key);
    if (i < 0) i = types.push(key) - 1;
    return i;
  };
  const importTypes = imports.map((f) => typeIndex(f.type));
  const funcTypes = spec.functions.map((f) => typeIndex(f.type));
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const typeSec: number[] = [];
  vector(typeSec, types, (key) => {
    const [p, r] = key.split(":").map((s) => (s === "" ? [] : s.split(",")));
    typeSec.push(0x60);
    vector(typeSec, p, (x) => typeSec.push(Number(x)));
    vector(typeSec, r, (x) => typeSec.push(Number(x)));
  });
  section(out, 1, typeSec);
  if (imports.length > 0) {
    const sec: number[] = [];
    vector(sec, imports, (f) => {
      name(sec, f.module);
      name(sec, f.name);
      sec.push(0x00);
      unsignedLeb128(sec, importTypes[imports.indexOf(f)]);
    });
    section(out, 2, sec);
  }
  const funcSec: number[] = [];
  vector(funcSec, funcTypes, (t) => unsignedLeb128(funcSec, t));
  section(out, 3, funcSec);
  if (spec.memoryPages !== undefined) {
    const sec: number[] = [];
    vector(sec, [spec.memoryPages], (pages) => {
      sec.push(0x00);
      unsignedLeb128(sec, pages);
    });
    section(out, 5, sec);
  }
  const exports: [string, number, number][] = [];
  spec.functions.forEach((f, k) => {
    if (f.export !== undefined) {
      exports.push([f.export, 0x00, imports.length + k]);
    }
  });
  if (spec.memoryPages !== undefined) exports.push(["memory", 0x02, 0]);
  const exportSec: number[] = [];
  vector(exportSec, exports, ([n, kind, index]) => {
    name(exportSec, n);
    exportSec.push(kind);
    unsignedLeb128(exportSec, index);
  });
  section(out, 7, exportSec);
  const codeSec: number[] = [];
  vector(codeSec, spec.functions, (f) => {
    const fn: number[] = [];
    // Locals compressed into runs of one type.
    const runs: [number, number][] = [];
    for (const t of f.locals) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    vector(fn, runs, ([count, t]) => {
      unsignedLeb128(fn, count);
      fn.push(t);
    });
    for (const b of f.body.bytes) fn.push(b);
    fn.push(0x0b);
    unsignedLeb128(codeSec, fn.length);
    for (const b of fn) codeSec.push(b);
  });
  section(out, 10, codeSec);
  return new Uint8Array(out);
}

/**
 * Whether this runtime compiles 128-bit SIMD (`f64x2.add`).
 *
 * @returns `true` when a tiny SIMD module validates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { simdAvailable } from "./encoder.ts";
 * assert.equal(simdAvailable(), true); // Deno's V8 has it
 * ```
 */
export function simdAvailable(): boolean {
  return validates(new Body().localGet(0).localGet(0).f64x2Add());
}

/**
 * Whether this runtime compiles relaxed-SIMD fused multiply-add
 * (`f64x2.relaxed_madd`).
 *
 * @returns `true` when a tiny relaxed-SIMD module validates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { relaxedSimdAvailable } from "./encoder.ts";
 * assert.equal(typeof relaxedSimdAvailable(), "boolean");
 * ```
 */
export function relaxedSimdAvailable(): boolean {
  return validates(
    new Body().localGet(0).localGet(0).localGet(0).f64x2RelaxedMadd(),
  );
}

function validates(body: Body): boolean {
  if (typeof WebAssembly !== "object") return false;
  try {
    return WebAssembly.validate(encodeModule({
      functions: [{
        type: { params: [ValType.V128], results: [ValType.V128] },
        locals: [],
        body,
      }],
    }));
  } catch {
    return false;
  }
}
