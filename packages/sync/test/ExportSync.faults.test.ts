/**
 * The sync workflow when things go wrong under it, in process, the emulator as Batch: a record that does not
 * decode and a full disk (engine and sink on SQLite files in the test's temp dir), and a database that goes
 * down in the middle of a run (engine and sink on one throw-away Postgres).
 */
import { CreateExport } from "@batch-export/core"
import { Emulator } from "@batch-export/emulator"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Database from "../src/Database.js"
import * as ExportSyncModule from "../src/ExportSync.js"
import { ExportSync } from "../src/ExportSync.js"
import * as Sink from "../src/Sink.js"
import * as SyncRun from "../src/Sync.js"
import * as Postgres from "./support/postgres.js"
import * as Sync from "./support/sync.js"

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "batch-export-sync-faults-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const payload = (slot: string) =>
  Effect.map(
    Effect.orDie(
      Schema.decodeUnknown(CreateExport.CreateExportRequest)({
        export_type: "ATTRIBUTES",
        attributes: ["$email_address", "$language"],
        identifiers: ["custom_id", "installation_ids"]
      })
    ),
    (request) => ({ project: "shop", definition: "profiles", slot, request })
  )

/** The execution's failure: its typed error, or a test failure showing the cause (a defect, an interruption). */
const failureOf = <A, E>(exit: Exit.Exit<A, E>) =>
  Exit.match(exit, {
    onSuccess: () => assert.fail("the execution succeeded"),
    onFailure: (cause) =>
      Option.getOrElse(Cause.failureOption(cause), () => assert.fail(`not a typed failure: ${Cause.pretty(cause)}`))
  })

/** The published snapshot: its export ids and row count. */
const snapshot = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ export_id: string; n: number }>`
    SELECT export_id, COUNT(*) AS n FROM batch_profiles WHERE project = 'shop' GROUP BY export_id`
  const staged = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM batch_profiles_staging`
  return {
    exports: rows.map((row) => row.export_id),
    rows: rows.reduce((sum, row) => sum + Number(row.n), 0),
    staged: Number(staged[0]?.n)
  }
}).pipe(Effect.orDie)

const runOf = (slot: string) =>
  Effect.gen(function* () {
    const runId = yield* ExportSync.executionId(yield* payload(slot))
    const runs = yield* Effect.orDie(Effect.flatMap(Sink.Sink, (sink) => sink.runs()))
    return runs.find((run) => run.runId === runId)
  })

const emulatorOptions = { exports: [], pollsPerStatus: 0, partsPerExport: 3, recordsPerPart: 40 }

describe("ExportSync faults (SQLite)", () => {
  it.scopedLive("a record that does not decode fails its part, naming part and line; the previous snapshot stays", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const emulator = yield* Emulator.make(emulatorOptions)
      let corrupt = false
      // line 7 of part 2 becomes a record whose identifiers are not an object
      const decorate = (sink: Sink.Service): Sink.Service => ({
        ...sink,
        loadPart: (key, records) =>
          sink.loadPart(
            key,
            corrupt && key.part === 2
              ? Stream.mapAccum(records, 0, (n, record) => [n + 1, n + 1 === 7 ? { identifiers: 5 } : record])
              : records
          )
      })
      yield* Effect.gen(function* () {
        const first = yield* ExportSync.execute(yield* payload("slot-1"))
        corrupt = true
        const failed = failureOf(yield* Effect.exit(ExportSync.execute(yield* payload("slot-2"))))
        assert.strictEqual(failed._tag, "StepFailed")
        if (failed._tag === "StepFailed") {
          assert.strictEqual(failed.step, "load-part-2")
          assert.strictEqual(failed.reason, "RecordDecodeError")
          assert.match(failed.detail, /part 2\b.*line 7\b/)
        }
        // the first snapshot is still the published one, whole; nothing of the failed export stays staged
        assert.deepStrictEqual(yield* snapshot, { exports: [first.exportId], rows: 120, staged: 0 })
        const run = yield* runOf("slot-2")
        assert.strictEqual(run?.outcome, "failure")
        assert.deepStrictEqual(run?.errorTag, Option.some("RecordDecodeError"))
      }).pipe(Effect.provide(Sync.layer(Sync.where(dir, emulator), { decorate })))
    })
  )

  it.scopedLive(
    "a disk that fills during a load rolls the part back and fails the run typed; the previous snapshot stays",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const emulator = yield* Emulator.make({ ...emulatorOptions, recordsPerPart: 2000 })
        yield* Effect.gen(function* () {
          const first = yield* ExportSync.execute(yield* payload("slot-1"))
          const sql = yield* SqlClient.SqlClient
          // SQLite's own SQLITE_FULL: the file may grow by about half a part's rows (free pages gone first), so
          // that the load fails after some of its batches went in
          yield* Effect.orDie(sql`VACUUM`)
          const pages = Number((yield* Effect.orDie(sql<{ page_count: number }>`PRAGMA page_count`))[0]?.page_count)
          yield* Effect.orDie(sql.unsafe(`PRAGMA max_page_count = ${pages + Math.round(pages / 6)}`))
          const failed = failureOf(yield* Effect.exit(ExportSync.execute(yield* payload("slot-2"))))
          assert.strictEqual(failed._tag, "StepFailed")
          if (failed._tag === "StepFailed") {
            assert.match(failed.step, /^load-part-\d$/)
            assert.strictEqual(failed.reason, "SinkError")
            assert.match(failed.detail, /\(SQLITE_FULL\): .*database or disk is full/)
          }
          const run = yield* runOf("slot-2")
          assert.strictEqual(run?.outcome, "failure")
          assert.deepStrictEqual(yield* snapshot, { exports: [first.exportId], rows: 6000, staged: 0 })
        }).pipe(Effect.provide(Sync.layer(Sync.where(dir, emulator))))
      })
  )
})

describe("ExportSync's engine on storage that refuses", () => {
  it.scoped("a read-only engine file fails the engine's layer with a typed SinkError, not a defect", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const filename = join(dir, "engine.db")
      // an empty database file, then opened read-only: the runner's tables cannot be created
      yield* Effect.orDie(
        Effect.provide(
          Effect.flatMap(SqlClient.SqlClient, (sql) => sql`CREATE TABLE t (x)`),
          Database.layerSqlite({ filename })
        )
      )
      const exit = yield* Effect.exit(
        Layer.build(
          ExportSyncModule.layerEngine().pipe(Layer.provide(Database.layerSqlite({ filename, readonly: true })))
        )
      )
      const failed = failureOf(exit)
      assert.strictEqual(failed._tag, "SinkError")
      if (failed._tag === "SinkError") {
        assert.strictEqual(failed.operation, "engine")
        assert.include(failed.detail.toLowerCase(), "readonly")
      }
    })
  )
})

if (!Postgres.available) console.warn(`Postgres 15 not found in ${Postgres.binDir}: skipping the Postgres fault tests`)

describe.skipIf(!Postgres.available)("ExportSync faults (engine and sink on one Postgres)", () => {
  it.scopedLive(
    "the database goes down in the middle of a part and comes back: the step and the engine's calls retry, the run finishes once",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const cluster = yield* Postgres.start
        yield* cluster.psql("postgres", "CREATE DATABASE sync")
        const emulator = yield* Emulator.make({ ...emulatorOptions, recordsPerPart: 1000 })
        let down = false
        // part 2's load starts, its records flow, then the server stops for 3 s (connections cut) and starts again
        const decorate = (sink: Sink.Service): Sink.Service => ({
          ...sink,
          loadPart: (key, records) =>
            key.part === 2 && !down
              ? Effect.suspend(() => {
                  down = true
                  let seen = 0
                  const outage = Effect.zipRight(
                    cluster.stop,
                    Effect.forkDaemon(Effect.zipRight(Effect.sleep("3 seconds"), cluster.start))
                  )
                  return sink.loadPart(
                    key,
                    Stream.tap(records, () => (++seen === 600 ? outage : Effect.void))
                  )
                })
              : sink.loadPart(key, records)
        })
        const database = Database.layerPg({
          host: cluster.socketDir,
          port: cluster.port,
          username: "postgres",
          database: "sync",
          connectTimeout: "2 seconds"
        })
        yield* Effect.gen(function* () {
          // as the CLI runs it: handed to the engine, then polled (each poll reads the engine's storage, which is
          // the same database, down too)
          const input = yield* payload("slot-1")
          const exit = yield* SyncRun.execute({
            executionId: yield* ExportSync.executionId(input),
            payload: input
          }).pipe(
            Effect.timeoutFail({
              duration: "45 seconds",
              onTimeout: () => new Error("the run did not end within 45 s (the server was down for 3 s)")
            }),
            Effect.exit
          )
          assert.isTrue(Exit.isSuccess(exit), Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "")
          if (Exit.isSuccess(exit)) {
            assert.isTrue(Either.isRight(exit.value.result), JSON.stringify(Either.getLeft(exit.value.result)))
          }
          assert.deepInclude(yield* snapshot, { rows: 3000, staged: 0 })
          const run = yield* runOf("slot-1")
          assert.strictEqual(run?.outcome, "success")
          assert.strictEqual(run?.records, 3000)
          // part 2's step ran again once the server was back (its load never committed), parts 1 and 3 once
          const files = (yield* emulator.exports).flatMap((exp) => exp.files)
          const gets = (yield* emulator.requests).filter((r) => r.origin === "storage")
          assert.deepStrictEqual(
            files.map((file) => gets.filter((r) => r.path.endsWith(`/${file.id}`)).length),
            [1, 2, 1]
          )
        }).pipe(Effect.provide(Sync.layer(Sync.where(dir, emulator), { decorate, database })))
      }),
    120_000
  )
})
