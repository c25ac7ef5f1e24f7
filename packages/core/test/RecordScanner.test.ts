import { assert, describe, it } from "@effect/vitest"
import * as FastCheck from "effect/FastCheck"
import { JsonSplitter, SplitError } from "../src/internal/jsonSplitter.js"
import { type Accept, Failure, RecordScanner } from "../src/internal/records.js"

const encoder = new TextEncoder()
const MAX_DEPTH = 512

interface Outcome {
  readonly values: ReadonlyArray<unknown>
  readonly failure?: { readonly line: number; readonly detail: string }
}

/** Keeps every value but the number 13, which it rejects: schema rejections must land on the same line too. */
const accept: Accept<unknown> = (value, out) => {
  if (value === 13) return "13 is rejected"
  out.push(value)
  return undefined
}

/** Cuts bytes at arbitrary positions, as a socket would deliver them. */
const pieces = (bytes: Uint8Array, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const out: Array<Uint8Array> = []
  let start = 0
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(start, p))
    start = p
  }
  return out
}

/** The scanner under test, fed `bytes` in pieces; also the line from which the splitter read, if it did. */
const scan = (bytes: Uint8Array, cuts: ReadonlyArray<number>, maxRecordBytes: number) => {
  const scanner = new RecordScanner({ accept, maxRecordBytes, maxDepth: MAX_DEPTH })
  const values: Array<unknown> = []
  const outcome = (failure: Failure | undefined): Outcome & { readonly generalFrom: number | undefined } => {
    values.push(...scanner.out)
    scanner.out = []
    const generalFrom = scanner.generalFrom
    return failure === undefined
      ? { values, generalFrom }
      : { values, failure: { line: failure.line, detail: failure.detail }, generalFrom }
  }
  for (const piece of pieces(bytes, cuts)) {
    const failure = scanner.push(piece)
    values.push(...scanner.out)
    scanner.out = []
    if (failure !== undefined) return outcome(failure)
  }
  return outcome(scanner.end())
}

const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09

/** The reference: the byte-level splitter alone over the whole input, as one chunk. */
const split = (bytes: Uint8Array, maxRecordBytes: number): Outcome => {
  const values: Array<unknown> = []
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0
  let line = 1
  for (; i < bytes.length && isSpace(bytes[i]!); i++) if (bytes[i] === 0x0a) line++
  if (i === bytes.length) return { values }
  const array = bytes[i] === 0x5b
  const splitter = new JsonSplitter({
    line,
    layout: array ? "array" : "values",
    expectValue: true,
    maxValueBytes: maxRecordBytes,
    maxDepth: MAX_DEPTH,
    emit: (text, at) => {
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch (error) {
        throw new Failure(at, error instanceof Error ? error.message : String(error))
      }
      const rejected = accept(value, values)
      if (rejected !== undefined) throw new Failure(at, rejected)
    }
  })
  try {
    splitter.push(bytes.subarray(array ? i + 1 : i))
    splitter.end()
    return { values }
  } catch (error) {
    if (error instanceof Failure || error instanceof SplitError) {
      return { values, failure: { line: error.line, detail: error.detail } }
    }
    throw error
  }
}

/** Strings full of what a splitter must not be fooled by: brackets, commas, quotes, escapes, multi-byte text. */
const tricky = FastCheck.constantFrom("[", "]", "{", "}", ",", '"', "\\", " ", "\n", "a", "é", "𝄞", "\u2028")
const element = FastCheck.oneof(
  FastCheck.jsonValue({ maxDepth: 3, stringUnit: tricky }),
  // whole numbers, so that 13 (rejected) turns up now and then
  FastCheck.integer({ min: 0, max: 20 })
)
const space = FastCheck.array(FastCheck.constantFrom(" ", "\t", "\n", "\r\n", ""), { maxLength: 3 }).map((parts) =>
  parts.join("")
)

const arrayLayouts = [
  "per-line",
  "per-line-crlf",
  "indented",
  "leading-commas",
  "compact",
  "pretty",
  "any-space"
] as const

/** An array in one of the layouts serializers write, or with white space anywhere. */
const arrayText = FastCheck.tuple(
  FastCheck.array(element, { maxLength: 8 }),
  FastCheck.constantFrom(...arrayLayouts),
  FastCheck.array(FastCheck.tuple(space, space), { minLength: 10, maxLength: 10 }),
  FastCheck.boolean()
).map(([elements, layout, spaces, bom]) => {
  const texts = elements.map((e) => JSON.stringify(e))
  const text = (() => {
    switch (layout) {
      case "per-line":
        return `[\n${texts.join(",\n")}\n]\n`
      case "per-line-crlf":
        return `[\r\n${texts.join(",\r\n")}\r\n]`
      case "indented":
        return `[${texts.map((t) => `\n  ${t}`).join(",")}\n]`
      case "leading-commas":
        return `[ ${texts.join("\n, ")}\n]`
      case "compact":
        return JSON.stringify(elements)
      case "pretty":
        return JSON.stringify(elements, null, 2)
      case "any-space": {
        const s = (i: number) => spaces[i % spaces.length]!
        return `${s(0)[0]}[${s(1)[0]}${texts.map((t, i) => `${s(i + 2)[0]}${t}${s(i + 3)[1]}`).join(",")}${s(9)[1]}]${s(8)[1]}`
      }
    }
  })()
  return { elements, text: bom ? `\uFEFF${text}` : text }
})

const cuts = FastCheck.array(FastCheck.nat(), { maxLength: 12 })
const limit = FastCheck.constantFrom(8, 24, 64, 16 * 1024 * 1024)

describe("RecordScanner", () => {
  it("any JSON array, any layout and chunking: the elements JSON.parse finds in the whole text", () =>
    FastCheck.assert(
      FastCheck.property(arrayText, cuts, ({ elements, text }, cuts) => {
        const result = scan(encoder.encode(text), cuts, 16 * 1024 * 1024)
        const expected = JSON.parse(text.replace(/^\uFEFF/, ""))
        const rejected = elements.indexOf(13)
        if (rejected < 0) {
          assert.deepStrictEqual(result.values, expected)
          assert.isUndefined(result.failure)
        } else {
          assert.deepStrictEqual(result.values, expected.slice(0, rejected))
          assert.strictEqual(result.failure?.detail, "13 is rejected")
        }
      }),
      { numRuns: 1000 }
    ))

  it("arrays, valid or corrupted, any chunking and record bound: the same records, error, line as the splitter", () =>
    FastCheck.assert(
      FastCheck.property(
        arrayText,
        FastCheck.array(
          FastCheck.tuple(
            FastCheck.nat(),
            FastCheck.constantFrom("", "[", "]", "{", "}", ",", '"', "\\", "\n", " ", "1", "x", "\uFEFF", "é")
          ),
          { maxLength: 3 }
        ),
        cuts,
        limit,
        ({ text }, edits, cuts, maxRecordBytes) => {
          let corrupted = text
          for (const [at, insert] of edits) {
            const i = at % (corrupted.length + 1)
            // "" deletes a character; anything else is inserted
            corrupted =
              insert === ""
                ? corrupted.slice(0, i) + corrupted.slice(i + 1)
                : corrupted.slice(0, i) + insert + corrupted.slice(i)
          }
          const bytes = encoder.encode(corrupted)
          const { generalFrom: _, ...result } = scan(bytes, cuts, maxRecordBytes)
          assert.deepStrictEqual(result, split(bytes, maxRecordBytes))
        }
      ),
      { numRuns: 2000 }
    ))

  it("NDJSON and arbitrary bytes, any chunking and record bound: the same records, error, line as the splitter", () =>
    FastCheck.assert(
      FastCheck.property(
        FastCheck.oneof(
          FastCheck.array(FastCheck.tuple(element, space), { maxLength: 8 }).map((values) =>
            encoder.encode(values.map(([v, s]) => `${JSON.stringify(v)}${s}\n`).join(""))
          ),
          FastCheck.array(
            FastCheck.constantFrom(
              '{"a":',
              "[",
              "]",
              "{",
              "}",
              ",",
              '"',
              "\\",
              "\n",
              "\r",
              " ",
              "1",
              "13",
              "\uFEFF",
              "é"
            ),
            { maxLength: 60 }
          ).map((parts) => encoder.encode(parts.join(""))),
          FastCheck.uint8Array({ maxLength: 100 })
        ),
        cuts,
        limit,
        (bytes, cuts, maxRecordBytes) => {
          const { generalFrom: _, ...result } = scan(bytes, cuts, maxRecordBytes)
          assert.deepStrictEqual(result, split(bytes, maxRecordBytes))
        }
      ),
      { numRuns: 2000 }
    ))

  it("an array written one element per line stays on the line path, whatever the chunking", () => {
    const records = Array.from({ length: 200 }, (_, i) => ({
      identifiers: { custom_id: `user-${i}`, installation_ids: [`i-${i}`] },
      attributes: { city: "Łódź", note: 'a "quoted" [bracket], {brace}', n: i }
    }))
    const lines = records.map((r) => JSON.stringify(r))
    for (const text of [
      `[\n${lines.join(",\n")}\n]\n`,
      `[\r\n${lines.join(",\r\n")}\r\n]`,
      `\uFEFF[${lines.map((l) => `\n  ${l}`).join(",")}\n]`,
      `[${lines.join(",\n")}]`
    ]) {
      const bytes = encoder.encode(text)
      for (const cuts of [[], [1], [2, 3, 4], Array.from({ length: 50 }, (_, i) => i * 997)]) {
        const result = scan(bytes, cuts, 16 * 1024 * 1024)
        assert.deepStrictEqual(result.values, records)
        assert.isUndefined(result.failure)
        // the splitter reads the last line only, the one with the closing bracket
        assert.strictEqual(result.generalFrom, text.slice(0, text.lastIndexOf("]")).split("\n").length, text)
      }
    }
  })
})
