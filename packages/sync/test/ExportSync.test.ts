/**
 * The sync workflow end to end, in process: the durable engine (`ClusterWorkflowEngine` over `SingleRunner`)
 * and the sink on two SQLite files in the test's temp dir, the emulator as Batch.
 */
import { CreateExport } from "@batch-export/core"
import { Emulator, Testing } from "@batch-export/emulator"
import { ExportsClient } from "@batch-export/node"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as WorkflowEngine from "@effect/workflow/WorkflowEngine"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ExportSync } from "../src/ExportSync.js"
import * as Sink from "../src/Sink.js"
import { SinkError } from "../src/SinkError.js"
import * as SyncPlan from "../src/Sync.js"
import * as Sync from "./support/sync.js"

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "batch-export-sync-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** An emulator with no seeded export (so every export on it was created by the sync) and exports of `parts` parts. */
const emulatorOptions = (options?: Emulator.Options): Emulator.Options => ({
  exports: [],
  pollsPerStatus: 0,
  partsPerExport: 3,
  recordsPerPart: 40,
  ...options
})

/** Runs `program` with a fresh emulator and the sync wired to it over two SQLite files in a temp dir. */
const withSync = <A, E, R>(
  program: (emulator: Emulator.Service) => Effect.Effect<A, E, R>,
  options?: { readonly emulator?: Emulator.Options; readonly setup?: Sync.Setup }
) =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    const emulator = yield* Emulator.make(emulatorOptions(options?.emulator))
    return yield* program(emulator).pipe(Effect.provide(Sync.layer(Sync.where(dir, emulator), options?.setup)))
  })

const attributes: CreateExport.CreateExportRequestInput = {
  export_type: "ATTRIBUTES",
  attributes: ["$email_address", "$language"],
  identifiers: ["custom_id", "installation_ids"]
}

/** The payload of slot `slot` of project "shop"'s definition "profiles", from a request as JSON. */
const payload = (slot: string, request: CreateExport.CreateExportRequestInput = attributes) =>
  Effect.map(Effect.orDie(Schema.decodeUnknown(CreateExport.CreateExportRequest)(request)), (decoded) => ({
    project: "shop",
    definition: "profiles",
    slot,
    request: decoded
  }))

const posts = (emulator: Emulator.Service) =>
  Effect.map(
    emulator.requests,
    (requests) => requests.filter((r) => r.method === "POST" && r.path.endsWith("/profiles/export")).length
  )

const customIds = (emulator: Emulator.Service, exportId: string) =>
  Effect.gen(function* () {
    const exp = (yield* emulator.exports).find((e) => e.id === exportId)
    const ids: Array<string> = []
    for (const file of exp?.files ?? []) {
      const text = Buffer.from(yield* Effect.orDie(emulator.fileBytes(file.id))).toString("utf8")
      for (const line of text.split("\n").filter((l) => l.trim() !== "")) {
        ids.push(JSON.parse(line).identifiers.custom_id)
      }
    }
    return ids.sort()
  })

const rows = <A extends object>(query: (sql: SqlClient.SqlClient) => Effect.Effect<ReadonlyArray<A>, unknown>) =>
  Effect.orDie(Effect.flatMap(SqlClient.SqlClient, query))

const runOf = (runId: string) =>
  Effect.flatMap(Sink.Sink, (sink) => Effect.orDie(sink.runs())).pipe(
    Effect.map((runs) => runs.find((run) => run.runId === runId))
  )

describe("ExportSync", () => {
  it.scopedLive("an ATTRIBUTES sync of 3 parts lands every profile once, and writes a run row", () =>
    withSync((emulator) =>
      Effect.gen(function* () {
        const input = yield* payload("2026-12-07T02:00Z")
        const result = yield* ExportSync.execute(input)
        assert.strictEqual(result.parts, 3)
        assert.strictEqual(result.records, 120)
        assert.strictEqual(result.published, 120)

        const expected = yield* customIds(emulator, result.exportId)
        assert.strictEqual(expected.length, 120)
        const stored = yield* rows(
          (sql) =>
            sql<{ custom_id: string }>`SELECT custom_id FROM batch_profiles WHERE project = 'shop' ORDER BY custom_id`
        )
        assert.deepStrictEqual(
          stored.map((row) => row.custom_id),
          expected
        )

        const run = yield* runOf(yield* ExportSync.executionId(input))
        assert.isDefined(run)
        assert.strictEqual(run?.outcome, "success")
        assert.deepStrictEqual(run?.exportId, Option.some(result.exportId))
        assert.strictEqual(run?.parts, 3)
        assert.strictEqual(run?.records, 120)
        assert.isTrue(Option.isSome(run?.finishedAt ?? Option.none()))
      })
    )
  )

  it.scopedLive("an EVENTS sync appends the window's events and saves its end as the cursor", () =>
    withSync((emulator) =>
      Effect.gen(function* () {
        const to = new Date(Math.floor(Date.now() / 1000) * 1000)
        const from = new Date(to.getTime() - 86_400_000)
        const input = yield* payload("2026-12-07T02:00Z", {
          export_type: "EVENTS",
          from: from.toISOString(),
          to: to.toISOString()
        })
        const result = yield* ExportSync.execute({ ...input, definition: "events" })
        assert.strictEqual(result.records, 120)
        const cursor = yield* Effect.flatMap(Sink.Sink, (sink) => Effect.orDie(sink.cursor("shop", "events")))
        assert.isTrue(Option.isSome(cursor))
        if (Option.isSome(cursor)) {
          assert.strictEqual(cursor.value.windowEnd.getTime(), to.getTime())
          assert.strictEqual(cursor.value.exportId, result.exportId)
        }
        const events = yield* rows((sql) => sql<{ n: number }>`SELECT COUNT(*) AS n FROM batch_events`)
        assert.strictEqual(Number(events[0]?.n), 120)
        assert.strictEqual(yield* posts(emulator), 1)
      })
    )
  )

  it.scopedLive(
    "a windowed run whose row was left unfinished after the engine completed it does not hold the next slot back",
    () =>
      withSync(() =>
        Effect.gen(function* () {
          const events = { name: "events", type: "EVENTS", events: ["purchase"] } as const
          const first = yield* SyncPlan.plan("shop", events, new Date("2026-12-05T01:00:00Z"))
          const outcome = yield* SyncPlan.execute(first)
          assert.isTrue(Either.isRight(outcome.result))
          // the run's last step could not write its end (a database away beyond the retries)
          yield* rows((sql) => sql`UPDATE batch_runs SET finished_at = NULL WHERE run_id = ${first.executionId}`)
          const next = yield* SyncPlan.plan("shop", events, new Date("2026-12-06T01:00:00Z"))
          assert.strictEqual(next.payload.slot, "2026-12-06T00:00:00.000Z")
          assert.notStrictEqual(next.executionId, first.executionId)
        })
      )
  )

  it.scopedLive("an export that ends in ERROR fails the execution with ExportFailed and a failed run row", () =>
    withSync(() =>
      Effect.gen(function* () {
        const input = yield* payload("2026-12-07T02:00Z", {
          ...attributes,
          export_type: "ATTRIBUTES",
          filter: { segment: "ERROR" }
        })
        const exit = yield* ExportSync.execute(input).pipe(
          // without the ERROR rule the run would poll for 2 hours: a short deadline of its own
          Effect.timeoutFailCause({
            duration: "10 seconds",
            onTimeout: () => Cause.die(new Error("the ERROR did not end the run"))
          }),
          Effect.exit
        )
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isFailure(exit)) {
          const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
          assert.strictEqual(error?._tag, "ExportFailed")
        }
        const run = yield* runOf(yield* ExportSync.executionId(input))
        assert.strictEqual(run?.outcome, "failure")
        assert.deepStrictEqual(run?.errorTag, Option.some("ExportFailed"))
        assert.isTrue(Option.isSome(run?.errorMessage ?? Option.none()))
      })
    )
  )

  it.scopedLive("the same slot triggered twice, at once and again later, runs once: one export created", () =>
    withSync((emulator) =>
      Effect.gen(function* () {
        const input = yield* payload("2026-12-07T02:00Z")
        const [first, second] = yield* Effect.all([ExportSync.execute(input), ExportSync.execute(input)], {
          concurrency: 2
        })
        const third = yield* ExportSync.execute(input)
        assert.strictEqual(second.exportId, first.exportId)
        assert.strictEqual(third.exportId, first.exportId)
        assert.strictEqual(yield* posts(emulator), 1)
        assert.strictEqual((yield* emulator.exports).length, 1)
        const runs = yield* Effect.flatMap(Sink.Sink, (sink) => Effect.orDie(sink.runs()))
        assert.strictEqual(runs.length, 1)

        // another slot is another run
        yield* ExportSync.execute({ ...input, slot: "2026-12-08T02:00Z" })
        assert.strictEqual(yield* posts(emulator), 2)
      })
    )
  )

  it.scopedLive("a create whose answer is lost adopts the export Batch made instead of posting again", () =>
    withSync((emulator) =>
      Effect.gen(function* () {
        // Batch creates the export, then the connection drops before the 202 arrives
        yield* emulator.script("create", Emulator.Reply.dropAfter(0))
        const result = yield* ExportSync.execute(yield* payload("2026-12-07T02:00Z"))
        assert.strictEqual(yield* posts(emulator), 1, "a second POST was sent after the lost answer")
        const exports = yield* emulator.exports
        assert.deepStrictEqual(
          exports.map((e) => e.id),
          [result.exportId]
        )
        assert.strictEqual(result.records, 120)
      })
    )
  )
})

/**
 * Runs `execute` on the TestClock, letting each wait between two looks at the export elapse: the `n`-th wait
 * is the `n`-th delay of the client's default poll schedule. Returns the exit and the time that elapsed.
 */
const driveDefaultPolls = <A, E, R>(execute: Effect.Effect<A, E, R>) =>
  Effect.flatMap(
    Schedule.run(
      Schedule.delays(ExportsClient.defaultPollSchedule),
      0,
      Array.from({ length: 500 }, () => undefined)
    ),
    (delays) => drivePolls(execute, Chunk.toReadonlyArray(delays))
  )

/** As {@link driveDefaultPolls}, with the waits given. */
const drivePolls = <A, E, R>(execute: Effect.Effect<A, E, R>, delays: ReadonlyArray<Duration.Duration>) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(execute)
    for (const delay of delays) {
      const done = yield* Effect.raceFirst(
        Effect.map(Fiber.await(fiber), Option.some),
        Effect.as(Testing.awaitSleep(delay), Option.none())
      )
      if (Option.isSome(done)) return { exit: done.value, elapsed: Duration.millis(yield* TestClock.currentTimeMillis) }
      yield* TestClock.adjust(delay)
    }
    return yield* Effect.dieMessage("more looks than the test expected")
  })

/**
 * The cluster engine's runner sleeps on the same Clock (shard acquisition, storage polling), so under the
 * TestClock it would acquire nothing unless the test moved time for it too, racing the HTTP calls; the long
 * waits run on the in-memory engine instead, whose durable clocks are plain sleeps: the workflow is the same.
 */
describe("ExportSync on the TestClock", () => {
  const memory = { engine: WorkflowEngine.layerMemory }

  it.scoped("a 1h40 wait for Batch, polled at the client's default pace, ends in a sync", () =>
    withSync(
      (emulator) =>
        Effect.gen(function* () {
          const { elapsed, exit } = yield* driveDefaultPolls(ExportSync.execute(yield* payload("2026-12-07T02:00Z")))
          assert.isTrue(Exit.isSuccess(exit), String(exit))
          if (Exit.isSuccess(exit)) assert.strictEqual(exit.value.records, 120)
          assert.isTrue(Duration.greaterThan(elapsed, Duration.minutes(100)), Duration.format(elapsed))
          // SUCCESS at the 109th look (36 looks per status): one look per wait, no more
          const views = (yield* emulator.requests).filter((r) => r.path.endsWith("/exports/view")).length
          assert.strictEqual(views, 109)
        }),
      { emulator: { pollsPerStatus: 36 }, setup: memory }
    )
  )

  it.scoped(
    "a 2-hour wait as the engine's durable clocks (10-minute waits, past DurableClock's 60 s) ends in a sync",
    () =>
      withSync(
        (emulator) =>
          Effect.gen(function* () {
            const wait = Duration.minutes(10)
            const input = yield* payload("2026-12-07T02:00Z")
            const { exit } = yield* drivePolls(
              ExportSync.execute(input),
              Array.from({ length: 20 }, () => wait)
            )
            assert.isTrue(Exit.isSuccess(exit), String(exit))
            if (Exit.isSuccess(exit)) assert.strictEqual(exit.value.records, 120)
            // the run took its 12 waits: 2 hours of the clock (its caller notices at its own next look, later)
            const run = yield* runOf(yield* ExportSync.executionId(input))
            const took = Option.map(
              run?.finishedAt ?? Option.none(),
              (end) => end.getTime() - (run?.startedAt.getTime() ?? 0)
            )
            assert.deepStrictEqual(took, Option.some(Duration.toMillis(Duration.hours(2))))
            // SUCCESS at the 13th look (4 looks per status): one look per wait
            const views = (yield* emulator.requests).filter((r) => r.path.endsWith("/exports/view")).length
            assert.strictEqual(views, 13)
          }),
        {
          emulator: { pollsPerStatus: 4 },
          setup: { ...memory, sync: { pollInterval: "10 minutes", timeout: "3 hours" } }
        }
      )
  )

  it.scoped("a database that stays away: the part's step tries 7 times, 1 s doubling, then the run fails typed", () => {
    let attempts = 0
    const away = (sink: Sink.Service): Sink.Service => ({
      ...sink,
      loadPart: () =>
        Effect.suspend(() => {
          attempts++
          return Effect.fail(new SinkError({ operation: "loadPart", detail: "connect failed", code: "ECONNREFUSED" }))
        })
    })
    return withSync(
      () =>
        Effect.gen(function* () {
          const input = yield* payload("2026-12-07T02:00Z")
          const waits = [1, 2, 4, 8, 16, 32, 64].map(Duration.seconds)
          const { elapsed, exit } = yield* drivePolls(ExportSync.execute(input), waits)
          assert.strictEqual(attempts, 7)
          assert.isTrue(Duration.equals(elapsed, Duration.seconds(63)), Duration.format(elapsed))
          const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
          assert.deepInclude(error, { _tag: "StepFailed", step: "load-part-1", reason: "SinkError" })
          const published = yield* rows((sql) => sql<{ n: number }>`SELECT COUNT(*) AS n FROM batch_profiles`)
          assert.strictEqual(Number(published[0]?.n), 0)
          const run = yield* runOf(yield* ExportSync.executionId(input))
          assert.deepStrictEqual(run?.errorTag, Option.some("SinkError"))
        }),
      { setup: { ...memory, decorate: away } }
    )
  })

  it.scoped("an export still running 2 hours after its creation fails the run with ExportTimeout", () =>
    withSync(
      () =>
        Effect.gen(function* () {
          const input = yield* payload("2026-12-07T02:00Z")
          const { elapsed, exit } = yield* driveDefaultPolls(ExportSync.execute(input))
          assert.isTrue(Exit.isFailure(exit))
          if (Exit.isFailure(exit) && exit.cause._tag === "Fail") {
            const error = exit.cause.error
            assert.strictEqual(error._tag, "StepFailed")
            if (error._tag === "StepFailed") assert.strictEqual(error.reason, "ExportTimeout")
          }
          assert.isTrue(Duration.greaterThanOrEqualTo(elapsed, Duration.hours(2)), Duration.format(elapsed))
          assert.isTrue(Duration.lessThan(elapsed, Duration.minutes(122)), Duration.format(elapsed))
          const run = yield* runOf(yield* ExportSync.executionId(input))
          assert.deepStrictEqual(run?.errorTag, Option.some("ExportTimeout"))
        }),
      { emulator: { pollsPerStatus: 1000 }, setup: memory }
    )
  )
})
