/**
 * The due slot of a definition and the request of its execution: the latest cron occurrence at or before now;
 * EVENTS and REACHABILITY cover `[cursor, slot)`, the first run `[slot − lookBackDays, slot)`.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as WorkflowEngine from "@effect/workflow/WorkflowEngine"
import * as Cron from "effect/Cron"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as FastCheck from "effect/FastCheck"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Database from "../src/Database.js"
import * as Sink from "../src/Sink.js"
import * as Sync from "../src/Sync.js"
import type * as SyncConfig from "../src/SyncConfig.js"

const at = (iso: string) => new Date(iso)

const windowOf = (definition: SyncConfig.Definition, slot: Date, cursor: Option.Option<Date>) => {
  const request = Either.getOrThrow(Sync.requestOf(definition, slot, cursor))
  assert.notStrictEqual(request.export_type, "ATTRIBUTES")
  return request.export_type === "ATTRIBUTES"
    ? undefined
    : [request.from?.epochMillis, request.to?.epochMillis].map((millis) => new Date(millis ?? 0).toISOString())
}

describe("Sync", () => {
  it("the slot is the latest occurrence at or before now; the default schedule is daily at 00:00 UTC", () => {
    const daily = Sync.cronOf({ name: "p", type: "ATTRIBUTES", identifiers: ["custom_id"] })
    assert.strictEqual(Sync.slotOf(daily, at("2026-12-07T15:30:12.345Z")).toISOString(), "2026-12-07T00:00:00.000Z")
    assert.strictEqual(Sync.slotOf(daily, at("2026-12-07T00:00:00.000Z")).toISOString(), "2026-12-07T00:00:00.000Z")
    assert.strictEqual(Sync.slotOf(daily, at("2026-12-06T23:59:59.999Z")).toISOString(), "2026-12-06T00:00:00.000Z")
    const hourly = Cron.unsafeParse("15 * * * *", "UTC")
    assert.strictEqual(Sync.slotOf(hourly, at("2026-12-07T15:14:59Z")).toISOString(), "2026-12-07T14:15:00.000Z")
  })

  it("any now: the slot is an occurrence, at or before now, and the next occurrence is after now", () =>
    FastCheck.assert(
      FastCheck.property(
        FastCheck.date({ min: at("2020-01-01T00:00:00Z"), max: at("2035-01-01T00:00:00Z"), noInvalidDate: true }),
        FastCheck.constantFrom("0 0 * * *", "*/5 * * * *", "0 2 * * 1", "30 */6 * * *"),
        (now, text) => {
          const cron = Cron.unsafeParse(text, "UTC")
          const slot = Sync.slotOf(cron, now)
          return Cron.match(cron, slot) && slot <= now && Cron.next(cron, slot) > now
        }
      )
    ))

  it("EVENTS: the first run looks back lookBackDays (7 by default), later runs start at the cursor", () => {
    const slot = at("2026-12-07T00:00:00Z")
    const events: SyncConfig.Definition = { name: "e", type: "EVENTS", events: ["purchase"], lookBackDays: 30 }
    assert.deepStrictEqual(windowOf(events, slot, Option.none()), [
      "2026-11-07T00:00:00.000Z",
      "2026-12-07T00:00:00.000Z"
    ])
    assert.deepStrictEqual(windowOf(events, slot, Option.some(at("2026-12-06T00:00:00Z"))), [
      "2026-12-06T00:00:00.000Z",
      "2026-12-07T00:00:00.000Z"
    ])
    const reachability: SyncConfig.Definition = { name: "r", type: "REACHABILITY" }
    assert.deepStrictEqual(windowOf(reachability, slot, Option.none()), [
      "2026-11-30T00:00:00.000Z",
      "2026-12-07T00:00:00.000Z"
    ])
  })

  it("ATTRIBUTES: the definition's attributes, identifiers and segment, no window", () => {
    const request = Either.getOrThrow(
      Sync.requestOf(
        { name: "p", type: "ATTRIBUTES", attributes: ["$email_address"], identifiers: ["custom_id"], segment: "VIP" },
        at("2026-12-07T00:00:00Z"),
        Option.none()
      )
    )
    assert.deepStrictEqual(request, {
      export_type: "ATTRIBUTES",
      attributes: ["$email_address"],
      identifiers: ["custom_id"],
      filter: { segment: "VIP" }
    })
  })

  it.scoped(
    "a windowed definition runs its slots one after another: an unfinished earlier run is planned again, not the new slot",
    () =>
      Effect.gen(function* () {
        const dir = yield* Effect.acquireRelease(
          Effect.sync(() => mkdtempSync(join(tmpdir(), "batch-export-plan-"))),
          (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
        )
        // an engine that knows no execution: an unfinished run row is then an execution still to finish
        const context = yield* Layer.build(
          Layer.mergeAll(
            Layer.provideMerge(Sink.layer, Database.layerSqlite({ filename: join(dir, "sink.db") })),
            WorkflowEngine.layerMemory
          )
        )
        const events: SyncConfig.Definition = { name: "e", type: "EVENTS", events: ["purchase"] }
        const planAt = (now: string) => Effect.provide(Sync.plan("p", events, at(now)), context)
        const sink = Context.get(context, Sink.Sink)

        // day 1's run started (its row written by the workflow's first step), then the process died
        const first = yield* planAt("2026-12-01T01:00:00Z")
        const window = (planned: Sync.Planned) =>
          planned.payload.request.export_type === "ATTRIBUTES"
            ? []
            : [planned.payload.request.from, planned.payload.request.to].map((t) =>
                new Date(t?.epochMillis ?? 0).toISOString()
              )
        yield* sink.recordRun({
          runId: first.executionId,
          project: "p",
          definition: "e",
          type: "EVENTS",
          startedAt: at("2026-12-01T01:00:01Z"),
          windowFrom: new Date(window(first)[0] ?? 0),
          windowTo: new Date(window(first)[1] ?? 0)
        })

        // day 2: day 1's run is what is due (the same execution, the same window), not day 2's slot
        const second = yield* planAt("2026-12-02T01:00:00Z")
        assert.strictEqual(second.executionId, first.executionId)
        assert.strictEqual(second.payload.slot, "2026-12-01T00:00:00.000Z")
        assert.deepStrictEqual(window(second), window(first))

        // once it has ended, day 2's slot is planned (here from the look-back: the failed run moved no cursor)
        yield* sink.finishRun(first.executionId, {
          outcome: "failure",
          finishedAt: at("2026-12-02T01:00:05Z"),
          parts: 0,
          records: 0,
          bytes: 0
        })
        const third = yield* planAt("2026-12-02T01:00:10Z")
        assert.strictEqual(third.payload.slot, "2026-12-02T00:00:00.000Z")
        assert.deepStrictEqual(window(third), ["2026-11-25T00:00:00.000Z", "2026-12-02T00:00:00.000Z"])
      })
  )

  it.scopedLive(
    "follow tells each change of the run rows (started, export created, finished) once, and ends when all ended",
    () =>
      Effect.gen(function* () {
        const dir = yield* Effect.acquireRelease(
          Effect.sync(() => mkdtempSync(join(tmpdir(), "batch-export-follow-"))),
          (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
        )
        const context = yield* Layer.build(
          Layer.provideMerge(Sink.layer, Database.layerSqlite({ filename: join(dir, "sink.db") }))
        )
        const sink = Context.get(context, Sink.Sink)
        const planned = ["run-a", "run-b"].map((executionId): Sync.Planned => ({
          executionId,
          payload: {
            project: "p",
            definition: executionId,
            slot: "s",
            request: { export_type: "ATTRIBUTES", identifiers: ["custom_id"] }
          }
        }))
        const told: Array<string> = []
        const following = yield* Effect.fork(
          Effect.provide(
            Sync.follow(planned, (event) => Effect.sync(() => told.push(`${event._tag} ${event.runId}`)), "10 millis"),
            context
          )
        )
        const settle = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 60)))
        const start = (runId: string) =>
          sink.recordRun({ runId, project: "p", definition: runId, type: "ATTRIBUTES", startedAt: new Date() })
        const end = { finishedAt: new Date(), parts: 1, records: 2, bytes: 3 }
        yield* start("run-a")
        yield* start("someone-else")
        yield* settle
        yield* sink.recordExport("run-a", "export_a")
        yield* start("run-b")
        yield* settle
        yield* sink.finishRun("run-a", { ...end, outcome: "success" })
        yield* settle
        assert.isNull(following.unsafePoll(), "follows while run-b is in flight")
        yield* sink.finishRun("run-b", { ...end, outcome: "failure", error: { tag: "X", message: "y" } })
        yield* Effect.timeoutFail(Fiber.join(following), {
          duration: "5 seconds",
          onTimeout: () => new Error("follow did not end once every run ended")
        })
        // each change once, in its run's order (runs seen in one look come in the table's order)
        const of = (runId: string) => told.filter((event) => event.endsWith(` ${runId}`))
        assert.deepStrictEqual(of("run-a"), ["Started run-a", "Created run-a", "Finished run-a"])
        assert.deepStrictEqual(of("run-b"), ["Started run-b", "Finished run-b"])
        assert.strictEqual(told.length, 5)
      })
  )
})
