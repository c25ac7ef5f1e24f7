import { Ids } from "@batch-export/core"
import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
const alnum = FastCheck.stringMatching(/^[A-Za-z0-9]{1,40}$/)
const cases = [
  ["FileId", Ids.FileId, "file_"],
  ["ExportId", Ids.ExportId, "export_"],
  ["ProjectKey", Ids.ProjectKey, "project_"]
] as const

describe("Ids", () => {
  for (const [name, schema, prefix] of cases) {
    const decode = Schema.decodeUnknownEither(schema as unknown as Schema.Schema<string, string>)

    it(`${name} accepts its prefix followed by letters and digits`, () => {
      FastCheck.assert(FastCheck.property(alnum, (rest) => Either.isRight(decode(prefix + rest))))
    })

    it(`${name} rejects anything that could alter a URL or a header`, () => {
      const bad = FastCheck.tuple(
        alnum,
        FastCheck.constantFrom(" ", "/", "&", "?", "#", "\n", "\r", "%", "=", ".", "é", "\t"),
        FastCheck.stringMatching(/^[A-Za-z0-9]{0,5}$/)
      )
      FastCheck.assert(FastCheck.property(bad, ([a, c, b]) => Either.isLeft(decode(prefix + a + c + b))))
    })

    it(`${name} rejects other prefixes, an empty tail and non-strings`, () => {
      for (const input of [prefix, "", "x" + prefix + "abc", prefix.toUpperCase() + "abc", 42, null, undefined]) {
        assert.isTrue(Either.isLeft(decode(input)), String(input))
      }
    })

    it(`${name} explains what it expected`, () => {
      const result = decode(`${prefix}a/b`)
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) {
        const message = ParseResult.TreeFormatter.formatErrorSync(result.left)
        assert.include(message, `"${prefix}" followed by letters and digits`)
        assert.include(message, `${prefix}a/b`)
      }
    })
  }

  it("FileId and ExportId are not interchangeable", () => {
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(Ids.FileId)("export_abc")))
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(Ids.ExportId)("file_abc")))
  })
})
