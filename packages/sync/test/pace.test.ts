/**
 * The cluster-wide pace of a project's Batch API requests (`Sync.layerClients` over the `ProjectPace` entity):
 * one engine (its `Sharding` on a SQLite file), the clients built as two runners build theirs, the emulator as
 * Batch. Time is the `TestClock`: a request waiting for its permit sleeps on it.
 */
import { Emulator, Testing } from "@batch-export/emulator"
import type { ExportsClient } from "@batch-export/node"
import { assert, describe, it } from "@effect/vitest"
import type * as Sharding from "@effect/cluster/Sharding"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as TestServices from "effect/TestServices"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as ExportSync from "../src/ExportSync.js"
import * as Pace from "../src/internal/pace.js"
import * as Sync from "../src/Sync.js"
import type * as SyncConfig from "../src/SyncConfig.js"
import { within } from "../../node/test/support/deadline.js"

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "batch-export-pace-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const project = (name: string, emulator: Emulator.Service, requestsPerSecond = 1): SyncConfig.LoadedProject => ({
  name,
  projectKey: emulator.projectKey,
  restApiKey: Redacted.make(emulator.restApiKey),
  api: emulator.apiUrl,
  requestsPerSecond,
  exports: ["profiles"]
})

const configOf = (dir: string, projects: ReadonlyArray<SyncConfig.LoadedProject>): SyncConfig.SyncConfig => ({
  file: "test",
  database: { _tag: "Sqlite", filename: join(dir, "sink.db") },
  projects,
  definitions: new Map()
})

/**
 * Waits until the runner answers a permit (of a project of no test). It learns its shards at its first look,
 * 100 ms on the TestClock: the tests then start with every pacer reachable. At most 5 s on the TestClock.
 */
const pacerReady = (engine: Context.Context<Sharding.Sharding>) =>
  Effect.gen(function* () {
    const client = yield* Effect.provide(Pace.ProjectPace.client, engine)
    const first = yield* Effect.fork(client("warm-up").take({ spacingMillis: 1, withinMillis: 0 }))
    for (let i = 0; first.unsafePoll() === null; i++) {
      if (i === 50) return yield* Effect.dieMessage("no answer from the pacer within 5 s: is it registered?")
      yield* TestClock.adjust("100 millis")
      yield* TestServices.provideLive(Effect.sleep("5 millis"))
    }
  })

/** One engine, with the pacer registered on it (unless `registered` is false). */
const cluster = (dir: string, registered = true) =>
  Effect.gen(function* () {
    const engine = yield* Layer.build(ExportSync.layerEngineSqlite({ filename: join(dir, "engine.db") }))
    if (registered) {
      yield* Layer.build(Pace.layer.pipe(Layer.provide(Layer.succeedContext(engine))))
      yield* pacerReady(engine)
    }
    /** The clients of `config`, built as one runner builds them. */
    const runner = (config: SyncConfig.SyncConfig) =>
      Effect.map(
        Layer.build(Sync.layerClients(config).pipe(Layer.provide(Layer.succeedContext(engine)))),
        (context) => (name: string) => Option.getOrThrow(Context.get(context, ExportSync.Clients).client(name))
      )
    return { runner }
  })

/** A temp dir, an emulator, one engine and on it the client of the project `shop` (1 request a second). */
const shopAlone = (registered = true) =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    const emulator = yield* Emulator.make()
    const { runner } = yield* cluster(dir, registered)
    const client = (yield* runner(configOf(dir, [project("shop", emulator)])))("shop")
    return { client, emulator }
  })

/** The warnings logged by the effects given to `capture`. */
const captureWarnings = Effect.map(Ref.make<ReadonlyArray<string>>([]), (lines) => {
  const logger = Logger.make(({ logLevel, message }) => {
    if (logLevel._tag === "Warning") Effect.runSync(Ref.update(lines, (all) => [...all, String(message)]))
  })
  return {
    lines: Ref.get(lines),
    capture: <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.provide(effect, Logger.replace(Logger.defaultLogger, logger))
  }
})

const apiRequests = (emulator: Emulator.Service) =>
  Effect.map(emulator.requests, (requests) => requests.filter((r) => r.origin === "api").length)

/** Some fiber sleeps on the TestClock until exactly each of `offsets` (ms) after `from`. */
const waitingAt = (from: number, offsets: ReadonlyArray<number>, what: string) =>
  Testing.eventually(
    Effect.map(TestClock.sleeps(), (sleeps) =>
      offsets.every((offset) => Chunk.some(sleeps, (t) => t === from + offset))
    ),
    what
  )

const firstExport = (emulator: Emulator.Service) =>
  Effect.map(emulator.exports, (exports) => {
    const first = exports[0]
    assert.isDefined(first)
    return first!
  })

describe("ProjectPace", () => {
  it.scoped("one project's API calls through two runners' clients start one per interval, cluster-wide", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const emulator = yield* Emulator.make()
      const exportId = (yield* firstExport(emulator)).id
      const { runner } = yield* cluster(dir)
      const config = configOf(dir, [project("shop", emulator, 2)])
      const [one, two] = [(yield* runner(config))("shop"), (yield* runner(config))("shop")]
      const start = yield* TestClock.currentTimeMillis
      const fibers = yield* Effect.forEach([one, two, one, two], (client: ExportsClient.Service) =>
        Effect.fork(client.view(exportId))
      )
      // at 2 per second: one goes now, the others wait 0.5, 1 and 1.5 s for their permits
      yield* waitingAt(start, [500, 1000, 1500], "three calls waiting 0.5, 1 and 1.5 s for their permits")
      yield* Testing.eventually(
        Effect.map(apiRequests(emulator), (n) => n >= 1),
        "the first call"
      )
      assert.strictEqual(yield* apiRequests(emulator), 1)
      for (const [i, offset] of [500, 1000, 1500].entries()) {
        yield* TestClock.adjust(500)
        yield* Testing.eventually(
          Effect.map(apiRequests(emulator), (n) => n >= i + 2),
          `the call at ${offset} ms`
        )
        assert.strictEqual(yield* apiRequests(emulator), i + 2)
      }
      const views = yield* Fiber.join(Fiber.all(fibers))
      assert.deepStrictEqual(
        views.map((view) => view.id),
        [exportId, exportId, exportId, exportId]
      )
    })
  )

  it.scoped(
    "Sync.layer registers the pacer on its runner (every runner needs it: a project's shard may be there)",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const emulator = yield* Emulator.make()
        yield* pacerReady(yield* Layer.build(Sync.layer(configOf(dir, [project("shop", emulator)]))))
      })
  )

  it.scoped("two projects are paced apart: one project's queue does not delay another's call", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const shop = yield* Emulator.make()
      const app = yield* Emulator.make({ seed: 2 })
      const { runner } = yield* cluster(dir)
      const clients = yield* runner(configOf(dir, [project("shop", shop), project("app", app)]))
      const start = yield* TestClock.currentTimeMillis
      const shopId = (yield* firstExport(shop)).id
      const shopCalls = yield* Effect.forEach([1, 2, 3], () => Effect.fork(clients("shop").view(shopId)))
      yield* waitingAt(start, [1000, 2000], "shop's second and third calls waiting 1 and 2 s for their permits")
      const appCall = yield* Effect.fork(clients("app").view((yield* firstExport(app)).id))
      // on the same clock instant: app's call goes at once, while shop's are still queued
      yield* Testing.eventually(
        Effect.map(apiRequests(app), (n) => n === 1),
        "app's call, sent without waiting"
      )
      yield* Fiber.join(appCall)
      assert.strictEqual(yield* apiRequests(shop), 1)
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(Fiber.all(shopCalls))
      assert.strictEqual(yield* apiRequests(shop), 3)
    })
  )

  it.scoped("a part's download from storage takes no permit; the API call before it does", () =>
    Effect.gen(function* () {
      const { client, emulator } = yield* shopAlone()
      const file = (yield* firstExport(emulator)).files[0]!
      // at 1 per second, the link's request goes at once; a paced storage request would wait 1 s on a clock
      // that does not move
      const records = yield* Stream.runCount(client.fileRecords(file.id)).pipe(
        within("a part's download without waiting for a permit")
      )
      assert.strictEqual(records, 200)
      const requests = yield* emulator.requests
      assert.deepStrictEqual(
        requests.map((r) => r.origin),
        ["api", "storage"]
      )
      // the next API call waits its turn
      const start = yield* TestClock.currentTimeMillis
      const view = yield* Effect.fork(client.view((yield* firstExport(emulator)).id))
      yield* waitingAt(start, [1000], "the next API call waiting 1 s for its permit")
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(view)
    })
  )

  // the whole test within a deadline: a permit's message left waiting for delivery would also hold up the
  // runner's shutdown, and the test's failure with it
  it.effect("a pacer that cannot answer: the request goes after the bound (10 s), with one warning", () =>
    Effect.gen(function* () {
      // no pacer registered on the runner: the permit's message waits for an entity that never comes
      const { client, emulator } = yield* shopAlone(false)
      const warnings = yield* captureWarnings
      const start = yield* TestClock.currentTimeMillis
      const view = yield* Effect.fork(client.view((yield* firstExport(emulator)).id).pipe(warnings.capture))
      yield* waitingAt(start, [10_000], "the permit's bound of 10 s")
      assert.strictEqual(yield* apiRequests(emulator), 0)
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(view).pipe(within("the request, sent after the bound"))
      assert.strictEqual(yield* apiRequests(emulator), 1)
      assert.deepStrictEqual(yield* warnings.lines, [
        "shop: no answer from the project's pacer within 10s; the Batch API request is sent unpaced (a 429 is retried)"
      ])
    }).pipe(Effect.scoped, within("the test of an unreachable pacer, its runner's shutdown included", 20))
  )

  it.scoped("no permit is reserved further than the bound ahead: a call past it goes at once, with one warning", () =>
    Effect.gen(function* () {
      const { client, emulator } = yield* shopAlone()
      const exportId = (yield* firstExport(emulator)).id
      const warnings = yield* captureWarnings
      const start = yield* TestClock.currentTimeMillis
      // at 1 per second, 11 calls fill the 10 s ahead (starts at 0, 1, … 10 s)
      const queued = yield* Effect.forEach(Array.from({ length: 11 }), () => Effect.fork(client.view(exportId)))
      yield* waitingAt(
        start,
        Array.from({ length: 10 }, (_, i) => (i + 1) * 1000),
        "ten calls waiting 1 to 10 s for their permits"
      )
      const past = yield* Effect.fork(client.view(exportId).pipe(warnings.capture))
      yield* Fiber.join(past).pipe(within("the call past the bound, sent at once"))
      assert.strictEqual(yield* apiRequests(emulator), 2)
      assert.deepStrictEqual(yield* warnings.lines, [
        "shop: more requests queued than its pace lets through in 10s; the Batch API request is sent unpaced (a 429 is retried)"
      ])
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(Fiber.all(queued))
      assert.strictEqual(yield* apiRequests(emulator), 12)
      // the call past the bound reserved nothing: the next start is 1 s after the last reserved one (10 s)
      const next = yield* Effect.fork(client.view(exportId))
      yield* waitingAt(start, [11_000], "the next call waiting for the start after the last reserved one")
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(next)
    })
  )
})
