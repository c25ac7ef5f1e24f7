import { CreateExport, Export, ExportStatus } from "@batch-export/core"
import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
// The real SUCCESS example from Batch's documentation (batch-api.md §2).
const documented = {
  id: "export_nvctr8tgdjf7bppacxxt2aeemnjehfmw",
  request_date: "2024-02-28T16:28:42Z",
  scope: "PROFILE_ATTRIBUTES",
  status: "SUCCESS",
  request: {
    export_type: "ATTRIBUTES",
    attributes: [
      "$region",
      "$phone_number",
      "$timezone",
      "$email_marketing",
      "$sms_marketing",
      "$language",
      "$email_address"
    ],
    identifiers: ["installation_ids", "custom_id"]
  },
  completion_date: "2024-02-28T16:28:48Z",
  start_date: "2024-02-28T16:28:48Z",
  files: [
    {
      id: "file_etxhwckcfc05egew7y97bdjtc75p7g8b",
      part: 1,
      size: 592752,
      url: "https://api.batch.com/2.2/exports/download?id=file_etxhwckcfc05egew7y97bdjtc75p7g8b"
    }
  ]
}

const message = (result: Either.Either<unknown, ParseResult.ParseError>) =>
  Either.match(result, { onLeft: (e) => ParseResult.TreeFormatter.formatErrorSync(e), onRight: () => "ok" })

describe("Export", () => {
  it("decodes Batch's documented example", () => {
    const exp = Schema.decodeUnknownSync(Export.Export)(documented)
    assert.strictEqual(exp.status, "SUCCESS")
    assert.strictEqual(exp.files[0]?.size, 592752)
    assert.strictEqual(exp.completionDate && DateTime.formatIso(exp.completionDate), "2024-02-28T16:28:48.000Z")
  })

  it("before SUCCESS: no dates, no files; an unknown status is kept, not rejected", () => {
    const exp = Schema.decodeUnknownSync(Export.Export)({ id: "export_abc", scope: "X", status: "ARCHIVED" })
    assert.deepStrictEqual(exp.files, [])
    assert.strictEqual(exp.status, "ARCHIVED")
    assert.isFalse(ExportStatus.isKnown(exp.status))
    assert.isFalse(ExportStatus.isTerminal(exp.status))
    assert.isTrue(ExportStatus.isTerminal("ERROR"))
  })

  it("parts are sorted by part number", () => {
    const file = (part: number) => ({ id: `file_p${part}`, part, size: 1, url: "u" })
    const exp = Schema.decodeUnknownSync(Export.Export)({ ...documented, files: [file(3), file(1), file(2)] })
    assert.deepStrictEqual(
      exp.parts.map((f) => f.part),
      [1, 2, 3]
    )
  })

  it("rejects what the docs are clear about: ids, dates, sizes", () => {
    assert.include(message(Schema.decodeUnknownEither(Export.Export)({ ...documented, id: "file_x" })), "export_")
    assert.notStrictEqual(
      message(Schema.decodeUnknownEither(Export.Export)({ ...documented, start_date: "yesterday" })),
      "ok"
    )
    const badFile = { ...documented, files: [{ ...documented.files[0], size: -1 }] }
    assert.notStrictEqual(message(Schema.decodeUnknownEither(Export.Export)(badFile)), "ok")
  })

  it("decodes a list page", () => {
    const page = Schema.decodeUnknownSync(Export.ExportPage)({
      exports: [documented],
      count: 1,
      has_more: true,
      next_from: "abc"
    })
    assert.strictEqual(page.hasMore, true)
    assert.strictEqual(page.nextFrom, "abc")
    const last = Schema.decodeUnknownSync(Export.ExportPage)({ exports: [], count: 0, has_more: false })
    assert.isUndefined(last.nextFrom)
  })

  it("list options: limit between 1 and 100", () => {
    const decode = Schema.decodeUnknownEither(Export.ListOptions)
    assert.isTrue(Either.isRight(decode({ limit: 100, from: "x" })))
    assert.include(message(decode({ limit: 0 })), "limit must be between 1 and 100")
    assert.include(message(decode({ limit: 101 })), "limit must be between 1 and 100")
    assert.notStrictEqual(message(decode({ limit: 1.5 })), "ok")
  })
})

describe("CreateExport", () => {
  const decode = Schema.decodeUnknownEither(CreateExport.CreateExportRequest)

  it("ATTRIBUTES needs at least one attribute or identifier", () => {
    assert.strictEqual(message(decode({ export_type: "ATTRIBUTES", attributes: ["$email_address"] })), "ok")
    assert.strictEqual(
      message(decode({ export_type: "ATTRIBUTES", identifiers: ["custom_id"], filter: { segment: "VIP" } })),
      "ok"
    )
    assert.include(message(decode({ export_type: "ATTRIBUTES" })), "at least one attribute or identifier")
    assert.include(
      message(decode({ export_type: "ATTRIBUTES", identifiers: [] })),
      "at least one attribute or identifier"
    )
    assert.notStrictEqual(message(decode({ export_type: "ATTRIBUTES", attributes: [] })), "ok")
    assert.notStrictEqual(message(decode({ export_type: "ATTRIBUTES", attributes: [""] })), "ok")
    assert.notStrictEqual(
      message(decode({ export_type: "ATTRIBUTES", attributes: ["a"], filter: { segment: "" } })),
      "ok"
    )
    assert.notStrictEqual(message(decode({ export_type: "NOPE", attributes: ["a"] })), "ok")
  })

  it("EVENTS and REACHABILITY take an ordered RFC 3339 window, encoded back to strings", () => {
    const events = { export_type: "EVENTS", from: "2026-10-01T00:00:00Z", to: "2026-11-01T00:00:00Z" }
    const decoded = Either.getOrThrow(decode(events))
    const encoded = Schema.encodeSync(CreateExport.CreateExportRequest)(decoded)
    assert.deepStrictEqual(encoded, {
      export_type: "EVENTS",
      from: "2026-10-01T00:00:00.000Z",
      to: "2026-11-01T00:00:00.000Z"
    })
    assert.include(message(decode({ ...events, from: "2026-12-01T00:00:00Z" })), "from must not be after to")
    assert.include(
      message(decode({ export_type: "REACHABILITY", from: "2026-12-01T00:00:00Z", to: "2026-11-01T00:00:00Z" })),
      "from must not be after to"
    )
    assert.notStrictEqual(message(decode({ export_type: "REACHABILITY", from: "last week" })), "ok")
  })
})
