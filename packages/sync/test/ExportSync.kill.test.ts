/**
 * Durability with real processes: the sync runs in a child process (engine and sink on SQLite files in the
 * test's temp dir, the emulator of this test as Batch), is killed with SIGKILL at a step boundary, and is
 * started again with the same payload. The second process must finish the run: same rows, one export
 * created, no part downloaded twice.
 */
import { Emulator } from "@batch-export/emulator"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Database from "../src/Database.js"
import * as Sink from "../src/Sink.js"
import * as Child from "./support/process.js"

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "batch-export-sync-kill-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** The storage requests of each file, by part. */
const downloadsByPart = (emulator: Emulator.Service) =>
  Effect.gen(function* () {
    const files = (yield* emulator.exports).flatMap((exp) => exp.files)
    const requests = (yield* emulator.requests).filter((r) => r.origin === "storage")
    return files.map((file) => requests.filter((r) => r.path.endsWith(`/${file.id}`)).length)
  })

const posts = (emulator: Emulator.Service) =>
  Effect.map(
    emulator.requests,
    (requests) => requests.filter((r) => r.method === "POST" && r.path.endsWith("/profiles/export")).length
  )

/** What the sink holds after the children ended, read with a client of the test's own. */
const stored = (dir: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const sink = yield* Sink.Sink
    const profiles = yield* sql<{ n: number; distinct_ids: number }>`
      SELECT COUNT(*) AS n, COUNT(DISTINCT custom_id) AS distinct_ids FROM batch_profiles WHERE project = 'shop'`
    return { profiles: profiles[0], runs: yield* sink.runs() }
  }).pipe(
    Effect.provide(Layer.provideMerge(Sink.layer, Database.layerSqlite({ filename: join(dir, "sink.db") }))),
    Effect.orDie
  )

/**
 * Runs the sync in a child paused (then killed) at `pause`, then in a second child to the end; returns what
 * the second one printed, with the emulator and the temp dir.
 */
const killedAt = (pause: string) =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    const emulator = yield* Emulator.make({ exports: [], pollsPerStatus: 1, partsPerExport: 3, recordsPerPart: 40 })
    const env = {
      SYNC_DIR: dir,
      SYNC_SLOT: "2026-12-07T02:00Z",
      BATCH_API_URL: emulator.apiUrl,
      BATCH_REST_API_KEY: emulator.restApiKey,
      BATCH_PROJECT_KEY: emulator.projectKey
    }
    const first = yield* Child.start({ ...env, SYNC_PAUSE: pause })
    yield* first.waitFor(`paused ${pause}`, `the first process reaching ${pause}`)
    first.process.kill("SIGKILL")
    assert.strictEqual(yield* first.exit("the killed process"), "SIGKILL")

    const second = yield* Child.start(env)
    yield* second.waitFor("result ", "the restarted process finishing the run (shard re-acquisition included)")
    assert.strictEqual(yield* second.exit("the restarted process"), 0)
    return { dir, emulator, lines: second.lines() }
  })

const assertFinishedOnce = (dir: string, emulator: Emulator.Service) =>
  Effect.gen(function* () {
    assert.strictEqual(yield* posts(emulator), 1, "one export created on Batch")
    assert.deepStrictEqual(yield* downloadsByPart(emulator), [1, 1, 1], "each part downloaded once")
    const { profiles, runs } = yield* stored(dir)
    assert.strictEqual(Number(profiles?.n), 120)
    assert.strictEqual(Number(profiles?.distinct_ids), 120)
    assert.strictEqual(runs.length, 1)
    assert.strictEqual(runs[0]?.outcome, "success")
    assert.strictEqual(runs[0]?.records, 120)
  })

describe("ExportSync killed with SIGKILL", () => {
  it.scopedLive(
    "after Batch created the export but before its id was recorded: the restarted create adopts it, no second POST",
    () =>
      Effect.gen(function* () {
        const { dir, emulator, lines } = yield* killedAt("after-post")
        yield* assertFinishedOnce(dir, emulator)
        // the restarted step found the mark and the export by listing, and recorded that one
        assert.include(lines, "recordExport")
      }),
    90_000
  )

  it.scopedLive(
    "after part 1's step finished: the restarted process goes on with part 2 and never touches part 1",
    () =>
      Effect.gen(function* () {
        const { dir, emulator, lines } = yield* killedAt("before-load-2")
        yield* assertFinishedOnce(dir, emulator)
        // the engine's stored result of part 1's step stands: the step is not run again at all
        assert.isFalse(
          lines.some((line) => line === "loadedPart 1" || line === "loadPart 1 start"),
          lines.join("\n")
        )
        assert.include(lines, "loadPart 2 start")
      }),
    90_000
  )

  it.scopedLive(
    "after part 1 committed but before its step finished: the step runs again and finds the part loaded",
    () =>
      Effect.gen(function* () {
        const { dir, emulator, lines } = yield* killedAt("after-load-1")
        yield* assertFinishedOnce(dir, emulator)
        assert.include(lines, "loadedPart 1")
        assert.notInclude(lines, "loadPart 1 start")
      }),
    90_000
  )
})
