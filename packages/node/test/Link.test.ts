import { ClientError } from "@batch-export/core"
import { Emulator } from "@batch-export/emulator"
import { BatchConfig, BatchExport, ExportsClient } from "@batch-export/node"
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { awaitSleep, clientLayer, eventually } from "./support/harness.js"
import { type Handler, type Hostile, KEY, PROJECT, pour, route, serve } from "./support/hostile.js"

const FILE = "file_hostile1"
const MiB = 1024 * 1024

const onApi = (api: Hostile, options?: Partial<BatchConfig.Options>) =>
  BatchExport.layer({ restApiKey: KEY, projectKey: PROJECT, baseUrl: api.url, ...options })

/** The client on `api`, kept for the test's scope: its connections outlive each call, as a user's would. */
const clientOn = (api: Hostile, options?: Partial<BatchConfig.Options>) =>
  Effect.map(Layer.build(onApi(api, options)), (context) => Context.get(context, ExportsClient.ExportsClient))

const downloadLink = (api: Hostile, options?: Partial<BatchConfig.Options>) =>
  Effect.flatMap(clientOn(api, options), (client) => client.downloadLink(FILE))

/** `/exports/download` answering a 307 to a signed link, its body written by `body`. */
const redirecting = (body: (response: Parameters<Handler>[1]) => void) =>
  serve((request, response) => {
    if (route(request) !== "/exports/download") return response.writeHead(404).end()
    body(response)
  })

const LOCATION = "http://127.0.0.1:1/files/x?signature=s3cr3t"

/** Waits until the connection of `api`'s request `index` is closed (the client must not keep it). */
const connectionClosed = (api: Hostile, what: string, index = 0) =>
  eventually(
    Effect.sync(() => api.requests[index]!.socket.destroyed),
    what
  )

describe("the 307 of /exports/download", () => {
  // The scope gives the test clock: a request timeout never elapses by itself here, so a client that waited for
  // these bodies would hang until vitest gives up.
  it.scoped("whose body hangs gives its link without waiting for the body, and its connection is closed", () =>
    Effect.gen(function* () {
      const api = yield* redirecting((response) => {
        response.writeHead(307, { location: LOCATION, "content-length": "1000" })
        response.write("only the first bytes")
      })
      const link = yield* downloadLink(api)
      assert.strictEqual(Redacted.value(link.url).href, LOCATION)
      // the body never ended: the connection cannot be reused, and the client must not keep it
      yield* connectionClosed(api, "the hanging body's connection to be closed")
    })
  )

  it.scoped("whose body is endless gives its link without reading it", () =>
    Effect.gen(function* () {
      const api = yield* redirecting((response) => {
        response.writeHead(307, { location: LOCATION })
        pour(response, Buffer.alloc(64 * 1024, "x"))
      })
      const link = yield* downloadLink(api)
      assert.strictEqual(Redacted.value(link.url).href, LOCATION)
      yield* connectionClosed(api, "the endless body's connection to close")
      assert.isBelow(api.written(), 8 * MiB, "the client stopped the endless body")
    })
  )

  it.scoped("with a short body that has arrived whole keeps its connection for the next call", () =>
    Effect.gen(function* () {
      const api = yield* redirecting((response) => {
        response.writeHead(307, { location: LOCATION, "content-length": "5" })
        response.end("moved")
      })
      const client = yield* clientOn(api)
      yield* client.downloadLink(FILE)
      yield* client.downloadLink(FILE)
      assert.strictEqual(api.requests.length, 2)
      assert.strictEqual(api.requests[0]!.socket, api.requests[1]!.socket, "one keep-alive connection")
    })
  )

  it.scoped("never sent is a RequestTimeout after timeouts.request", () =>
    Effect.gen(function* () {
      const api = yield* serve(() => undefined)
      const fiber = yield* Effect.fork(Effect.flip(downloadLink(api, { timeouts: { request: "20 seconds" } })))
      yield* awaitSleep("20 seconds")
      yield* TestClock.adjust("20 seconds")
      const error = yield* Fiber.join(fiber)
      assert.instanceOf(error, ClientError.RequestTimeout)
      assert.strictEqual(api.requests.length, 1, "a timeout is not retried")
    })
  )
})

/** Timers the process holds: a call's deadline is one of them while the call is in flight. */
const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length

describe("the request timeout on the live clock", () => {
  // The clock a program runs on, where the deadline is a plain timer; the test clock drives the tests above.
  it.scopedLive("an API that never answers is a RequestTimeout after timeouts.request, its connection closed", () =>
    Effect.gen(function* () {
      const api = yield* serve(() => undefined)
      const error = yield* Effect.flip(downloadLink(api, { timeouts: { request: "200 millis" } })).pipe(
        Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => "the request timeout never fired" })
      )
      assert.instanceOf(error, ClientError.RequestTimeout)
      assert.strictEqual(api.requests.length, 1, "a timeout is not retried")
      yield* connectionClosed(api, "the connection to be closed")
    })
  )

  it.scopedLive("longer than a timer can hold (2³¹ ms) never fires early", () =>
    Effect.gen(function* () {
      const api = yield* redirecting((response) => {
        setTimeout(() => response.writeHead(307, { location: LOCATION, "content-length": "0" }).end(), 50)
      })
      const link = yield* downloadLink(api, { timeouts: { request: "30 days" } })
      assert.strictEqual(Redacted.value(link.url).href, LOCATION)
    })
  )

  it.scopedLive("calls that end leave no timer behind", () =>
    Effect.gen(function* () {
      const api = yield* redirecting((response) => {
        response.writeHead(307, { location: LOCATION, "content-length": "0" }).end()
      })
      const client = yield* clientOn(api, { timeouts: { request: "1 hour" } })
      yield* client.downloadLink(FILE)
      const before = timers()
      for (let i = 0; i < 20; i++) yield* client.downloadLink(FILE)
      assert.isBelow(timers() - before, 5, "20 calls left their 1-hour deadlines running")
    })
  )

  it.scopedLive("calls their caller interrupts leave no timer behind and close their connections", () =>
    Effect.gen(function* () {
      const api = yield* serve(() => undefined)
      const client = yield* clientOn(api, { timeouts: { request: "1 hour" } })
      const before = timers()
      for (let i = 0; i < 10; i++) {
        const fiber = yield* Effect.fork(client.downloadLink(FILE))
        yield* eventually(
          Effect.sync(() => api.requests.length === i + 1),
          "the request to arrive"
        )
        yield* Fiber.interrupt(fiber)
        yield* connectionClosed(api, "the connection to be closed", i)
      }
      assert.isBelow(timers() - before, 5, "10 interrupted calls left their 1-hour deadlines running")
    })
  )
})

describe("from.etag", () => {
  const layer = clientLayer().pipe(Layer.provideMerge(Emulator.layer()))

  it.scoped("that is not an entity-tag fails with InvalidArgument before any request", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.Emulator
      const client = yield* ExportsClient.ExportsClient
      const [exp] = yield* emulator.exports
      const fileId = exp!.files[0]!.id
      for (const etag of ['"abc"\r\nX-Injected: 1', "abc", '"a"b"', 'w/"abc"', '"tab\tinside"', "", '"\u0100"']) {
        const opened = yield* Effect.flip(client.open(fileId, { from: { offset: 10, etag } }))
        assert.isTrue(
          opened instanceof ClientError.InvalidArgument && opened.argument === "from.etag",
          JSON.stringify(etag)
        )
        const streamed = yield* Effect.flip(Stream.runDrain(client.download(fileId, { from: { offset: 10, etag } })))
        assert.instanceOf(streamed, ClientError.InvalidArgument, JSON.stringify(etag))
      }
      assert.deepStrictEqual(yield* emulator.requests, [])
    }).pipe(Effect.provide(layer))
  )

  it.scoped("strong and weak entity-tags are accepted", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.Emulator
      const client = yield* ExportsClient.ExportsClient
      const [exp] = yield* emulator.exports
      const fileId = exp!.files[0]!.id
      for (const etag of ['"abc"', 'W/"abc"', '""']) {
        // not the object's tag: the storage answers with the whole file, from byte 0
        const file = yield* client.open(fileId, { from: { offset: 10, etag } })
        assert.strictEqual(file.offset, 0)
      }
    }).pipe(Effect.provide(layer))
  )
})
