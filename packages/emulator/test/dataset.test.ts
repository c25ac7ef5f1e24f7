import { assert, describe, it } from "@effect/vitest"
import * as FastCheck from "effect/FastCheck"
import { Dataset } from "../src/index.js"

const decode = (bytes: Uint8Array) => new TextDecoder("utf-8", { fatal: true }).decode(bytes)

describe("Dataset", () => {
  it("ids look like Batch's and depend only on their inputs", () => {
    assert.match(Dataset.id("export", 1, 0), /^export_[a-z0-9]{32}$/)
    assert.match(Dataset.id("file", 1, 0, 1), /^file_[a-z0-9]{32}$/)
    assert.match(Dataset.id("project", 1), /^project_[a-z0-9]{32}$/)
    assert.strictEqual(Dataset.id("file", 7, 3, 2), Dataset.id("file", 7, 3, 2))
    assert.notStrictEqual(Dataset.id("file", 7, 3, 2), Dataset.id("file", 7, 3, 1))
    assert.notStrictEqual(Dataset.id("file", 7, 3, 2), Dataset.id("file", 8, 3, 2))
  })

  it("same seed, same bytes; another seed, other bytes", () => {
    const a = Dataset.parts({ seed: 42, parts: 2, recordsPerPart: 50 })
    const b = Dataset.parts({ seed: 42, parts: 2, recordsPerPart: 50 })
    const c = Dataset.parts({ seed: 43, parts: 2, recordsPerPart: 50 })
    assert.deepStrictEqual(a, b)
    assert.notDeepEqual(a[0]!.block, c[0]!.block)
    // pinned: a change in the generator shows up here
    assert.strictEqual(Dataset.profile(1, 0).identifiers.custom_id, "user-000001")
  })

  it("every line is a profile JSON object, \\n terminated, with multi-byte UTF-8", () => {
    const bytes = Dataset.ndjson(1, 300)
    const text = decode(bytes)
    assert.isTrue(text.endsWith("\n"))
    const lines = text.slice(0, -1).split("\n")
    assert.strictEqual(lines.length, 300)
    lines.forEach((line, i) => {
      const record = JSON.parse(line)
      assert.strictEqual(record.identifiers.custom_id, `user-${String(i + 1).padStart(6, "0")}`)
      assert.isArray(record.identifiers.installation_ids)
      assert.match(record.attributes.$email_address, /^[a-z0-9.]+@example\.com$/)
      for (const key of ["$language", "$region", "$timezone", "$email_marketing", "plan"]) {
        assert.isString(record.attributes[key])
      }
    })
    assert.isAbove(bytes.length, text.length, "some characters take several bytes")
    assert.match(text, /Zoë|José|北京|東京|Łódź/)
  })

  it("record indices continue across parts", () => {
    const [first, second] = Dataset.parts({ seed: 5, parts: 2, recordsPerPart: 3 })
    const ids = (part: Dataset.Part) =>
      decode(part.block)
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line).identifiers.custom_id)
    assert.deepStrictEqual(ids(first!), ["user-000001", "user-000002", "user-000003"])
    assert.deepStrictEqual(ids(second!), ["user-000004", "user-000005", "user-000006"])
  })

  it("bytesPerPart pads each part with whole records up to at least that size", () => {
    const parts = Dataset.parts({ seed: 1, parts: 3, bytesPerPart: 100_000 })
    for (const part of parts) {
      assert.isAtLeast(part.block.length, 100_000)
      assert.isBelow(part.block.length, 102_000)
      assert.strictEqual(part.block[part.block.length - 1], 0x0a)
      assert.strictEqual(decode(part.block).trimEnd().split("\n").length, part.records)
    }
  })

  it("a part past maxBlockBytes repeats its block of whole records, cut at a line end", () => {
    const size = 3 * Dataset.maxBlockBytes + Dataset.maxBlockBytes / 2
    const [first, second] = Dataset.parts({ seed: 1, parts: 2, bytesPerPart: size })
    for (const part of [first!, second!]) {
      assert.isAtMost(part.block.length, Dataset.maxBlockBytes + 2000, "one block, not the whole part")
      assert.isAtLeast(part.size, size)
      const all = Dataset.bytes(part)
      assert.strictEqual(all.length, part.size)
      assert.strictEqual(all[all.length - 1], 0x0a)
      const lines = decode(all).slice(0, -1).split("\n")
      assert.strictEqual(lines.length, part.records)
      assert.isBelow(
        part.size - size,
        Buffer.byteLength(lines.at(-1)!) + 1,
        "the last copy stops at the first line end past the size"
      )
      for (const line of lines) assert.isObject(JSON.parse(line))
      // block repeated
      assert.deepStrictEqual(all.subarray(part.block.length, 2 * part.block.length), part.block)
      // slices across a block boundary, in small pieces
      const from = part.block.length - 1000
      const pieces = [...Dataset.slices(part, from, from + 5000, 700)]
      assert.isTrue(pieces.every((piece) => piece.length <= 700))
      assert.deepStrictEqual(new Uint8Array(Buffer.concat(pieces)), all.subarray(from, from + 5000))
    }
    // part 2 continues the record indices after part 1's block
    const customId = (part: Dataset.Part) => JSON.parse(decode(part.block).split("\n")[0]!).identifiers.custom_id
    const blockRecords = first!.lineEnds.length
    assert.strictEqual(customId(second!), `user-${String(blockRecords + 1).padStart(6, "0")}`)
  })

  it("property: any seed and size gives parseable, deterministic NDJSON", () => {
    FastCheck.assert(
      FastCheck.property(
        FastCheck.integer(),
        FastCheck.integer({ min: 0, max: 30 }),
        FastCheck.constantFrom<Dataset.ExportType>("ATTRIBUTES", "EVENTS", "REACHABILITY"),
        (seed, records, exportType) => {
          const [part] = Dataset.parts({ seed, exportType, recordsPerPart: records })
          const text = decode(part!.block)
          const lines = text === "" ? [] : text.slice(0, -1).split("\n")
          assert.strictEqual(lines.length, records)
          for (const line of lines) assert.isObject(JSON.parse(line))
          assert.deepStrictEqual(Dataset.parts({ seed, exportType, recordsPerPart: records })[0]!.block, part!.block)
        }
      ),
      { numRuns: 50 }
    )
  })
})
