import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import { BLOCK_SIZE, make } from "../src/internal/writer.js"
import { collectGarbage } from "./support/gc.js"

/** A writer recording what each write received, as a file would (a copy: the block is reused after). */
const recording = () => {
  const writes: Array<{ readonly bytes: Uint8Array; readonly buffer: ArrayBufferLike }> = []
  const write = make((bytes: Uint8Array) =>
    Effect.sync(() => {
      writes.push({ bytes: Uint8Array.from(bytes), buffer: bytes.buffer })
    })
  )
  return { writes, write }
}

const join = (parts: ReadonlyArray<Uint8Array>): Uint8Array => Buffer.concat(parts)

const parts = FastCheck.array(
  FastCheck.oneof(
    FastCheck.uint8Array({ minLength: 0, maxLength: 64 }),
    FastCheck.integer({ min: 1, max: BLOCK_SIZE + 10 }).map((n) => new Uint8Array(n).fill(n % 251))
  ),
  { minLength: 1, maxLength: 6 }
)

describe("Writer", () => {
  it.effect("writes every byte of every batch, in order, in writes no larger than the block", () =>
    Effect.sync(() =>
      FastCheck.assert(
        FastCheck.property(FastCheck.array(parts, { minLength: 1, maxLength: 4 }), (batches) => {
          const { write, writes } = recording()
          for (const batch of batches) Effect.runSync(write(Chunk.fromIterable(batch)))
          assert.deepStrictEqual(join(writes.map((w) => w.bytes)), join(batches.flat()))
          for (const [i, w] of writes.entries()) {
            // a batch of one buffer is written as it is, whatever its size
            const single = batches.some((b) => b.length === 1 && b[0]!.length === w.bytes.length)
            assert.isTrue(w.bytes.length <= BLOCK_SIZE || single, `write ${i} is ${w.bytes.length} bytes`)
          }
        }),
        { numRuns: 60 }
      )
    )
  )

  it.effect("joins a batch in one block reused by every later batch (no allocation per batch)", () =>
    Effect.sync(() => {
      const { write, writes } = recording()
      const batch = () => Chunk.make(new Uint8Array(1000).fill(1), new Uint8Array(2000).fill(2))
      Effect.runSync(write(batch()))
      Effect.runSync(write(batch()))
      assert.strictEqual(writes.length, 2)
      assert.strictEqual(writes[0]!.bytes.length, 3000)
      assert.strictEqual(writes[0]!.buffer, writes[1]!.buffer)
    })
  )

  it.effect("a batch larger than the block is written in block-sized pieces", () =>
    Effect.sync(() => {
      const { write, writes } = recording()
      const big = new Uint8Array(BLOCK_SIZE).fill(7)
      Effect.runSync(write(Chunk.make(big, new Uint8Array(10).fill(8), big)))
      assert.deepStrictEqual(
        writes.map((w) => w.bytes.length),
        [BLOCK_SIZE, BLOCK_SIZE, 10]
      )
    })
  )

  it.effect("lets go of a batch's buffers once they are copied or written, even while its effect is kept", () =>
    Effect.gen(function* () {
      const gc = collectGarbage()
      // a write that holds its bytes while it is kept, as `FileSystem.File.writeAll`'s effect does
      const write = make((bytes: Uint8Array) => Effect.sync(() => void bytes.length))
      // each buffer is reachable from nothing but the batch handed to the writer
      const handOver = (count: number) => {
        const buffers = Array.from({ length: count }, () => new Uint8Array(64 * 1024).fill(1))
        return { refs: buffers.map((b) => new WeakRef(b)), effect: write(Chunk.fromIterable(buffers)) }
      }
      const one = handOver(1)
      const several = handOver(3)
      yield* one.effect
      yield* several.effect
      yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
      gc()
      // kept, as a stream may keep them until its next batch
      assert.isDefined(one.effect)
      assert.isDefined(several.effect)
      assert.deepStrictEqual(
        [...one.refs, ...several.refs].map((ref) => ref.deref() === undefined),
        [true, true, true, true]
      )
    })
  )
})
