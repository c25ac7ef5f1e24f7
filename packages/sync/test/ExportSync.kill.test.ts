/**
 * Durability with real processes: the sync runs in a child process (support/syncChild.ts: engine and sink on
 * SQLite files in the test's temp dir, or on one throw-away Postgres database; the emulator of this test as
 * Batch), is killed with SIGKILL at a point of the run, and is started again with the same payload. The second
 * process must finish the run: the same rows and counts, one run row, one export created on Batch (POSTs
 * counted at the emulator), no part downloaded again once its load committed (storage GETs counted per part).
 */
import { Emulator } from "@batch-export/emulator"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Database from "../src/Database.js"
import type { SinkError } from "../src/SinkError.js"
import * as Sink from "../src/Sink.js"
import * as Postgres from "./support/postgres.js"
import * as Child from "./support/process.js"

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "batch-export-sync-kill-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const parts = 3
// more than one insert batch (500) per part, so that a part killed in the middle has rows in its open transaction
const recordsPerPart = 1000

/** The storage requests of each file, by part. */
const downloadsByPart = (emulator: Emulator.Service) =>
  Effect.gen(function* () {
    const files = (yield* emulator.exports).flatMap((exp) => exp.files)
    const requests = (yield* emulator.requests).filter((r) => r.origin === "storage")
    return files.map((file) => requests.filter((r) => r.path.endsWith(`/${file.id}`)).length)
  })

const requestsTo = (emulator: Emulator.Service, method: string, suffix: string) =>
  Effect.map(
    emulator.requests,
    (requests) => requests.filter((r) => r.method === method && r.path.endsWith(suffix)).length
  )

/** Where the child keeps the engine and the sink. */
type Store =
  { readonly _tag: "sqlite" } | { readonly _tag: "pg"; readonly cluster: Postgres.Cluster; readonly database: string }

const clientOf = (
  store: Store,
  dir: string,
  file: "sink.db" | "engine.db"
): Layer.Layer<SqlClient.SqlClient, SinkError> =>
  store._tag === "sqlite"
    ? Database.layerSqlite({ filename: join(dir, file) })
    : Database.layerPg({
        host: store.cluster.socketDir,
        port: store.cluster.port,
        username: "postgres",
        database: store.database
      })

const storeEnv = (store: Store): Record<string, string> =>
  store._tag === "sqlite"
    ? {}
    : {
        SYNC_PG_HOST: store.cluster.socketDir,
        SYNC_PG_PORT: String(store.cluster.port),
        SYNC_PG_DATABASE: store.database
      }

/** What the sink holds after the children ended, read with a client of the test's own. */
const stored = (store: Store, dir: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const sink = yield* Sink.Sink
    const profiles = yield* sql<{ n: number; distinct_ids: number }>`
      SELECT COUNT(*) AS n, COUNT(DISTINCT custom_id) AS distinct_ids FROM batch_profiles WHERE project = 'shop'`
    return { profiles: profiles[0], runs: yield* sink.runs() }
  }).pipe(Effect.provide(Layer.provideMerge(Sink.layer, clientOf(store, dir, "sink.db"))), Effect.orDie)

/** Succeeds once the engine's storage holds a durable clock (the execution is suspended in a wait). */
const clockStored = (store: Store, dir: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    for (;;) {
      const rows = yield* sql<{ n: number }>`
        SELECT COUNT(*) AS n FROM cluster_messages WHERE entity_type = 'Workflow/-/DurableClock'`.pipe(
        Effect.orElseSucceed(() => [])
      )
      if (Number(rows[0]?.n ?? 0) > 0) return
      yield* Effect.sleep("20 millis")
    }
  }).pipe(
    Effect.provide(clientOf(store, dir, "engine.db")),
    Effect.orDie,
    Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => new Error("no durable clock stored within 30 s") })
  )

interface Kill {
  /** the child's `SYNC_PAUSE`; without it, the child is killed once `until` succeeds */
  readonly pause?: string | undefined
  readonly until?: ((store: Store, dir: string) => Effect.Effect<void, Error>) | undefined
  readonly emulator?: Emulator.Options | undefined
  readonly env?: Record<string, string> | undefined
  readonly store?: Store | undefined
}

/**
 * Runs the sync in a child killed at `kill`'s point, then in a second child to the end; returns what the
 * second one printed, with the emulator and the temp dir.
 */
const killedAt = (kill: Kill): Effect.Effect<Ran, Error, Scope.Scope> =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    const store = kill.store ?? { _tag: "sqlite" }
    const emulator = yield* Emulator.make({
      exports: [],
      pollsPerStatus: 0,
      partsPerExport: parts,
      recordsPerPart,
      ...kill.emulator
    })
    const env = {
      SYNC_DIR: dir,
      SYNC_SLOT: "2026-12-07T02:00Z",
      BATCH_API_URL: emulator.apiUrl,
      BATCH_REST_API_KEY: emulator.restApiKey,
      BATCH_PROJECT_KEY: emulator.projectKey,
      ...storeEnv(store),
      ...kill.env
    }
    const first = yield* Child.start({ ...env, ...(kill.pause === undefined ? {} : { SYNC_PAUSE: kill.pause }) })
    if (kill.pause !== undefined)
      yield* first.waitFor(`paused ${kill.pause}`, `the first process reaching ${kill.pause}`)
    if (kill.until !== undefined) {
      // the engine's tables exist by then: a SQLite connection opened earlier would not see them
      yield* first.waitFor("recordRun", "the first process starting the run")
      yield* kill.until(store, dir)
    }
    first.process.kill("SIGKILL")
    assert.strictEqual(yield* first.exit("the killed process"), "SIGKILL")

    const second = yield* Child.start(env)
    const result = yield* second.waitFor(
      "result ",
      "the restarted process finishing the run (shard re-acquisition included)"
    )
    assert.strictEqual(yield* second.exit("the restarted process"), 0)
    return { dir, store, emulator, first: first.lines(), lines: second.lines(), result }
  })

interface Ran {
  readonly dir: string
  readonly store: Store
  readonly emulator: Emulator.Service
  readonly first: ReadonlyArray<string>
  readonly lines: ReadonlyArray<string>
  readonly result: string
}

const total = parts * recordsPerPart

/** The run finished once: `downloads` storage GETs per part, one POST, every profile once, one run row. */
const assertFinishedOnce = (ran: Ran, downloads: ReadonlyArray<number> = [1, 1, 1]) =>
  Effect.gen(function* () {
    assert.strictEqual(yield* requestsTo(ran.emulator, "POST", "/profiles/export"), 1, "one export created on Batch")
    assert.deepStrictEqual(yield* downloadsByPart(ran.emulator), downloads, "storage GETs per part")
    const result = JSON.parse(ran.result.slice("result ".length))
    assert.deepInclude(result, { parts, records: total, published: total })
    const { profiles, runs } = yield* stored(ran.store, ran.dir)
    assert.strictEqual(Number(profiles?.n), total)
    assert.strictEqual(Number(profiles?.distinct_ids), total)
    assert.strictEqual(runs.length, 1)
    assert.strictEqual(runs[0]?.outcome, "success")
    assert.strictEqual(runs[0]?.records, total)
    assert.strictEqual(runs[0]?.parts, parts)
  })

/** The first process reached part `n`'s load and the second did not start it again. */
const notReloaded = (ran: Ran, part: number) => {
  assert.include(ran.first, `loadPart ${part} done`)
  assert.notInclude(ran.lines, `loadPart ${part} start`, ran.lines.join("\n"))
}

const timeout = 90_000

describe("ExportSync killed with SIGKILL (SQLite)", () => {
  it.scopedLive(
    "after the start step wrote the run row: the restart keeps one run row",
    () =>
      Effect.gen(function* () {
        const ran = yield* killedAt({ pause: "after-start" })
        yield* assertFinishedOnce(ran)
        assert.include(ran.lines, "recordRun")
      }),
    timeout
  )

  it.scopedLive(
    "after Batch created the export but before its id was recorded: the restarted create adopts it, no second POST",
    () =>
      Effect.gen(function* () {
        const ran = yield* killedAt({ pause: "after-post" })
        yield* assertFinishedOnce(ran)
        // the restarted step found the mark and the export by listing, and recorded that one
        assert.include(ran.lines, "recordExport")
      }),
    timeout
  )

  it.scopedLive(
    "in a durable wait between two looks: the engine wakes the restarted execution, no look is repeated",
    () =>
      Effect.gen(function* () {
        const ran = yield* killedAt({
          until: clockStored,
          // a status per look, SUCCESS at the 4th; every wait is the engine's clock
          emulator: { pollsPerStatus: 1 },
          env: { SYNC_POLL_INTERVAL_MS: "2000", SYNC_IN_MEMORY_THRESHOLD_MS: "0" }
        })
        yield* assertFinishedOnce(ran)
        assert.notInclude(ran.first, "loadPart 1 start", "the first process was still waiting")
        // the look before the wait is stored: the restarted execution goes on from the wait
        assert.strictEqual(yield* requestsTo(ran.emulator, "GET", "/exports/view"), 4)
      }),
    timeout
  )

  for (const part of [1, 2, 3]) {
    it.scopedLive(
      `after part ${part} committed but before its step was stored: the step runs again and finds the part loaded`,
      () =>
        Effect.gen(function* () {
          const ran = yield* killedAt({ pause: `after-load-${part}` })
          yield* assertFinishedOnce(ran)
          assert.include(ran.lines, `loadedPart ${part}`)
          notReloaded(ran, part)
        }),
      timeout
    )
  }

  it.scopedLive(
    "after part 1's step was stored: the restarted process goes on with part 2 and never touches part 1",
    () =>
      Effect.gen(function* () {
        const ran = yield* killedAt({ pause: "before-load-2" })
        yield* assertFinishedOnce(ran)
        // the engine's stored result of part 1's step stands: the step is not run again at all
        assert.notInclude(ran.lines, "loadedPart 1", ran.lines.join("\n"))
        notReloaded(ran, 1)
        assert.include(ran.lines, "loadPart 2 start")
      }),
    timeout
  )

  it.scopedLive(
    "in the middle of part 2 (500 rows inserted, the transaction open): the part is loaded again from the start, once",
    () =>
      Effect.gen(function* () {
        const ran = yield* killedAt({ pause: "mid-part-2" })
        // part 2 is downloaded again (its load never committed), parts 1 and 3 once
        yield* assertFinishedOnce(ran, [1, 2, 1])
        notReloaded(ran, 1)
        assert.include(ran.lines, "loadPart 2 start")
      }),
    timeout
  )

  it.scopedLive(
    "after publishing, before the step was stored: the publish replays as a no-op",
    () =>
      Effect.gen(function* () {
        const ran = yield* killedAt({ pause: "after-publish" })
        yield* assertFinishedOnce(ran)
        assert.include(ran.lines, "publish")
        for (const part of [1, 2, 3]) notReloaded(ran, part)
      }),
    timeout
  )

  it.scopedLive(
    "after the run row was finished, before the execution was stored: the restart ends with the same result",
    () =>
      Effect.gen(function* () {
        const ran = yield* killedAt({ pause: "after-finish" })
        yield* assertFinishedOnce(ran)
        assert.include(ran.lines, "finishRun")
        for (const part of [1, 2, 3]) notReloaded(ran, part)
      }),
    timeout
  )
})

if (!Postgres.available) console.warn(`Postgres 15 not found in ${Postgres.binDir}: skipping the Postgres kill tests`)

describe.skipIf(!Postgres.available)("ExportSync killed with SIGKILL (engine and sink on one Postgres)", () => {
  let n = 0
  const onPostgres = Effect.gen(function* () {
    const cluster = yield* Postgres.start
    const database = `kill_${++n}`
    yield* cluster.psql("postgres", `CREATE DATABASE ${database}`)
    return { _tag: "pg", cluster, database } as const
  })

  it.scopedLive(
    "in the middle of part 2: the part is loaded again, once",
    () =>
      Effect.gen(function* () {
        const ran = yield* killedAt({ pause: "mid-part-2", store: yield* onPostgres })
        yield* assertFinishedOnce(ran, [1, 2, 1])
        notReloaded(ran, 1)
      }),
    timeout
  )

  it.scopedLive(
    "in a durable wait: the engine wakes the restarted execution, no look is repeated",
    () =>
      Effect.gen(function* () {
        const ran = yield* killedAt({
          until: clockStored,
          emulator: { pollsPerStatus: 1 },
          env: { SYNC_POLL_INTERVAL_MS: "2000", SYNC_IN_MEMORY_THRESHOLD_MS: "0" },
          store: yield* onPostgres
        })
        yield* assertFinishedOnce(ran)
        assert.strictEqual(yield* requestsTo(ran.emulator, "GET", "/exports/view"), 4)
      }),
    timeout
  )
})
