import { Records } from "@batch-export/core"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Either, FastCheck, Schema, Stream } from "effect"
import * as zlib from "node:zlib"

const encoder = new TextEncoder()

/** Cuts bytes at arbitrary positions. */
const chunked = (bytes: Uint8Array, cuts: ReadonlyArray<number>): Stream.Stream<Uint8Array> => {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const chunks: Array<Uint8Array> = []
  let start = 0
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, p))
    start = p
  }
  return Stream.fromIterable(chunks)
}

const text = FastCheck.string({ unit: "binary", maxLength: 12 })
const record = FastCheck.record({
  identifiers: FastCheck.record({ custom_id: text, installation_ids: FastCheck.array(text, { maxLength: 3 }) }),
  attributes: FastCheck.dictionary(
    text,
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

const collect = <A, E>(stream: Stream.Stream<A, E>) =>
  Effect.runPromise(Effect.either(Stream.runCollect(stream)).pipe(Effect.map(Either.map(Chunk.toReadonlyArray))))

describe("Records", () => {
  it("any layout, any chunk boundaries, multi-byte UTF-8, with or without gzip: the same records", async () => {
    await FastCheck.assert(
      FastCheck.asyncProperty(
        FastCheck.array(record, { maxLength: 8 }),
        FastCheck.constantFrom(...layouts),
        FastCheck.boolean(),
        FastCheck.boolean(),
        FastCheck.array(FastCheck.nat(), { maxLength: 20 }),
        async (records, layout, trailingNewline, gzip, cuts) => {
          const plain = encoder.encode(serialize(records, layout, trailingNewline))
          const bytes = gzip ? new Uint8Array(zlib.gzipSync(plain)) : plain
          const result = await collect(Records.values(chunked(bytes, cuts)))
          assert.deepStrictEqual(result, Either.right(records))
        }
      ),
      { numRuns: 300 }
    )
  })

  it("byte-at-a-time input through a 4-byte UTF-8 character", async () => {
    const bytes = encoder.encode(`{"name":"𝄞 Zoë 北京"}\n{"name":"ok"}`)
    const result = await collect(Records.values(Stream.fromIterable(Array.from(bytes, (b) => Uint8Array.of(b)))))
    assert.deepStrictEqual(result, Either.right([{ name: "𝄞 Zoë 北京" }, { name: "ok" }]))
  })

  it("empty input and an empty array give no records; a BOM is ignored", async () => {
    assert.deepStrictEqual(await collect(Records.values(Stream.empty)), Either.right([]))
    assert.deepStrictEqual(await collect(Records.values(Stream.make(encoder.encode(" [ ] \n")))), Either.right([]))
    assert.deepStrictEqual(
      await collect(Records.values(Stream.make(Uint8Array.of(0xef, 0xbb, 0xbf), encoder.encode('{"a":1}')))),
      Either.right([{ a: 1 }])
    )
  })

  const failure = async (input: string, part?: number) => {
    const result = await collect(Records.values(Stream.make(encoder.encode(input)), { part }))
    assert.isTrue(Either.isLeft(result), input)
    return Either.getLeft(result).pipe((o) => (o._tag === "Some" ? (o.value as Records.RecordDecodeError) : undefined))!
  }

  it("a malformed line fails with its part and line number", async () => {
    const error = await failure('{"a":1}\n{"b":2}\n{"c":3,,}\n{"d":4}\n', 2)
    assert.instanceOf(error, Records.RecordDecodeError)
    assert.strictEqual(error.part, 2)
    assert.strictEqual(error.line, 3)
    assert.include(error.message, "part 2, line 3")
  })

  it("records before a malformed one still flow, even in the same chunk", async () => {
    for (const input of ['{"a":1}\n{"b":2}\n{"c":3,,}\n', '{"a":1}\n{"b":2}\n}\n', '[{"a":1},{"b":2} {"c":3}]']) {
      const steps = await Effect.runPromise(
        Stream.runCollect(Stream.either(Records.values(Stream.make(encoder.encode(input)))))
      )
      const all = Chunk.toReadonlyArray(steps)
      assert.deepStrictEqual(all.slice(0, 2), [Either.right({ a: 1 }), Either.right({ b: 2 })], input)
      assert.strictEqual(all.length, 3, input)
      assert.isTrue(Either.isLeft(all[2]!), input)
    }
  })

  it("truncated input, stray brackets and garbage are RecordDecodeErrors, never defects", async () => {
    assert.strictEqual((await failure('{"a":1}\n{"b":')).line, 2)
    assert.strictEqual((await failure('[{"a":1},{"b":2}')).detail, "the input ends before the closing ]")
    assert.strictEqual((await failure('[{"a":1}] {"b":2}')).detail, "unexpected content after the closing ]")
    assert.strictEqual((await failure('[{"a":1} {"b":2}]')).detail, "expected , or ] between array elements")
    await failure("}\n")
    await failure("nope\n")
    await failure('{"a":"unterminated}\n')
    const invalidUtf8 = await collect(
      Records.values(Stream.make(Uint8Array.of(0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d)))
    )
    assert.isTrue(Either.isLeft(invalidUtf8))
  })

  it("a corrupt gzip stream is a RecordDecodeError", async () => {
    const gz = new Uint8Array(zlib.gzipSync(encoder.encode('{"a":1}\n'.repeat(100))))
    const corrupt = gz.slice(0, 20)
    const result = await collect(Records.values(Stream.make(corrupt), { part: 1 }))
    assert.isTrue(Either.isLeft(result))
  })

  it("upstream errors pass through unchanged, also through gzip", async () => {
    const gz = new Uint8Array(zlib.gzipSync(encoder.encode('{"a":1}\n')))
    for (const head of [encoder.encode('{"a":1}\n'), gz]) {
      const result = await collect(Records.values(Stream.concat(Stream.make(head), Stream.fail("boom" as const))))
      assert.deepStrictEqual(
        Either.getLeft(result)._tag === "Some" ? Either.getLeft(result).pipe((o) => (o as any).value) : undefined,
        "boom"
      )
    }
  })

  it("decode checks ProfileRecord by default and a user schema when given", async () => {
    const ndjson = encoder.encode(
      '{"identifiers":{"custom_id":"u1","installation_ids":["i1"]},"attributes":{"$language":"fr","plan":"gold"},"extra":1}\n'
    )
    const profiles = await collect(Records.decode(Stream.make(ndjson)))
    assert.deepStrictEqual(
      Either.map(profiles, (r) => r[0]?.identifiers?.custom_id),
      Either.right("u1")
    )

    const Mine = Schema.Struct({ identifiers: Schema.Struct({ custom_id: Schema.String }) })
    const mine = await collect(Records.decode(Stream.make(ndjson), { schema: Mine }))
    assert.deepStrictEqual(
      Either.map(mine, (r) => r.map((x) => x.identifiers.custom_id)),
      Either.right(["u1"])
    )

    const bad = await collect(
      Records.decode(
        Stream.make(encoder.encode('{"identifiers":{"custom_id":"u1"}}\n{"identifiers":{"custom_id":5}}\n')),
        { schema: Mine, part: 4 }
      )
    )
    const error = Either.getLeft(bad).pipe((o) => (o._tag === "Some" ? o.value : undefined))
    assert.instanceOf(error, Records.RecordDecodeError)
    assert.strictEqual(error?.line, 2)
    assert.strictEqual(error?.part, 4)
  })
})
