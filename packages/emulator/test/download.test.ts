import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { Emulator } from "../src/index.js"
import { apiClient, bytes, ClientLive, eventually, VERSION } from "./helpers.js"

const firstFile = (emulator: Emulator.Service) => Effect.map(emulator.exports, (exports) => exports[0]!.files[0]!)

/** GET /exports/download, checked to be a 307 with an empty body; returns the Location. */
const downloadLink = (emulator: Emulator.Service, fileId: string) =>
  Effect.gen(function* () {
    const api = yield* apiClient(emulator)
    const response = yield* api.get("/exports/download", { urlParams: { id: fileId } })
    assert.strictEqual(response.status, 307)
    assert.strictEqual(response.headers["content-length"], "0")
    assert.strictEqual(yield* response.text, "")
    const location = response.headers["location"]
    assert.isDefined(location)
    return location!
  })

describe("download route and storage origin", () => {
  it.scoped("307 + signed Location, and the link serves exactly fileBytes", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      const file = yield* firstFile(emulator)
      const location = yield* downloadLink(emulator, file.id)
      const url = new URL(location)
      assert.strictEqual(url.origin, emulator.storageUrl)
      assert.strictEqual(url.pathname, `/files/${file.id}`)
      assert.match(url.searchParams.get("signature")!, /^[0-9a-f]{64}$/)
      assert.strictEqual(Number(url.searchParams.get("expires")), 20 * 60) // TestClock starts at 0

      const client = yield* HttpClient.HttpClient
      const response = yield* client.get(location)
      assert.strictEqual(response.status, 200)
      assert.strictEqual(response.headers["content-type"], "application/x-ndjson")
      assert.strictEqual(response.headers["accept-ranges"], "bytes")
      assert.strictEqual(response.headers["content-length"], String(file.size))
      assert.match(response.headers["etag"]!, /^"[0-9a-f]{32}"$/)
      const body = yield* bytes(response)
      assert.deepStrictEqual(body, yield* emulator.fileBytes(file.id))
      assert.strictEqual(body.length, file.size)
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("a large file (bytesPerPart) is streamed intact", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make({ exports: [{ parts: 1, bytesPerPart: 3 * 1024 * 1024 }] })
      const file = yield* firstFile(emulator)
      assert.isAtLeast(file.size, 3 * 1024 * 1024)
      const location = yield* downloadLink(emulator, file.id)
      const chunks = yield* (yield* HttpClient.HttpClient).get(location).pipe(
        Effect.map((response) => response.stream),
        Stream.unwrapScoped,
        Stream.runCollect
      )
      assert.isAbove(Chunk.size(chunks), 1)
      assert.deepStrictEqual(Buffer.concat(Chunk.toArray(chunks)), Buffer.from(yield* emulator.fileBytes(file.id)))
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("a 16 GiB part (larger than any array) is listed, ranged and streamed: never held whole", () =>
    Effect.gen(function* () {
      const size = 16 * 1024 ** 3
      const emulator = yield* Emulator.make({ exports: [{ parts: 1, bytesPerPart: size }] })
      const file = yield* firstFile(emulator)
      assert.isAtLeast(file.size, size)
      assert.isBelow(file.size, size + 10_000)
      const location = yield* downloadLink(emulator, file.id)
      const client = yield* HttpClient.HttpClient
      const tail = yield* client.execute(
        HttpClientRequest.get(location).pipe(HttpClientRequest.setHeader("range", `bytes=${file.size - 5000}-`))
      )
      assert.strictEqual(tail.status, 206)
      assert.strictEqual(tail.headers["content-range"], `bytes ${file.size - 5000}-${file.size - 1}/${file.size}`)
      assert.match(tail.headers["etag"]!, /^"[0-9a-f]{32}-\d+"$/)
      const text = new TextDecoder().decode(yield* bytes(tail))
      assert.strictEqual(text.length > 0 && text.endsWith("\n"), true)
      const lastLine = text.slice(0, -1).split("\n").at(-1)!
      assert.match(JSON.parse(lastLine).identifiers.custom_id, /^user-\d{6}$/)

      const whole = yield* client.get(location)
      assert.strictEqual(whole.status, 200)
      assert.strictEqual(whole.headers["content-length"], String(file.size))
      const head = yield* whole.stream.pipe(Stream.take(3), Stream.runCollect)
      assert.strictEqual(Chunk.size(head), 3)
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("the link expires after linkTtl (TestClock), and a fresh link works again", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      const client = yield* HttpClient.HttpClient
      const file = yield* firstFile(emulator)
      const location = yield* downloadLink(emulator, file.id)

      yield* TestClock.adjust("19 minutes")
      assert.strictEqual((yield* client.get(location)).status, 200)

      yield* TestClock.adjust("2 minutes")
      const expired = yield* client.get(location)
      assert.strictEqual(expired.status, 403)
      assert.strictEqual(expired.headers["content-type"], "application/xml")
      const xml = yield* expired.text
      assert.include(xml, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")

      const fresh = yield* downloadLink(emulator, file.id)
      assert.notStrictEqual(fresh, location)
      assert.strictEqual((yield* client.get(fresh)).status, 200)
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("Range: bytes=N- and bytes=N-M give 206 + Content-Range; past the end gives 416", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      const client = yield* HttpClient.HttpClient
      const file = yield* firstFile(emulator)
      const all = yield* emulator.fileBytes(file.id)
      const location = yield* downloadLink(emulator, file.id)
      const get = (range: string, extra: Record<string, string> = {}) =>
        client.execute(HttpClientRequest.get(location).pipe(HttpClientRequest.setHeaders({ range, ...extra })))

      const tail = yield* get("bytes=1000-")
      assert.strictEqual(tail.status, 206)
      assert.strictEqual(tail.headers["content-range"], `bytes 1000-${all.length - 1}/${all.length}`)
      assert.strictEqual(tail.headers["content-length"], String(all.length - 1000))
      assert.deepStrictEqual(yield* bytes(tail), all.subarray(1000))

      const middle = yield* get("bytes=10-19")
      assert.strictEqual(middle.status, 206)
      assert.strictEqual(middle.headers["content-range"], `bytes 10-19/${all.length}`)
      assert.deepStrictEqual(yield* bytes(middle), all.subarray(10, 20))

      const suffix = yield* get("bytes=-5")
      assert.deepStrictEqual(yield* bytes(suffix), all.subarray(all.length - 5))

      const beyond = yield* get(`bytes=${all.length}-`)
      assert.strictEqual(beyond.status, 416)
      assert.strictEqual(beyond.headers["content-range"], `bytes */${all.length}`)

      // If-Range with a stale validator: the whole file, 200
      const stale = yield* get("bytes=1000-", { "if-range": '"0123"' })
      assert.strictEqual(stale.status, 200)
      assert.strictEqual((yield* bytes(stale)).length, all.length)
      const fresh = yield* get("bytes=1000-", { "if-range": tail.headers["etag"]! })
      assert.strictEqual(fresh.status, 206)
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("tampered or missing signatures are rejected with 403", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      const client = yield* HttpClient.HttpClient
      const [first, second] = (yield* emulator.exports)[0]!.files
      const url = new URL(yield* downloadLink(emulator, first!.id))
      const expect403 = (target: URL, code: string) =>
        Effect.gen(function* () {
          const response = yield* client.get(target.toString())
          assert.strictEqual(response.status, 403, target.toString())
          assert.include(yield* response.text, `<Code>${code}</Code>`)
        })
      const withPath = new URL(url)
      withPath.pathname = `/files/${second!.id}`
      yield* expect403(withPath, "SignatureDoesNotMatch")
      const later = new URL(url)
      later.searchParams.set("expires", String(Number(url.searchParams.get("expires")) + 3600))
      yield* expect403(later, "SignatureDoesNotMatch")
      const noSignature = new URL(url)
      noSignature.searchParams.delete("signature")
      yield* expect403(noSignature, "AccessDenied")
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("the storage origin refuses an Authorization header (a leaked API key is loud)", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      const client = yield* HttpClient.HttpClient
      const file = yield* firstFile(emulator)
      const location = yield* downloadLink(emulator, file.id)
      const leaked = yield* client.execute(
        HttpClientRequest.get(location).pipe(HttpClientRequest.bearerToken(emulator.restApiKey))
      )
      assert.strictEqual(leaked.status, 400)
      assert.include(yield* leaked.text, "<Code>InvalidArgument</Code>")
      const storageRequests = (yield* emulator.requests).filter((r) => r.origin === "storage")
      assert.strictEqual(storageRequests.length, 1)
      assert.strictEqual(storageRequests[0]!.headers["authorization"], `Bearer ${emulator.restApiKey}`)
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("requests of both origins are recorded in order, and can be cleared", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      const file = yield* firstFile(emulator)
      const location = yield* downloadLink(emulator, file.id)
      yield* (yield* HttpClient.HttpClient).get(location)
      const requests = yield* emulator.requests
      assert.deepStrictEqual(
        requests.map((r) => [r.origin, r.method, r.path]),
        [
          ["api", "GET", `/${VERSION}/exports/download`],
          ["storage", "GET", `/files/${file.id}`]
        ]
      )
      assert.deepStrictEqual(requests[0]!.query, { id: file.id })
      assert.strictEqual(requests[0]!.headers["authorization"], `Bearer ${emulator.restApiKey}`)
      assert.strictEqual(requests[0]!.headers["x-batch-project"], emulator.projectKey)
      assert.deepStrictEqual(Object.keys(requests[1]!.query).sort(), ["expires", "signature"])
      assert.isUndefined(requests[1]!.headers["authorization"])
      assert.isUndefined(requests[1]!.headers["x-batch-project"])
      yield* emulator.clearRequests
      assert.deepStrictEqual(yield* emulator.requests, [])
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("DropAfter sends headers and N bytes, then the connection dies; the next request is normal", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      const client = yield* HttpClient.HttpClient
      const file = yield* firstFile(emulator)
      const all = yield* emulator.fileBytes(file.id)
      const location = yield* downloadLink(emulator, file.id)
      yield* emulator.script("storage", Emulator.Reply.dropAfter(1000))

      const dropped = yield* client.get(location)
      assert.strictEqual(dropped.status, 200)
      assert.strictEqual(dropped.headers["content-length"], String(all.length))
      let received = 0
      const result = yield* dropped.stream.pipe(
        Stream.runForEach((chunk) => Effect.sync(() => void (received += chunk.length))),
        Effect.either
      )
      assert.isTrue(Either.isLeft(result))
      assert.strictEqual(received, 1000)

      // DropAfter(0): the head arrives, then nothing
      yield* emulator.script("storage", Emulator.Reply.dropAfter(0))
      const empty = yield* client.get(location)
      assert.strictEqual(empty.status, 200)
      assert.isTrue(Either.isLeft(yield* Effect.either(empty.arrayBuffer)))

      // resume where it stopped
      const rest = yield* client.execute(
        HttpClientRequest.get(location).pipe(HttpClientRequest.setHeader("range", "bytes=1000-"))
      )
      assert.strictEqual(rest.status, 206)
      assert.deepStrictEqual(yield* bytes(rest), all.subarray(1000))
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("StallAfter sends N bytes then nothing; the client giving up closes the connection", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      const file = yield* firstFile(emulator)
      const location = yield* downloadLink(emulator, file.id)
      yield* emulator.script("storage", Emulator.Reply.stallAfter(500))

      const got500 = yield* Deferred.make<void>()
      const fiber = yield* Effect.gen(function* () {
        const response = yield* (yield* HttpClient.HttpClient).get(location)
        let received = 0
        yield* response.stream.pipe(
          Stream.runForEach((chunk) =>
            Effect.suspend(() => {
              received += chunk.length
              return received >= 500 ? Deferred.succeed(got500, undefined) : Effect.void
            })
          )
        )
        return received
      }).pipe(Effect.scoped, Effect.provide(Layer.fresh(ClientLive)), Effect.fork)

      yield* Deferred.await(got500)
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      assert.strictEqual((yield* emulator.openConnections).storage, 1)
      yield* Fiber.interrupt(fiber)
      const open = yield* eventually(emulator.openConnections, (c) => c.storage === 0)
      assert.strictEqual(open.storage, 0)
    }).pipe(Effect.provide(ClientLive))
  )

  it.scoped("openConnections counts live sockets and returns to 0 once clients close", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      const file = yield* firstFile(emulator)
      assert.deepStrictEqual(yield* emulator.openConnections, { api: 0, storage: 0 })
      yield* Effect.gen(function* () {
        const location = yield* downloadLink(emulator, file.id)
        yield* (yield* HttpClient.HttpClient).get(location).pipe(Effect.flatMap(bytes))
        const open = yield* emulator.openConnections
        assert.deepStrictEqual(open, { api: 1, storage: 1 }) // undici keeps them alive
      }).pipe(Effect.provide(Layer.fresh(ClientLive)), Effect.scoped)
      const open = yield* eventually(emulator.openConnections, (c) => c.api === 0 && c.storage === 0)
      assert.deepStrictEqual(open, { api: 0, storage: 0 })
    })
  )
})
