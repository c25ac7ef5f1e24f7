import { Gzip } from "@batch-export/core"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

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
