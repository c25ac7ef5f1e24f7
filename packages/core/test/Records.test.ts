import { Gzip, Records } from "@batch-export/core"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as zlib from "node:zlib"

const encoder = new TextEncoder()

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

const text = FastCheck.string({ unit: "binary", maxLength: 12 })
const record = FastCheck.record({
  identifiers: FastCheck.record({ custom_id: text, installation_ids: FastCheck.array(text, { maxLength: 3 }) }),
  attributes: FastCheck.dictionary(
    // a `__proto__` key is left to the Schema, whose rebuilt record drops it: ProfileRecord.test covers that case
    text.filter((key) => key !== "__proto__"),
    FastCheck.oneof(text, FastCheck.integer(), FastCheck.boolean(), FastCheck.constant(null)),
    { maxKeys: 4 }
  )
})

type Layout = "ndjson-lf" | "ndjson-crlf" | "ndjson-blank-lines" | "array-compact" | "array-pretty" | "pretty-values"
const layouts: ReadonlyArray<Layout> = [
  "ndjson-lf",
  "ndjson-crlf",
  "ndjson-blank-lines",
  "array-compact",
  "array-pretty",
  "pretty-values"
]

const serialize = (records: ReadonlyArray<unknown>, layout: Layout, trailingNewline: boolean): string => {
  const end = trailingNewline ? "\n" : ""
  switch (layout) {
    case "ndjson-lf":
      return records.map((r) => JSON.stringify(r)).join("\n") + end
    case "ndjson-crlf":
      return records.map((r) => JSON.stringify(r)).join("\r\n") + (trailingNewline ? "\r\n" : "")
    case "ndjson-blank-lines":
      return "\n" + records.map((r) => JSON.stringify(r)).join("\n\n  \n") + end
    case "array-compact":
      return JSON.stringify(records) + end
    case "array-pretty":
      return JSON.stringify(records, null, 2) + end
    case "pretty-values":
      return records.map((r) => JSON.stringify(r, null, 2)).join("\n") + end
  }
}

const collect = <A, E>(stream: Stream.Stream<A, E>) => Effect.map(Stream.runCollect(stream), Chunk.toReadonlyArray)
const gzip = (plain: Uint8Array) => new Uint8Array(zlib.gzipSync(plain))
const values = (input: string, options?: Records.Options) => Records.values(Stream.make(encoder.encode(input)), options)

/** Every record that flows, then the error that ended the stream. */
const stepsOf = <A, E>(stream: Stream.Stream<A, E>) =>
  Effect.map(Stream.runCollect(Stream.either(stream)), Chunk.toReadonlyArray)

describe("Records", () => {
  it.effect("any layout, any chunk boundaries, multi-byte UTF-8, with or without gzip: the same records", () =>
    Effect.promise(() =>
      FastCheck.assert(
        FastCheck.asyncProperty(
          FastCheck.array(record, { maxLength: 8 }),
          FastCheck.constantFrom(...layouts),
          FastCheck.boolean(),
          FastCheck.boolean(),
          FastCheck.array(FastCheck.nat(), { maxLength: 20 }),
          async (records, layout, trailingNewline, gzipped, cuts) => {
            const plain = encoder.encode(serialize(records, layout, trailingNewline))
            const bytes = gzipped ? gzip(plain) : plain
            assert.deepStrictEqual(await Effect.runPromise(collect(Records.values(chunked(bytes, cuts)))), records)
            assert.deepStrictEqual(await Effect.runPromise(collect(Records.decode(chunked(bytes, cuts)))), records)
          }
        ),
        { numRuns: 300 }
      )
    )
  )

  it.effect("byte-at-a-time input through a 4-byte UTF-8 character and a byte-order mark", () =>
    Effect.gen(function* () {
      const bytes = encoder.encode(`\uFEFF{"name":"𝄞 Zoë 北京"}\n{"name":"ok"}`)
      const result = yield* collect(Records.values(chunked(bytes, Array.from(bytes.keys()))))
      assert.deepStrictEqual(result, [{ name: "𝄞 Zoë 北京" }, { name: "ok" }])
    })
  )

  it.effect("gzip is recognised when its two magic bytes arrive in separate reads", () =>
    Effect.gen(function* () {
      const bytes = gzip(encoder.encode('{"a":1}\n{"b":2}\n'))
      for (const cuts of [[1], [1, 2], [1, 5]]) {
        assert.deepStrictEqual(yield* collect(Records.values(chunked(bytes, cuts))), [{ a: 1 }, { b: 2 }], `${cuts}`)
      }
    })
  )

  it.effect("empty input and an empty array give no records; a BOM is ignored", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* collect(Records.values(Stream.empty)), [])
      assert.deepStrictEqual(yield* collect(values(" [ ] \n")), [])
      assert.deepStrictEqual(yield* collect(values("\n \r\n")), [])
      assert.deepStrictEqual(
        yield* collect(Records.values(Stream.make(Uint8Array.of(0xef, 0xbb, 0xbf), encoder.encode('{"a":1}')))),
        [{ a: 1 }]
      )
      assert.deepStrictEqual(yield* collect(values("\uFEFF[1,2]")), [1, 2])
    })
  )

  it.effect("a malformed line fails with its part and line number", () =>
    Effect.gen(function* () {
      for (const input of ['{"a":1}\n{"b":2}\n{"c":3,,}\n{"d":4}\n', '[{"a":1},\n{"b":2},\n{"c":3,,},\n{"d":4}]']) {
        const error = yield* Effect.flip(Stream.runDrain(values(input, { part: 2 })))
        assert.instanceOf(error, Records.RecordDecodeError)
        assert.strictEqual(error.part, 2, input)
        assert.strictEqual(error.line, 3, input)
        assert.include(error.message, "part 2, line 3")
      }
    })
  )

  it.effect("records before a malformed one still flow, even in the same chunk", () =>
    Effect.gen(function* () {
      for (const input of [
        '{"a":1}\n{"b":2}\n{"c":3,,}\n',
        '{"a":1}\n{"b":2}\n}\n',
        '[{"a":1},{"b":2} {"c":3}]',
        // invalid UTF-8 in the third line
        Uint8Array.of(...encoder.encode('{"a":1}\n{"b":2}\n{"c":"'), 0xff, ...encoder.encode('"}\n'))
      ]) {
        const label = typeof input === "string" ? input : "invalid UTF-8"
        const steps = yield* stepsOf(
          Records.values(Stream.make(typeof input === "string" ? encoder.encode(input) : input))
        )
        assert.deepStrictEqual(steps.slice(0, 2), [Either.right({ a: 1 }), Either.right({ b: 2 })], label)
        assert.strictEqual(steps.length, 3, label)
        assert.isTrue(Either.isLeft(steps[2]!), label)
      }
      // the same when the bad record arrives in a later read than the good ones
      const late = yield* stepsOf(Records.values(Stream.make(encoder.encode('{"a":1}\n'), encoder.encode("{,}\n"))))
      assert.deepStrictEqual(late[0], Either.right({ a: 1 }))
      assert.isTrue(Either.isLeft(late[1]!))
    })
  )

  it.effect("truncated input, stray brackets and garbage are RecordDecodeErrors, never defects", () =>
    Effect.gen(function* () {
      const failure = (input: string | Uint8Array) =>
        Effect.flip(
          Stream.runDrain(Records.values(Stream.make(typeof input === "string" ? encoder.encode(input) : input)))
        )
      assert.strictEqual((yield* failure('{"a":1}\n{"b":')).line, 2)
      assert.strictEqual((yield* failure('[{"a":1},{"b":2}')).detail, "the input ends before the closing ]")
      // a last element that is a number or a literal ends with the input, which still lacks the `]`
      for (const input of ["[1", '[{"a":1},\n2', "[\ntrue\n", "[1, 2", '[{"a":1}, 2 ']) {
        assert.strictEqual((yield* failure(input)).detail, "the input ends before the closing ]", input)
      }
      assert.strictEqual((yield* failure('[{"a":1}] {"b":2}')).detail, "unexpected content after the closing ]")
      assert.strictEqual((yield* failure('[{"a":1} {"b":2}]')).detail, "expected , or ] between array elements")
      for (const input of ["}\n", "nope\n", '{"a":"unterminated}\n', "\uFEFF\uFEFF{}"]) {
        assert.instanceOf(yield* failure(input), Records.RecordDecodeError, input)
      }
      const invalidUtf8 = yield* failure(Uint8Array.of(0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d))
      assert.strictEqual(invalidUtf8.detail, "invalid UTF-8")
    })
  )

  it.effect("a corrupt gzip stream is a RecordDecodeError", () =>
    Effect.gen(function* () {
      const corrupt = gzip(encoder.encode('{"a":1}\n'.repeat(100))).slice(0, 20)
      const error = yield* Effect.flip(Stream.runDrain(Records.values(Stream.make(corrupt), { part: 1 })))
      assert.instanceOf(error, Records.RecordDecodeError)
      assert.include(error.detail, "gzip")
      const direct = yield* Effect.flip(Stream.runDrain(Gzip.gunzip(Stream.make(corrupt))))
      assert.instanceOf(direct, Gzip.GzipError)
    })
  )

  it.effect("a gzip stream cut short: every record inflated before the cut flows, then the error", () =>
    Effect.gen(function* () {
      const plain = encoder.encode(
        Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ i, pad: "é".repeat(i % 50) })).join("\n")
      )
      const cut = gzip(plain).subarray(0, 60_000)
      // what zlib can inflate from the cut bytes, whole lines only
      const prefix = new TextDecoder().decode(zlib.gunzipSync(cut, { finishFlush: zlib.constants.Z_SYNC_FLUSH }))
      const complete = prefix.slice(0, prefix.lastIndexOf("\n")).split("\n").length
      const steps = yield* stepsOf(Records.values(chunked(cut, [10_000, 30_000])))
      assert.strictEqual(steps.length, complete + 1)
      assert.isTrue(Either.isLeft(steps[complete]!))
    })
  )

  it.effect("upstream errors pass through unchanged, also through gzip", () =>
    Effect.gen(function* () {
      const member = gzip(encoder.encode('{"a":1}\n'.repeat(5000)))
      // plain, a whole gzip member, half a member (the inflater's input ends early: the upstream cause still wins)
      for (const head of [encoder.encode('{"a":1}\n'), member, member.subarray(0, member.length >> 1)]) {
        const upstream = Stream.concat(Stream.make(head), Stream.fail("boom" as const))
        assert.strictEqual(yield* Effect.flip(Stream.runDrain(Records.values(upstream))), "boom")
        assert.strictEqual(yield* Effect.flip(Stream.runDrain(Gzip.gunzipIfNeeded(upstream))), "boom")
      }
    })
  )

  it.effect("decode checks ProfileRecord by default and a user schema when given; data-first or piped", () =>
    Effect.gen(function* () {
      const ndjson = encoder.encode(
        '{"identifiers":{"custom_id":"u1","installation_ids":["i1"]},"attributes":{"$language":"fr","plan":"gold"},"extra":1}\n'
      )
      const profiles: ReadonlyArray<Records.ProfileRecord> = yield* collect(Records.decode(Stream.make(ndjson)))
      assert.strictEqual(profiles[0]?.identifiers?.custom_id, "u1")
      const piped: ReadonlyArray<Records.ProfileRecord> = yield* collect(Stream.make(ndjson).pipe(Records.decode()))
      assert.deepStrictEqual(piped, profiles)

      const Mine = Schema.Struct({ identifiers: Schema.Struct({ custom_id: Schema.String }) })
      const mine = yield* collect(Stream.make(ndjson).pipe(Records.decode({ schema: Mine })))
      assert.deepStrictEqual(
        mine.map((x) => x.identifiers.custom_id),
        ["u1"]
      )

      const bad = encoder.encode('{"identifiers":{"custom_id":"u1"}}\n{"identifiers":{"custom_id":5}}\n')
      const error = yield* Effect.flip(Stream.runDrain(Records.decode(Stream.make(bad), { schema: Mine, part: 4 })))
      assert.instanceOf(error, Records.RecordDecodeError)
      assert.strictEqual(error.line, 2)
      assert.strictEqual(error.part, 4)
      // the default schema names the field it rejects, in NDJSON and in an array alike
      for (const input of ['{"identifiers":{"custom_id":5}}\n', '[{"identifiers":{"custom_id":5}}]']) {
        const profile = yield* Effect.flip(Stream.runDrain(Records.decode(Stream.make(encoder.encode(input)))))
        assert.include(profile.detail, "custom_id", input)
      }
    })
  )

  it.effect("a record larger than maxRecordBytes fails naming the limit; one at the limit passes", () =>
    Effect.gen(function* () {
      const big = `{"a":"${"x".repeat(92)}"}` // 100 bytes
      const onLimit = `{"a":"${"é".repeat(46)}"}` // 100 bytes in 54 UTF-16 units
      for (const layout of ["ndjson", "array"] as const) {
        const input = (record: string) => (layout === "array" ? `[{"b":0},\n${record}]` : `{"b":0}\n${record}\n`)
        for (const cuts of [[], [3, 30, 60]]) {
          const pass = yield* collect(
            Records.values(chunked(encoder.encode(input(onLimit)), cuts), { maxRecordBytes: 100 })
          )
          assert.strictEqual(pass.length, 2)
          const over = `{"a":"${"é".repeat(47)}"}`
          for (const record of [big.replace("x", "xx"), over]) {
            const steps = yield* stepsOf(
              Records.values(chunked(encoder.encode(input(record)), cuts), { maxRecordBytes: 100, part: 3 })
            )
            assert.deepStrictEqual(steps[0], Either.right({ b: 0 }))
            const error = Either.getLeft(steps[1]!)
            assert.isTrue(error._tag === "Some", `${layout} ${cuts}`)
            if (error._tag === "Some") {
              assert.strictEqual(error.value.detail, "a record exceeds maxRecordBytes (100 bytes)")
              assert.strictEqual(error.value.line, 2)
            }
          }
        }
      }
      // a record that never ends is stopped at the limit, not buffered to the end: no more than one read past it
      for (const head of ['{"a":"', '[{"a":"']) {
        let pulled = 0
        const endless = Stream.make(encoder.encode(head)).pipe(
          Stream.concat(Stream.repeatValue(encoder.encode("x".repeat(1024))).pipe(Stream.take(10_000))),
          Stream.tap((bytes) => Effect.sync(() => void (pulled += bytes.length)))
        )
        const error = yield* Effect.flip(Stream.runDrain(Records.values(endless, { maxRecordBytes: 64 * 1024 })))
        assert.strictEqual(error.detail, "a record exceeds maxRecordBytes (65536 bytes)")
        assert.isAtMost(pulled, 64 * 1024 + 2 * 1024, head)
      }
    })
  )

  it.effect("the bound is per record: a line longer than maxRecordBytes holding small records reads whole", () =>
    Effect.gen(function* () {
      const numbers = Array.from({ length: 300 }, (_, i) => i)
      for (const input of [JSON.stringify(numbers), `[\n${numbers.join(", ")}\n]`, `${numbers.join(" ")}\n`]) {
        for (const cuts of [[], [7, 100, 500], Array.from({ length: 40 }, (_, i) => i * 29)]) {
          const result = yield* collect(Records.values(chunked(encoder.encode(input), cuts), { maxRecordBytes: 64 }))
          assert.deepStrictEqual(result, numbers, `${input.slice(0, 10)} ${cuts.length}`)
        }
      }
    })
  )

  it.effect("a compact array (one line) streams: its first records flow after at most 1 MiB of it", () =>
    Effect.gen(function* () {
      const element = JSON.stringify({ identifiers: { custom_id: "u" }, attributes: { note: "x".repeat(100) } })
      const compact = encoder.encode(`[${Array.from({ length: 30_000 }, () => element).join(",")}]`) // ≈ 4 MiB
      const piece = 64 * 1024
      let pulled = 0
      const bytes = Stream.range(0, Math.ceil(compact.length / piece) - 1).pipe(
        Stream.map((i) => compact.subarray(i * piece, (i + 1) * piece)),
        Stream.tap((chunk) => Effect.sync(() => void (pulled += chunk.length)))
      )
      const first = yield* collect(Records.decode(bytes).pipe(Stream.take(1)))
      assert.strictEqual(first[0]?.identifiers?.custom_id, "u")
      assert.isAtMost(pulled, 1024 * 1024 + 2 * piece)
    })
  )

  it.effect("deep nesting ends as a RecordDecodeError naming the bound, in every layout and through a schema", () =>
    Effect.gen(function* () {
      const deep = (n: number) => "[".repeat(n) + "]".repeat(n)
      const record = (n: number) => `{"identifiers":{"custom_id":${deep(n)}}}`
      for (const input of [
        `${record(10_000)}\n`,
        `[${record(10_000)}]`,
        `{"a":1}\n${JSON.stringify(JSON.parse(record(2_000)), null, 1)}`
      ]) {
        for (const stream of [values(input), Records.decode(Stream.make(encoder.encode(input)))]) {
          const error = yield* Effect.flip(Stream.runDrain(stream))
          assert.instanceOf(error, Records.RecordDecodeError)
          assert.strictEqual(error.detail, `a record nests deeper than ${Records.maxDepth} levels`)
        }
      }
      // the bound is the same in both paths: exactly maxDepth levels pass
      const atBound = `{"a":${deep(Records.maxDepth - 1)}}`
      assert.strictEqual((yield* collect(values(`${atBound}\n`))).length, 1)
      assert.strictEqual((yield* collect(values(`[${atBound}]`))).length, 1)
      // a schema rejecting a deep value formats its error without overflowing
      const error = yield* Effect.flip(Stream.runDrain(Records.decode(Stream.make(encoder.encode(record(500))))))
      assert.include(error.detail, "custom_id")
    })
  )

  it.effect("any bytes, plain or inside gzip, end in records or a RecordDecodeError, never a defect", () =>
    Effect.promise(() =>
      FastCheck.assert(
        FastCheck.asyncProperty(
          FastCheck.oneof(
            FastCheck.uint8Array({ maxLength: 200 }),
            FastCheck.array(
              FastCheck.constantFrom('{"a":', "[", "]", "{", "}", ",", '"', "\\", "\n", "\r", " ", "1", "\uFEFF", "é"),
              { maxLength: 60 }
            ).map((parts) => encoder.encode(parts.join("")))
          ),
          FastCheck.boolean(),
          FastCheck.array(FastCheck.nat(), { maxLength: 8 }),
          async (plain, gzipped, cuts) => {
            const bytes = gzipped ? gzip(plain).subarray(0, Math.max(2, (cuts[0] ?? 1000) % 300)) : plain
            for (const stream of [Records.values(chunked(bytes, cuts)), Records.decode(chunked(bytes, cuts))]) {
              const exit = await Effect.runPromiseExit(Stream.runDrain(stream))
              if (Exit.isFailure(exit)) {
                const failure = Cause.failureOption(exit.cause)
                assert.isTrue(failure._tag === "Some" && failure.value instanceof Records.RecordDecodeError)
                assert.isFalse(Cause.isDie(exit.cause))
              }
            }
          }
        ),
        { numRuns: 300 }
      )
    )
  )
})

describe("Records bounds", () => {
  const MiB = 1024 * 1024
  /** A gzip stream of `times` members, each inflating to `block`; only one member (about 1 KB) exists at once. */
  const bomb = (block: Uint8Array, times: number) => {
    const member = gzip(block)
    return Stream.range(1, times).pipe(Stream.map(() => member))
  }
  /** Runs the stream, sampling heap + buffers as input flows; the peak growth over the start, in bytes. */
  const peakGrowth = <A, E>(
    run: (input: (s: Stream.Stream<Uint8Array>) => Stream.Stream<Uint8Array>) => Effect.Effect<A, E>
  ) =>
    Effect.gen(function* () {
      const used = () => {
        const m = process.memoryUsage()
        return m.heapUsed + m.arrayBuffers
      }
      const start = used()
      let peak = start
      let seen = 0
      const result = yield* Effect.either(
        run((s) =>
          Stream.tap(s, () =>
            Effect.sync(() => {
              if (++seen % 16 === 0) peak = Math.max(peak, used())
            })
          )
        )
      )
      return { result, growth: peak - start }
    })

  it.effect("a gzip bomb of one endless record stops at maxRecordBytes, memory flat", () =>
    Effect.gen(function* () {
      // 1 GiB of zeros: one "line" with no newline
      const { growth, result } = yield* peakGrowth((input) =>
        Stream.runDrain(Records.values(input(bomb(new Uint8Array(MiB), 1024))))
      )
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) {
        assert.instanceOf(result.left, Records.RecordDecodeError)
        assert.strictEqual(
          result.left.detail,
          `a record exceeds maxRecordBytes (${Records.defaultMaxRecordBytes} bytes)`
        )
      }
      assert.isBelow(growth, 128 * MiB)
    })
  )

  it.effect("a gzip bomb stops at maxDecompressedBytes, memory flat", () =>
    Effect.gen(function* () {
      // 512 MiB of blank lines: no record, nothing buffered, only the inflated size to stop it
      const blank = encoder.encode("\n".repeat(MiB))
      const { growth, result } = yield* peakGrowth((input) =>
        Stream.runDrain(Records.values(input(bomb(blank, 512)), { maxDecompressedBytes: 64 * MiB, part: 2 }))
      )
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) {
        assert.instanceOf(result.left, Records.RecordDecodeError)
        assert.include(result.left.message, `maxDecompressedBytes (${64 * MiB} bytes)`)
        assert.strictEqual(result.left.part, 2)
      }
      assert.isBelow(growth, 128 * MiB)
      const direct = yield* Effect.flip(Stream.runDrain(Gzip.gunzip(bomb(blank, 512), { maxDecompressedBytes: MiB })))
      assert.instanceOf(direct, Gzip.DecompressedTooLarge)
      assert.strictEqual(direct.maxDecompressedBytes, MiB)
    })
  )
})

describe("Records with a user schema", () => {
  it.effect("a schema that throws on a record is a RecordDecodeError at that line, not a defect", () =>
    Effect.gen(function* () {
      const Fragile = Schema.transform(Schema.Struct({ n: Schema.Number }), Schema.Number, {
        strict: true,
        decode: ({ n }) => {
          if (n === 2) throw new Error("cannot take 2")
          return n
        },
        encode: (n) => ({ n })
      })
      const bytes = encoder.encode('{"n":1}\n{"n":2}\n')
      const steps = yield* stepsOf(Records.decode(Stream.make(bytes), { schema: Fragile }))
      assert.deepStrictEqual(steps[0], Either.right(1))
      const error = Either.getLeft(steps[1]!)
      assert.isTrue(error._tag === "Some" && error.value.line === 2 && error.value.detail.includes("cannot take 2"))
    })
  )
})
