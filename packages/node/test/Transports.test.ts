import * as Zlib from "node:zlib"
import { ClientError } from "@batch-export/core"
import { Emulator } from "@batch-export/emulator"
import { BatchConfig, ExportsClient } from "@batch-export/node"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { awaitSleep, captureLogs, clientLayer, deepText, onTransport, recordSpans } from "./support/harness.js"
import { EXPORT_ID, exportJson, type Handler, json, KEY, PROJECT, route, serve } from "./support/hostile.js"

const FILE = "file_transport1"

/** The client on `FetchHttpClient`, as a user would inject it. */
const onFetch = (apiUrl: string) =>
  ExportsClient.layerWithoutDependencies.pipe(
    Layer.provide(
      Layer.merge(BatchConfig.layer({ restApiKey: KEY, projectKey: PROJECT, baseUrl: apiUrl }), FetchHttpClient.layer)
    )
  )

/** An API redirecting `/exports/download` to `storage`, which answers with `handler`. */
const world = (handler: Handler) =>
  Effect.gen(function* () {
    const storage = yield* serve(handler)
    const api = yield* serve((request, response) => {
      if (route(request) !== "/exports/download") return json(response, exportJson([]))
      response.writeHead(302, { location: `${storage.url}/files/${FILE}?signature=s3cr3tSignature` })
      response.end()
    })
    return { api, storage }
  })

const download = Effect.flatMap(ExportsClient.ExportsClient, (client) =>
  Effect.map(Stream.runCollect(client.download(FILE)), (chunks) => Buffer.concat(Chunk.toArray(chunks)))
)

describe("FetchHttpClient as the transport", () => {
  it.scoped("a storage redirect to another origin carries no credential; storage is asked for identity", () =>
    Effect.gen(function* () {
      const other = yield* serve((_, response) => {
        response.writeHead(200, { "content-length": "2" })
        response.end("{}")
      })
      const { api, storage } = yield* world((_, response) => {
        response.writeHead(302, { location: `${other.url}/elsewhere?signature=second` })
        response.end()
      })
      const bytes = yield* download.pipe(Effect.provide(onFetch(api.url)))
      assert.strictEqual(bytes.toString(), "{}")
      assert.strictEqual(storage.requests.length, 1, "the redirect was ours to follow, once")
      assert.strictEqual(other.requests.length, 1)
      for (const request of [...storage.requests, ...other.requests]) {
        assert.isUndefined(request.headers["authorization"])
        assert.isUndefined(request.headers["x-batch-project"])
        assert.strictEqual(request.headers["accept-encoding"], "identity")
      }
      assert.strictEqual(api.requests[0]?.headers["authorization"], `Bearer ${KEY}`)
    })
  )

  it.scoped("a storage redirect loop ends with InvalidLocation too-many-redirects", () =>
    Effect.gen(function* () {
      const { api, storage } = yield* world((request, response) => {
        response.writeHead(302, { location: request.url ?? "/" })
        response.end()
      })
      const error = yield* Effect.flip(download.pipe(Effect.provide(onFetch(api.url))))
      assert.instanceOf(error, ClientError.InvalidLocation)
      assert.strictEqual(error.reason, "too-many-redirects")
      assert.strictEqual(storage.requests.length, 6)
    })
  )

  it.scoped("a gzip-encoded storage answer downloads correctly (fetch decodes; lengths are not compared)", () =>
    Effect.gen(function* () {
      const original = Buffer.from(`${JSON.stringify({ id: "x", text: "y".repeat(5000) })}\n`.repeat(20))
      const encoded = Zlib.gzipSync(original)
      const { api } = yield* world((_, response) => {
        response.writeHead(200, { "content-encoding": "gzip", "content-length": String(encoded.length) })
        response.end(encoded)
      })
      const bytes = yield* download.pipe(Effect.provide(onFetch(api.url)))
      assert.deepStrictEqual(bytes, original)
    })
  )
})

describe("a storage redirect whose Location carries credentials (user:password@)", () => {
  const transports = [
    ["undici", (apiUrl: string) => ExportsClient.layer({ restApiKey: KEY, projectKey: PROJECT, baseUrl: apiUrl })],
    ["fetch", onFetch]
  ] as const
  for (const [name, layer] of transports) {
    it.scoped(`${name}: refused with InvalidLocation "credentials", the target never asked`, () =>
      Effect.gen(function* () {
        const other = yield* serve((_, response) => {
          response.writeHead(200, { "content-length": "2" })
          response.end("{}")
        })
        const { api } = yield* world((_, response) => {
          response.writeHead(302, { location: other.url.replace("://", "://user:s3cretPass@") + "/elsewhere" })
          response.end()
        })
        const error = yield* Effect.flip(download.pipe(Effect.provide(layer(api.url))))
        assert.instanceOf(error, ClientError.InvalidLocation)
        assert.strictEqual(error.reason, "credentials")
        assert.strictEqual(error.endpoint, "GET storage")
        assert.strictEqual(other.requests.length, 0)
        assert.notInclude(JSON.stringify(error) + error.message, "s3cretPass")
      })
    )
  }
})

describe("a storage answer longer than its Content-Length", () => {
  it.effect("fails at the first byte past it", () =>
    Effect.gen(function* () {
      let pulls = 0
      const client = HttpClient.make((request, url) => {
        if (url.pathname.endsWith("/exports/download")) {
          return Effect.succeed(
            HttpClientResponse.fromWeb(
              request,
              new Response(null, { status: 302, headers: { location: "https://storage.example/f?signature=1" } })
            )
          )
        }
        // announces 1000 bytes, then sends 1000-byte pieces as they are read
        const body = new ReadableStream<Uint8Array>({
          pull: (controller) => {
            // 1 MB in all: finite, so a client that never stops still ends
            if (++pulls > 1000) controller.close()
            else controller.enqueue(new Uint8Array(1000))
          }
        })
        return Effect.succeed(
          HttpClientResponse.fromWeb(
            request,
            new Response(body, { status: 200, headers: { "content-length": "1000", "accept-ranges": "none" } })
          )
        )
      })
      const error = yield* Effect.flip(
        download.pipe(
          Effect.provide(onTransport(client, { restApiKey: KEY, projectKey: PROJECT, baseUrl: "https://api.example" }))
        )
      )
      assert.instanceOf(error, ClientError.TransportError)
      assert.include(error.message, "longer than its Content-Length")
      assert.isBelow(pulls, 10)
    })
  )
})

describe("what a tracer can read", () => {
  it.scoped("no span exit value or attribute holds the REST key or the signed URL", () =>
    Effect.gen(function* () {
      const { exits, spans, tracer } = yield* recordSpans
      const emulator = yield* Emulator.Emulator
      const [exp] = yield* emulator.exports
      const client = yield* ExportsClient.ExportsClient
      const link = yield* client.downloadLink(exp!.files[0]!.id)
      const signature = new URL(Redacted.value(link.url)).searchParams.get("signature")
      assert.isString(signature)
      yield* Effect.gen(function* () {
        yield* client.view(exp!.id)
        yield* Stream.runDrain(client.download(exp!.files[0]!.id))
        yield* Stream.runDrain(client.records(exp!.id))
      }).pipe(Effect.withTracer(tracer))
      assert.isAbove(spans.length, 3)
      assert.strictEqual(exits.length, spans.length)
      const text = deepText([spans.map((s) => [s.name, s.attributes, s.status]), exits])
      assert.notInclude(text, emulator.restApiKey)
      assert.notInclude(text, signature!)
    }).pipe(Effect.provide(clientLayer().pipe(Layer.provideMerge(Emulator.layer()))))
  )
})

describe("a long Retry-After", () => {
  it.scoped("is capped at retryAfterCap, and an info line says so while waiting", () =>
    Effect.gen(function* () {
      const logs = yield* captureLogs
      const api = yield* serve((_, response, index) => {
        if (index > 0) return json(response, exportJson([]))
        response.writeHead(503, { "retry-after": "999999999" })
        response.end()
      })
      const layer = ExportsClient.layer({
        restApiKey: KEY,
        projectKey: PROJECT,
        baseUrl: api.url,
        timeouts: { request: "1 hour" }
      })
      const fiber = yield* Effect.fork(
        Effect.flatMap(ExportsClient.ExportsClient, (client) => client.view(EXPORT_ID)).pipe(
          Effect.provide(Layer.merge(layer, logs.layer))
        )
      )
      yield* awaitSleep("2 minutes")
      const lines = yield* logs.lines
      assert.isTrue(
        lines.some((line) => line.includes("retryAfterCap") && line.includes("2m")),
        lines.join("\n")
      )
      yield* TestClock.adjust("2 minutes")
      const exp = yield* Fiber.join(fiber)
      assert.strictEqual(exp.id, EXPORT_ID)
      assert.strictEqual(api.requests.length, 2)
    })
  )
})
