/**
 * The configuration file's schema: the README's example is valid, and any valid file decodes to itself
 * (the one-line errors of invalid files are tested through the CLI, packages/cli/test/syncConfig.test.ts).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Arbitrary from "effect/Arbitrary"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Schema from "effect/Schema"
import { readFileSync } from "node:fs"
import * as SyncConfig from "../src/SyncConfig.js"

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")

describe("SyncConfig", () => {
  it("the README's example configuration is valid", () => {
    const block = /## Configuration\n\n```json\n([\s\S]*?)\n```/.exec(readme)?.[1]
    assert.isDefined(block, "a json block under ## Configuration")
    const decoded = SyncConfig.decode("README", JSON.parse(block!))
    assert.isTrue(Either.isRight(decoded), Either.isLeft(decoded) ? decoded.left.message : "")
  })

  it("any valid file decodes to itself, strictly (no unknown field is produced by encoding)", () => {
    const encode = Schema.encodeSync(SyncConfig.File)
    const decode = Schema.decodeUnknownEither(SyncConfig.File, { onExcessProperty: "error" })
    FastCheck.assert(
      FastCheck.property(Arbitrary.make(SyncConfig.File), (file) => {
        const again = decode(JSON.parse(JSON.stringify(encode(file))))
        assert.isTrue(Either.isRight(again))
        // an optional field the generator sets to undefined is absent from JSON, as from a file
        assert.deepStrictEqual(Either.getOrThrow(again), JSON.parse(JSON.stringify(file)))
      }),
      { numRuns: 50 }
    )
  })
})
