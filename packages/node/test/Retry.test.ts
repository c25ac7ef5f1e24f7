import { ApiError } from "@batch-export/core"
import { Emulator } from "@batch-export/emulator"
import { type BatchConfig, ExportsClient, RetrySchedule } from "@batch-export/node"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { awaitSleep, captureLogs, clientLayer, eventually } from "./support/harness.js"

const layer = (options?: Parameters<typeof clientLayer>[0]) =>
  clientLayer({ timeouts: { request: "1 hour" }, ...options }).pipe(Layer.provideMerge(Emulator.layer()))

const setup = Effect.gen(function* () {
  const emulator = yield* Emulator.Emulator
  const [exp] = yield* emulator.exports
  const client = yield* ExportsClient.ExportsClient
  const downloads = Effect.map(
    emulator.requests,
    (all) => all.filter((r) => r.path.endsWith("/exports/download")).length
  )
  return { emulator, client, fileId: exp!.files[0]!.id, downloads }
})

/** The pending retry sleeps (request timeouts, an hour away, are ignored; so are past ones TestClock still lists), relative to now. */
const pendingRetryDelays = Effect.gen(function* () {
  const now = yield* TestClock.currentTimeMillis
  const sleeps = yield* TestClock.sleeps()
  return Chunk.toReadonlyArray(sleeps)
    .map((t) => t - now)
    .filter((d) => d > 0 && d < Duration.toMillis("30 minutes"))
})

/** The one retry sleep pending, once the client has registered it (real time, for I/O only). */
const nextRetryDelay = (what: string) =>
  Effect.gen(function* () {
    yield* eventually(
      Effect.map(pendingRetryDelays, (d) => d.length === 1),
      what
    )
    const [delay] = yield* pendingRetryDelays
    return delay!
  })

describe("retries, driven by TestClock", () => {
  it.scoped("429 with Retry-After: 7 waits exactly 7 seconds", () =>
    Effect.gen(function* () {
      const { client, downloads, emulator, fileId } = yield* setup
      yield* emulator.script("download", Emulator.Reply.status(429, { headers: { "retry-after": "7" } }))
      const fiber = yield* Effect.fork(client.downloadLink(fileId))
      yield* awaitSleep("7 seconds")
      assert.deepStrictEqual(yield* pendingRetryDelays, [7000])
      assert.strictEqual(yield* downloads, 1)
      yield* TestClock.adjust("6999 millis")
      assert.isNull(fiber.unsafePoll())
      assert.strictEqual(yield* downloads, 1)
      yield* TestClock.adjust("1 millis")
      const link = yield* Fiber.join(fiber)
      assert.strictEqual(link.fileId, fileId)
      assert.strictEqual(yield* downloads, 2)
    }).pipe(Effect.provide(layer()))
  )

  it.scoped("Retry-After is capped by the policy", () =>
    Effect.gen(function* () {
      const { client, emulator, fileId } = yield* setup
      yield* emulator.script("download", Emulator.Reply.status(503, { headers: { "retry-after": "86400" } }))
      const fiber = yield* Effect.fork(client.downloadLink(fileId))
      yield* awaitSleep("2 minutes")
      assert.deepStrictEqual(yield* pendingRetryDelays, [120_000])
      yield* TestClock.adjust("2 minutes")
      yield* Fiber.join(fiber)
    }).pipe(Effect.provide(layer()))
  )

  it.scoped("503 without Retry-After backs off exponentially, within the jitter's bounds", () =>
    Effect.gen(function* () {
      const { client, downloads, emulator, fileId } = yield* setup
      const reply = Emulator.Reply.status(503)
      yield* emulator.script("download", reply, reply, reply)
      const fiber = yield* Effect.fork(client.downloadLink(fileId))
      const delays: Array<number> = []
      for (let attempt = 1; attempt <= 3; attempt++) {
        const delay = yield* nextRetryDelay(`retry sleep ${attempt}`)
        delays.push(delay)
        assert.strictEqual(yield* downloads, attempt)
        yield* TestClock.adjust(Duration.millis(delay))
      }
      yield* Fiber.join(fiber)
      assert.strictEqual(yield* downloads, 4)
      // base 1 s, doubling, jittered by a factor in [0.8, 1.2] (that there is jitter: the RetrySchedule test below)
      delays.forEach((delay, i) => {
        assert.isAtLeast(delay, 800 * 2 ** i)
        assert.isAtMost(delay, 1200 * 2 ** i)
      })
    }).pipe(Effect.provide(layer()))
  )

  it.scoped("gives up after maxRetries with the last retryable error", () =>
    Effect.gen(function* () {
      const { client, downloads, emulator, fileId } = yield* setup
      const reply = Emulator.Reply.status(429, { headers: { "retry-after": "1" } })
      yield* emulator.script("download", reply, reply, reply)
      const fiber = yield* Effect.fork(Effect.flip(client.downloadLink(fileId)))
      for (let attempt = 1; attempt <= 2; attempt++) {
        yield* awaitSleep("1 second")
        yield* TestClock.adjust("1 second")
      }
      const error = yield* Fiber.join(fiber)
      assert.instanceOf(error, ApiError.TooManyRequests)
      assert.strictEqual(yield* downloads, 3)
    }).pipe(Effect.provide(layer({ retry: { maxRetries: 2 } })))
  )

  for (const status of [400, 401, 404, 409, 500] as const) {
    it.scoped(`${status} is never retried`, () =>
      Effect.gen(function* () {
        const { client, downloads, emulator, fileId } = yield* setup
        yield* emulator.script("download", Emulator.Reply.status(status))
        const error = yield* Effect.flip(client.downloadLink(fileId))
        assert.strictEqual((error as ApiError.ApiError).status, status)
        assert.strictEqual(yield* downloads, 1)
        assert.deepStrictEqual(yield* pendingRetryDelays, [])
      }).pipe(Effect.provide(layer()))
    )
  }
})

describe("what a retry says", () => {
  /** The messages logged at `level`, in order. */
  const messages = (lines: ReadonlyArray<string>, level: "INFO" | "DEBUG") =>
    lines
      .map((line) => JSON.parse(line) as { readonly message: unknown; readonly level: string })
      .filter((entry) => entry.level === level)
      .map((entry) => [entry.message].flat().join(" "))

  it.scoped(
    "each retry is announced once, before its wait, with the wait that really follows; none after the last try",
    () =>
      Effect.gen(function* () {
        const logs = yield* captureLogs
        const { client, downloads, emulator, fileId } = yield* setup
        const reply = Emulator.Reply.status(503)
        yield* emulator.script("download", reply, reply, reply)
        const fiber = yield* Effect.fork(Effect.flip(client.downloadLink(fileId)).pipe(Effect.provide(logs.layer)))
        const announced: Array<string> = []
        for (let attempt = 1; attempt <= 2; attempt++) {
          const delay = yield* nextRetryDelay(`retry sleep ${attempt}`)
          const info = messages(yield* logs.lines, "INFO")
          // the first wait (about a second) is announced too: nothing stays silent while the client waits
          assert.strictEqual(info.length, attempt, info.join("\n"))
          assert.match(
            info[attempt - 1]!,
            /^GET \/exports\/download answered HTTP 503 MAINTENANCE: .*; retry \d of 2 in \d+\.\ds$/
          )
          // the wait announced is the one TestClock holds (jitter included), not the backoff before jitter
          assert.isTrue(
            info[attempt - 1]!.endsWith(`; retry ${attempt} of 2 in ${(delay / 1000).toFixed(1)}s`),
            `${info[attempt - 1]} / ${delay}`
          )
          announced.push(info[attempt - 1]!)
          yield* TestClock.adjust(Duration.millis(delay))
        }
        const error = yield* Fiber.join(fiber)
        assert.instanceOf(error, ApiError.ServiceUnavailable)
        assert.strictEqual(yield* downloads, 3)
        // the budget is spent: no "retrying" line for a retry that never comes
        assert.deepStrictEqual(messages(yield* logs.lines, "INFO"), announced)
      }).pipe(Effect.provide(layer({ retry: { maxRetries: 2 } })))
  )

  it.scoped("a Retry-After is named, with the cap when it applies", () =>
    Effect.gen(function* () {
      const logs = yield* captureLogs
      const { client, emulator, fileId } = yield* setup
      yield* emulator.script(
        "download",
        Emulator.Reply.status(429, { headers: { "retry-after": "7" } }),
        Emulator.Reply.status(429, { headers: { "retry-after": "3600" } })
      )
      const fiber = yield* Effect.fork(client.downloadLink(fileId).pipe(Effect.provide(logs.layer)))
      yield* awaitSleep("7 seconds")
      yield* TestClock.adjust("7 seconds")
      yield* awaitSleep("2 minutes")
      yield* TestClock.adjust("2 minutes")
      yield* Fiber.join(fiber)
      const [first, second] = messages(yield* logs.lines, "INFO")
      assert.match(
        first!,
        /^GET \/exports\/download answered HTTP 429.*; Batch asked to retry after 7s; retry 1 of 5 in 7\.0s$/
      )
      assert.match(
        second!,
        /^GET \/exports\/download answered HTTP 429.*; Batch asked to retry after 1h \(capped at retryAfterCap\); retry 2 of 5 in 2m$/
      )
    }).pipe(Effect.provide(layer()))
  )

  it.scoped("debug: one line per request (method, endpoint, status, time), no failed-fiber noise", () =>
    Effect.gen(function* () {
      const logs = yield* captureLogs
      const { client, emulator, fileId } = yield* setup
      yield* emulator.script("download", Emulator.Reply.status(503))
      const fiber = yield* Effect.fork(client.downloadLink(fileId).pipe(Effect.provide(logs.layer)))
      const delay = yield* nextRetryDelay("the retry's sleep")
      yield* TestClock.adjust(Duration.millis(delay))
      yield* Fiber.join(fiber)
      const all = yield* logs.lines
      assert.deepStrictEqual(messages(all, "DEBUG"), [
        "GET /exports/download: HTTP 503 in 0ms",
        "GET /exports/download: HTTP 307 in 0ms",
        "got a download link"
      ])
      for (const line of all) assert.notInclude(line, "Fiber terminated")
    }).pipe(Effect.provide(layer()))
  )
})

describe("RetrySchedule", () => {
  const policy: BatchConfig.RetryPolicy = {
    maxRetries: 6,
    baseDelay: Duration.seconds(1),
    maxDelay: Duration.hours(1),
    retryAfterCap: Duration.minutes(2)
  }
  /** The waits the schedule chooses for six retryable failures, with the random source seeded. */
  const delays = (seed: number) =>
    Schedule.run(
      Schedule.delays(RetrySchedule.make(policy, () => true)),
      0,
      Array.from({ length: 6 }, () => "503")
    ).pipe(
      Effect.map((chunk) => Chunk.toReadonlyArray(chunk).map(Duration.toMillis)),
      Effect.withRandom(Random.make(seed))
    )

  it.effect("the backoff is jittered: each wait differs from base·2^i, within ±20 % of it", () =>
    Effect.gen(function* () {
      const waits = yield* delays(2026)
      assert.strictEqual(waits.length, 6)
      const factors = waits.map((wait, i) => wait / (1000 * 2 ** i))
      for (const factor of factors) {
        assert.notStrictEqual(factor, 1)
        assert.isAtLeast(factor, 0.8)
        assert.isAtMost(factor, 1.2)
      }
      // a factor drawn for each wait, not one scaling of the whole sequence
      assert.isAbove(new Set(factors).size, 1)
      assert.deepStrictEqual(yield* delays(2026), waits)
      assert.notDeepEqual(yield* delays(7), waits)
    })
  )
})

describe("create (a POST) is retried on 429 only", () => {
  const request = { export_type: "ATTRIBUTES", attributes: ["$language"] } as const
  const posts = (emulator: Emulator.Service) =>
    Effect.map(emulator.requests, (all) => all.filter((r) => r.method === "POST").length)

  for (const status of [503, 500] as const) {
    it.scoped(`a ${status} with Retry-After: 0 is returned at once: one POST, no wait`, () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.Emulator
        const client = yield* ExportsClient.ExportsClient
        const reply = Emulator.Reply.status(status, { headers: { "retry-after": "0" } })
        yield* emulator.script("create", reply, reply, reply, reply, reply, reply)
        const error = yield* Effect.flip(client.create(request))
        assert.strictEqual((error as ApiError.ApiError).status, status)
        if (status === 503) assert.instanceOf(error, ApiError.ServiceUnavailable)
        assert.strictEqual(yield* posts(emulator), 1)
        assert.deepStrictEqual(yield* pendingRetryDelays, [])
      }).pipe(Effect.provide(layer()))
    )
  }

  it.scoped("a 429 is retried after its Retry-After: two POSTs, one export", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.Emulator
      const client = yield* ExportsClient.ExportsClient
      yield* emulator.script("create", Emulator.Reply.status(429, { headers: { "retry-after": "3" } }))
      const before = (yield* emulator.exports).length
      const fiber = yield* Effect.fork(client.create(request))
      yield* awaitSleep("3 seconds")
      assert.strictEqual(yield* posts(emulator), 1)
      yield* TestClock.adjust("3 seconds")
      const id = yield* Fiber.join(fiber)
      assert.match(id, /^export_/)
      assert.strictEqual(yield* posts(emulator), 2)
      assert.strictEqual((yield* emulator.exports).length, before + 1)
    }).pipe(Effect.provide(layer()))
  )
})

describe("the resume backoff", () => {
  it.scoped("is jittered like the API's: each wait within ±20 % of base·2^i, not exactly it", () =>
    Effect.gen(function* () {
      const { client, emulator, fileId } = yield* setup
      const bytes = yield* emulator.fileBytes(fileId)
      const drop = Emulator.Reply.dropAfter(500)
      yield* emulator.script("storage", drop, drop, drop)
      const fiber = yield* Effect.fork(
        Stream.runCollect(client.download(fileId)).pipe(Effect.withRandom(Random.make(2026)))
      )
      const delays: Array<number> = []
      for (let resume = 1; resume <= 3; resume++) {
        const delay = yield* nextRetryDelay(`resume sleep ${resume}`)
        delays.push(delay)
        yield* TestClock.adjust(Duration.millis(delay))
      }
      const received = yield* Fiber.join(fiber)
      assert.deepStrictEqual(Buffer.concat(Chunk.toArray(received)), Buffer.from(bytes))
      const factors = delays.map((delay, i) => delay / (1000 * 2 ** i))
      for (const factor of factors) {
        assert.isAtLeast(factor, 0.8)
        assert.isAtMost(factor, 1.2)
        assert.notStrictEqual(factor, 1)
      }
      assert.isAbove(new Set(factors).size, 1, "a factor drawn for each wait")
    }).pipe(Effect.provide(layer({ timeouts: { request: "1 hour", idle: "1 hour" } })))
  )
})
