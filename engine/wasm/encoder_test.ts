import assert from "node:assert/strict";
import {
  Body,
  encodeModule,
  relaxedSimdAvailable,
  signedLeb128,
  simdAvailable,
  unsignedLeb128,
  ValType,
} from "./encoder.ts";

const { F64, F32, I32, V128 } = ValType;

function leb(f: (out: number[], n: number) => void, n: number): number[] {
  const out: number[] = [];
  f(out, n);
  return out;
}

Deno.test("unsignedLeb128() encodes known values", () => {
  assert.deepEqual(leb(unsignedLeb128, 0), [0]);
  assert.deepEqual(leb(unsignedLeb128, 127), [0x7f]);
  assert.deepEqual(leb(unsignedLeb128, 128), [0x80, 0x01]);
  assert.deepEqual(leb(unsignedLeb128, 0xffffffff), [
    0xff,
    0xff,
    0xff,
    0xff,
    0x0f,
  ]);
});

Deno.test("signedLeb128() encodes known values", () => {
  assert.deepEqual(leb(signedLeb128, 0), [0]);
  assert.deepEqual(leb(signedLeb128, -1), [0x7f]);
  assert.deepEqual(leb(signedLeb128, 63), [0x3f]);
  assert.deepEqual(leb(signedLeb128, 64), [0xc0, 0x00]);
  assert.deepEqual(leb(signedLeb128, -64), [0x40]);
  assert.deepEqual(leb(signedLeb128, -65), [0xbf, 0x7f]);
  assert.deepEqual(leb(signedLeb128, -0x80000000), [
    0x80,
    0x80,
    0x80,
    0x80,
    0x78,
  ]);
});

Deno.test("LEB128 encoders reject values out of range", () => {
  assert.throws(
    () => leb(unsignedLeb128, -1),
    RangeError,
    "Unsigned LEB128 needs an integer in [0, 2^32), got -1",
  );
  assert.throws(
    () => leb(signedLeb128, 2 ** 31),
    RangeError,
    "Signed LEB128 needs an integer in [-2^31, 2^31), got 2147483648",
  );
});

Deno.test("Body encodes known byte sequences", () => {
  assert.deepEqual(new Body().f64Load(16).bytes, [0x2b, 3, 16]);
  assert.deepEqual(new Body().v128Load(8).bytes, [0xfd, 0x00, 3, 8]);
  assert.deepEqual(new Body().v128Store(0).bytes, [0xfd, 0x0b, 3, 0]);
  assert.deepEqual(new Body().f64x2Mul().bytes, [0xfd, 0xf2, 0x01]);
  assert.deepEqual(new Body().f64x2Sub().bytes, [0xfd, 0xf1, 0x01]);
  assert.deepEqual(new Body().f32x4Sub().bytes, [0xfd, 0xe5, 0x01]);
  assert.deepEqual(new Body().f32x4Lt().bytes, [0xfd, 0x43]);
  assert.deepEqual(new Body().f64x2Gt().bytes, [0xfd, 0x4a]);
  assert.deepEqual(new Body().v128Bitselect().bytes, [0xfd, 0x52]);
  assert.deepEqual(new Body().f64x2RelaxedMadd().bytes, [0xfd, 0x87, 0x02]);
  assert.deepEqual(new Body().f32x4RelaxedMadd().bytes, [0xfd, 0x85, 0x02]);
  assert.deepEqual(new Body().memoryFill().bytes, [0xfc, 0x0b, 0x00]);
  assert.deepEqual(new Body().i32Const(-1).bytes, [0x41, 0x7f]);
  assert.deepEqual(new Body().f64Const(1).bytes, [
    0x44,
    0,
    0,
    0,
    0,
    0,
    0,
    0xf0,
    0x3f,
  ]);
  assert.deepEqual(new Body().f32Const(1).bytes, [0x43, 0, 0, 0x80, 0x3f]);
});

Deno.test("encodeModule() emits the smallest module byte for byte", () => {
  const bytes = encodeModule({
    functions: [{
      type: { params: [], results: [] },
      locals: [],
      body: new Body(),
    }],
  });
  assert.deepEqual([...bytes], [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00, // magic, version
    0x01,
    0x04,
    0x01,
    0x60,
    0x00,
    0x00, // type section: () -> ()
    0x03,
    0x02,
    0x01,
    0x00, // function section
    0x07,
    0x01,
    0x00, // export section: empty
    0x0a,
    0x04,
    0x01,
    0x02,
    0x00,
    0x0b, // code: no locals, end
  ]);
  assert.equal(WebAssembly.validate(bytes), true);
});

Deno.test("encodeModule() builds a module with imports, memory, loops and SIMD that runs", () => {
  // sum(n): Σ_{k<n} x[k]·y[k] with x at 0, y at 8n, two lanes at a time,
  // plus log(1) imported from JavaScript (0).
  const body = new Body();
  const n = 0, k = 1, acc = 2;
  body.block().loop()
    .localGet(k).localGet(n).i32GeS().brIf(1)
    .localGet(k).i32Const(8).i32Mul().v128Load()
    .localGet(k).localGet(n).i32Add().i32Const(8).i32Mul().v128Load()
    .f64x2Mul().localGet(acc).f64x2Add().localSet(acc)
    .localGet(k).i32Const(2).i32Add().localSet(k)
    .br(0).end().end()
    .localGet(acc).f64x2ExtractLane(0)
    .localGet(acc).f64x2ExtractLane(1).f64Add()
    .f64Const(1).call(0).f64Add();
  const bytes = encodeModule({
    imports: [{
      module: "m",
      name: "log",
      type: { params: [F64], results: [F64] },
    }],
    functions: [{
      type: { params: [I32], results: [F64] },
      locals: [I32, V128],
      body,
      export: "dot",
    }],
    memoryPages: 1,
  });
  assert.equal(WebAssembly.validate(bytes), true);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    m: { log: Math.log },
  });
  const memory = instance.exports.memory as WebAssembly.Memory;
  const f = new Float64Array(memory.buffer);
  f.set([1, 2, 3, 4, 10, 20, 30, 40]);
  const dot = instance.exports.dot as (n: number) => number;
  assert.equal(dot(4), 10 + 40 + 90 + 160);
});

Deno.test("encodeModule() modules with float32, fill and relaxed madd validate", () => {
  const body = new Body()
    .i32Const(0).i32Const(0).i32Const(64).memoryFill()
    .i32Const(0).f32Load().f32Const(2).f32Mul().f64PromoteF32()
    .f32DemoteF64().f32Sqrt().drop();
  const module = {
    functions: [{
      type: { params: [], results: [] },
      locals: [F32],
      body,
    }],
    memoryPages: 1,
  };
  assert.equal(WebAssembly.validate(encodeModule(module)), true);
  if (relaxedSimdAvailable()) {
    const madd = new Body().localGet(0).localGet(0).localGet(0)
      .f64x2RelaxedMadd();
    assert.equal(
      WebAssembly.validate(encodeModule({
        functions: [{
          type: { params: [V128], results: [V128] },
          locals: [],
          body: madd,
        }],
      })),
      true,
    );
  }
});

Deno.test("simdAvailable() is true on Deno's V8", () => {
  assert.equal(simdAvailable(), true);
});

Deno.test("an invalid body fails validation", () => {
  // f64.add with nothing on the stack.
  const bytes = encodeModule({
    functions: [{
      type: { params: [], results: [] },
      locals: [],
      body: new Body().f64Add(),
    }],
  });
  assert.equal(WebAssembly.validate(bytes), false);
});
