import { Gzip, Records } from "@batch-export/core"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Stream from "effect/Stream"
import * as Zlib from "node:zlib"
import { BatchExport, ExportsClient, ZlibInflater } from "@batch-export/node"
import { json, KEY, PROJECT, route, serve } from "./support/hostile.js"

const MiB = 1024 * 1024
const PIECE = 64 * 1024
const encoder = new TextEncoder()
const gzip = (plain: Uint8Array) => new Uint8Array(Zlib.gzipSync(plain))

/** Cuts bytes at arbitrary positions; each piece is its own read, as a socket would deliver it. */
const chunked = (bytes: Uint8Array, cuts: ReadonlyArray<number>): Stream.Stream<Uint8Array> => {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const pieces: Array<Chunk.Chunk<Uint8Array>> = []
  let start = 0
  for (const p of [...points, bytes.length]) {
    pieces.push(Chunk.of(bytes.subarray(start, p)))
    start = p
  }
  return Stream.fromChunks(...pieces)
}

const inflated = <E>(bytes: Stream.Stream<Uint8Array, E>, options?: Gzip.Options) =>
  Stream.runCollect(Gzip.gunzip(bytes, options)).pipe(
    Effect.map((chunk) => Buffer.concat(Chunk.toReadonlyArray(chunk))),
    Effect.provide(ZlibInflater.layer)
  )

describe("ZlibInflater", () => {
  it.effect("inflates any members cut at any reads to exactly what zlib's one-shot gunzip gives", () =>
    Effect.promise(() =>
      FastCheck.assert(
        FastCheck.asyncProperty(
          FastCheck.array(FastCheck.uint8Array({ maxLength: 3000 }), { minLength: 1, maxLength: 4 }),
          FastCheck.array(FastCheck.nat(), { maxLength: 12 }),
          async (members, cuts) => {
            const bytes = Buffer.concat(members.map(gzip))
            const out = await Effect.runPromise(inflated(chunked(bytes, cuts)))
            assert.deepStrictEqual(out, Zlib.gunzipSync(bytes))
          }
        ),
        { numRuns: 200 }
      )
    )
  )

  it.effect("is what Gzip and Records use once its layer is provided", () =>
    Effect.gen(function* () {
      const plain = encoder.encode('{"a":1}\n{"b":2}\n'.repeat(20_000))
      // zlib hands over pieces of 64 KiB; the web DecompressionStream, of 16 KiB at most
      const pieces = yield* Stream.runCollect(Gzip.gunzip(Stream.make(gzip(plain)))).pipe(
        Effect.provide(ZlibInflater.layer)
      )
      assert.strictEqual(Chunk.unsafeHead(pieces).length, PIECE)
      const records = yield* Stream.runCount(Records.values(chunked(gzip(plain), [1]))).pipe(
        Effect.provide(ZlibInflater.layer)
      )
      assert.strictEqual(records, 40_000)
    })
  )

  it.effect("corrupt data is a GzipError", () =>
    Effect.gen(function* () {
      const corrupt = gzip(encoder.encode(Array.from({ length: 50_000 }, (_, i) => `{"i":${i}}`).join("\n")))
      corrupt.fill(0x55, 12, 40)
      assert.instanceOf(yield* Effect.flip(inflated(Stream.make(corrupt))), Gzip.GzipError)
    })
  )

  it.effect("a cut stream gives every byte zlib can inflate from it, then a GzipError", () =>
    Effect.gen(function* () {
      const whole = gzip(encoder.encode(Array.from({ length: 12_000 }, (_, i) => `{"i":${i}}`).join("\n")))
      const cut = whole.subarray(0, whole.length >> 1)
      const expected = Zlib.gunzipSync(cut, { finishFlush: Zlib.constants.Z_SYNC_FLUSH })
      // two reads in one chunk, the second queued behind the first when the input ends: zlib inflates it with
      // the end of the input, and reports the cut without the bytes it inflated last, unless flushed first
      const input = Stream.fromChunk(Chunk.make(cut.subarray(0, cut.length - 10), cut.subarray(cut.length - 10)))
      const steps = yield* Stream.runCollect(Stream.either(Gzip.gunzip(input))).pipe(Effect.provide(ZlibInflater.layer))
      const bytes = Buffer.concat(Chunk.toReadonlyArray(Chunk.filterMap(steps, Either.getRight)))
      assert.deepStrictEqual(bytes, expected)
      const last = Chunk.unsafeLast(steps)
      assert.isTrue(Either.isLeft(last) && last.left instanceof Gzip.GzipError)
    })
  )

  it.effect("an upstream failure passes through unchanged, also in the middle of a member", () =>
    Effect.gen(function* () {
      const member = gzip(encoder.encode(Array.from({ length: 20_000 }, (_, i) => `{"i":${i}}`).join("\n")))
      // whole, then cut: zlib, its input ended early, would report a cut stream instead
      for (const head of [member, member.subarray(0, member.length >> 1)]) {
        const upstream = Stream.concat(Stream.make(head), Stream.fail("boom" as const))
        assert.strictEqual(yield* Effect.flip(inflated(upstream)), "boom")
      }
    })
  )

  it.effect("a gzip bomb in one read is inflated on demand: it stops at maxDecompressedBytes in flat memory", () =>
    Effect.gen(function* () {
      // 256 MiB of zeros in one member of about 256 KB, handed over as a single read
      const bomb = gzip(new Uint8Array(256 * MiB))
      const used = () => process.memoryUsage().rss
      const start = used()
      let peak = start
      const error = yield* Effect.flip(
        inflated(Stream.make(bomb).pipe(Stream.tap(() => Effect.sync(() => void (peak = Math.max(peak, used()))))), {
          maxDecompressedBytes: MiB
        })
      )
      peak = Math.max(peak, used())
      assert.instanceOf(error, Gzip.DecompressedTooLarge)
      // an inflater that ran ahead of its reader would hold up to 256 MiB here
      assert.isBelow(peak - start, 32 * MiB)
    })
  )

  it.scoped(
    "the client inflates gzip files and gzip-encoded bodies with zlib, whatever Inflate the context holds",
    () =>
      Effect.gen(function* () {
        const plain = encoder.encode('{"identifiers":{"custom_id":"u"},"attributes":{}}\n'.repeat(5000))
        const storage = yield* serve((request, response) => {
          const encoded = request.url?.startsWith("/files/file_encoded") === true
          response.writeHead(200, encoded ? { "content-encoding": "gzip" } : {})
          response.end(gzip(plain))
        })
        const api = yield* serve((request, response) => {
          if (route(request) !== "/exports/download") return json(response, { error: "no such route" }, 404)
          const id = new URL(request.url ?? "/", "http://x").searchParams.get("id")
          response.writeHead(307, { location: `${storage.url}/files/${id}` })
          response.end()
        })
        const refusing: Gzip.Inflater = {
          inflate: () => Stream.fail(new Gzip.GzipError({ detail: "the inflater in context was used" }))
        }
        const [records, body] = yield* Effect.flatMap(ExportsClient.ExportsClient, (client) =>
          Effect.all([
            Stream.runCount(client.fileRecords("file_gzipped1")),
            Stream.runCollect(client.download("file_encoded1"))
          ])
        ).pipe(
          Effect.provide(BatchExport.layer({ restApiKey: KEY, projectKey: PROJECT, baseUrl: api.url })),
          Effect.provideService(Gzip.Inflate, refusing)
        )
        assert.strictEqual(records, 5000)
        assert.deepStrictEqual(Buffer.concat(Chunk.toReadonlyArray(body)), Buffer.from(plain))
      })
  )
})
