/**
 * The sink on SQLite: the shared suite on a file per test, and how a file that cannot be opened or written
 * fails.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Database from "../src/Database.js"
import * as Sink from "../src/Sink.js"
import { load, profile, sinkSuite, withSink } from "./sinkSuite.js"
import * as Backend from "./support/backend.js"

layer(Backend.sqlite, { excludeTestServices: true })("Sink on SQLite", (it) => sinkSuite(it))

describe("SQLite that refuses", () => {
  it.live("a file in a missing directory fails the layer with a typed SinkError, not a defect", () =>
    Effect.gen(function* () {
      const built = yield* Effect.either(
        Effect.provide(Sink.migrate, Database.layerSqlite({ filename: "/nonexistent/batch-export/sink.db" }))
      )
      assert.isTrue(Either.isLeft(built))
      if (Either.isLeft(built)) {
        assert.strictEqual(built.left._tag, "SinkError")
        assert.strictEqual(built.left.operation, "connect")
        assert.include(built.left.detail, "directory does not exist")
      }
    })
  )

  it.live("a read-only database fails each write with a typed SinkError naming the operation", () =>
    Effect.acquireUseRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "batch-export-ro-"))),
      (dir) =>
        Effect.gen(function* () {
          const filename = join(dir, "sink.db")
          yield* Effect.provide(Sink.migrate, Database.layerSqlite({ filename }))
          const readOnly = {
            client: Database.layerSqlite({ filename, readonly: true }),
            second: Database.layerSqlite({ filename })
          }
          const failed = yield* withSink(readOnly, Effect.flip(load("p", "export_1", 1, Stream.make(profile(1)))))
          assert.strictEqual(failed._tag, "SinkError")
          if (failed._tag === "SinkError") {
            assert.strictEqual(failed.operation, "loadPart")
            assert.strictEqual(failed.code, "SQLITE_READONLY")
          }
        }),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    )
  )
})
