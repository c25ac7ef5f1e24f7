import { Gzip } from "@batch-export/core"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Zlib from "node:zlib"

const encoder = new TextEncoder()

/** An inflater that hands its input over as it is: what any inflater produced, seen from `gunzip`. */
const passThrough: Gzip.Inflater = { inflate: (self) => self }
/** An inflater that must not be used. */
const refusing: Gzip.Inflater = {
  inflate: () => Stream.fail(new Gzip.GzipError({ detail: "the inflater in context was used" }))
}

const text = (chunks: Chunk.Chunk<Uint8Array>) => new TextDecoder().decode(Buffer.concat(Chunk.toReadonlyArray(chunks)))

describe("Gzip inflaters", () => {
  it.effect("gunzip inflates with the Inflate in context, or with options.inflater before it", () =>
    Effect.gen(function* () {
      const input = Stream.make(encoder.encode("abc"), encoder.encode("def"))
      const fromContext = yield* Stream.runCollect(Gzip.gunzip(input)).pipe(
        Effect.provideService(Gzip.Inflate, passThrough)
      )
      assert.strictEqual(text(fromContext), "abcdef")
      const fromOption = yield* Stream.runCollect(Gzip.gunzip(input, { inflater: passThrough })).pipe(
        Effect.provideService(Gzip.Inflate, refusing)
      )
      assert.strictEqual(text(fromOption), "abcdef")
    })
  )

  it.effect("the bound holds whatever the inflater: nothing past maxDecompressedBytes is emitted", () =>
    Effect.gen(function* () {
      // three reads, one chunk each
      const input = Stream.fromChunks(...["12345", "67890", "abcde"].map((piece) => Chunk.of(encoder.encode(piece))))
      const steps = yield* Stream.runCollect(
        Stream.either(Gzip.gunzip(input, { inflater: passThrough, maxDecompressedBytes: 12 }))
      )
      const [first, second, third] = Chunk.toReadonlyArray(steps)
      assert.deepStrictEqual(
        [first, second].map((step) => step?._tag === "Right" && new TextDecoder().decode(step.right)),
        ["12345", "67890"]
      )
      assert.isTrue(third?._tag === "Left" && third.left instanceof Gzip.DecompressedTooLarge)
      assert.strictEqual(steps.length, 3)
    })
  )
})

describe("Gzip.gunzipIfNeeded", () => {
  const plain = encoder.encode('{"a":1}\n{"b":2}\n')
  const gzipped = new Uint8Array(Zlib.gzipSync(plain))
  const sniffed = (...reads: ReadonlyArray<Uint8Array>) =>
    Effect.map(Stream.runCollect(Gzip.gunzipIfNeeded(Stream.fromChunks(...reads.map(Chunk.of)))), (chunks) =>
      Buffer.concat(Chunk.toReadonlyArray(chunks))
    )

  it.effect("gzip is decoded", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* sniffed(gzipped), Buffer.from(plain))
    })
  )

  it.effect("gzip is decoded when its two magic bytes arrive in separate reads", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* sniffed(gzipped.subarray(0, 1), gzipped.subarray(1)), Buffer.from(plain))
      assert.deepStrictEqual(
        yield* sniffed(gzipped.subarray(0, 1), gzipped.subarray(1, 2), gzipped.subarray(2)),
        Buffer.from(plain)
      )
    })
  )

  it.effect("a body whose first byte only is gzip's (0x1f, then not 0x8b) passes through unchanged", () =>
    Effect.gen(function* () {
      const almost = new Uint8Array([0x1f, 0x41, 0x42, 0x43])
      assert.deepStrictEqual(yield* sniffed(almost), Buffer.from(almost))
      assert.deepStrictEqual(yield* sniffed(almost.subarray(0, 1), almost.subarray(1)), Buffer.from(almost))
      // a body of that one byte: nothing to compare the second with
      assert.deepStrictEqual(yield* sniffed(almost.subarray(0, 1)), Buffer.from([0x1f]))
      assert.deepStrictEqual(yield* sniffed(plain), Buffer.from(plain))
    })
  )
})
