import { ApiError, ClientError } from "@batch-export/core"
import { Emulator, Testing } from "@batch-export/emulator"
import { BatchExport, ExportFiles, ExportsClient } from "@batch-export/node"
import { FileSystem } from "@effect/platform"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, DateTime, Deferred, Duration, Effect, Fiber, Layer, Option, Redacted, Stream, TestClock } from "effect"
import * as Path from "node:path"
import { awaitSleep, clientLayer, drive, eventually } from "./support/harness.js"

const firstFile = Effect.gen(function* () {
  const emulator = yield* Emulator.Emulator
  const [exp] = yield* emulator.exports
  const file = exp!.files[0]!
  return { emulator, file, bytes: yield* emulator.fileBytes(file.id) }
})

const layer = (options?: Parameters<typeof clientLayer>[0]) =>
  clientLayer(options).pipe(Layer.provideMerge(Emulator.layer()), Layer.merge(NodeFileSystem.layer))

const storageRequests = (emulator: Emulator.Service) =>
  Effect.map(emulator.requests, (all) => all.filter((r) => r.origin === "storage"))
const apiRequests = (emulator: Emulator.Service) =>
  Effect.map(emulator.requests, (all) => all.filter((r) => r.origin === "api"))

describe("ExportsClient over real sockets", () => {
  it.scoped("downloads a file byte for byte; storage sees no credential", () =>
    Effect.gen(function* () {
      const { bytes, emulator, file } = yield* firstFile
      const client = yield* ExportsClient.ExportsClient
      const received = yield* Stream.runCollect(client.download(file.id))
      assert.deepStrictEqual(Buffer.concat(Chunk.toArray(received)), Buffer.from(bytes))

      const storage = yield* storageRequests(emulator)
      assert.strictEqual(storage.length, 1)
      for (const request of storage) {
        for (const name of ["authorization", "x-batch-project", "cookie", "proxy-authorization"]) {
          assert.isUndefined(request.headers[name], name)
        }
      }
      const [api] = yield* apiRequests(emulator)
      assert.strictEqual(api?.headers["authorization"], `Bearer ${emulator.restApiKey}`)
      assert.strictEqual(api?.headers["x-batch-project"], emulator.projectKey)
      assert.strictEqual(api?.path, "/2.10/exports/download")
    }).pipe(Effect.provide(layer()))
  )

  it.scoped("downloadToFile writes the exact bytes atomically and reports progress", () =>
    Effect.gen(function* () {
      const { bytes, file } = yield* firstFile
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const destination = Path.join(dir, "part-1.ndjson")
      const client = yield* ExportsClient.ExportsClient
      const files = yield* ExportFiles.ExportFiles
      const progress: Array<ExportFiles.Progress> = []
      const done = yield* files.downloadToFile(file.id, destination, {
        onProgress: (p) => Effect.sync(() => progress.push(p))
      })
      assert.strictEqual(done.bytes, bytes.length)
      assert.deepStrictEqual(Buffer.from(yield* fs.readFile(destination)), Buffer.from(bytes))
      assert.deepStrictEqual(yield* fs.readDirectory(dir), ["part-1.ndjson"])
      assert.isAbove(progress.length, 0)
      assert.strictEqual(progress.at(-1)?.bytes, bytes.length)
      assert.deepStrictEqual(progress.at(-1)?.total, Option.some(bytes.length))
    }).pipe(Effect.provide(layer()))
  )

  it.scoped("every documented status fails with its class and Batch's error_code", () =>
    Effect.gen(function* () {
      const { emulator, file } = yield* firstFile
      const client = yield* ExportsClient.ExportsClient
      const cases: ReadonlyArray<[number, Function]> = [
        [400, ApiError.BadRequest],
        [401, ApiError.Unauthorized],
        [404, ApiError.NotFound],
        [409, ApiError.Conflict],
        [500, ApiError.InternalServerError],
        [418, ApiError.UnexpectedStatus],
        [200, ApiError.UnexpectedStatus]
      ]
      for (const [status, expected] of cases) {
        yield* emulator.script(
          "download",
          Emulator.Reply.status(status, { body: { error_code: `E${status}`, error_message: `m${status}` } })
        )
        const error = yield* Effect.flip(client.downloadLink(file.id))
        assert.isTrue(error instanceof expected, `${status} → ${error._tag}`)
        assert.strictEqual((error as ApiError.ApiError).status, status)
        assert.strictEqual((error as ApiError.ApiError).errorCode, `E${status}`)
        assert.strictEqual((error as ApiError.ApiError).errorMessage, `m${status}`)
      }
    }).pipe(Effect.provide(layer({ retry: { maxRetries: 0 } })))
  )

  it.scoped("real emulator answers: unknown file is NotFound, a wrong key is Unauthorized", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.Emulator
      const client = yield* ExportsClient.ExportsClient
      const missing = yield* Effect.flip(client.downloadLink("file_doesnotexist000000000000000000"))
      assert.instanceOf(missing, ApiError.NotFound)
      assert.isString((missing as ApiError.NotFound).errorCode)

      const wrong = yield* Effect.flip(
        Effect.flatMap(ExportsClient.ExportsClient, (c) => c.downloadLink("file_abc")).pipe(
          Effect.provide(
            BatchExport.layer({
              restApiKey: "wrong_key_123",
              projectKey: emulator.projectKey,
              baseUrl: emulator.apiUrl
            })
          )
        )
      )
      assert.instanceOf(wrong, ApiError.Unauthorized)
      assert.strictEqual((wrong as ApiError.Unauthorized).errorCode, "AUTHENTICATION_INVALID")
    }).pipe(Effect.provide(layer()))
  )

  it.scoped("an HTML 500 still is an InternalServerError; a 307 without Location is InvalidLocation", () =>
    Effect.gen(function* () {
      const { emulator, file } = yield* firstFile
      const client = yield* ExportsClient.ExportsClient
      yield* emulator.script(
        "download",
        Emulator.Reply.status(500, { body: "<html><h1>oops</h1></html>", headers: { "content-type": "text/html" } }),
        Emulator.Reply.status(307)
      )
      const html = yield* Effect.flip(client.downloadLink(file.id))
      assert.instanceOf(html, ApiError.InternalServerError)
      assert.isUndefined((html as ApiError.InternalServerError).errorCode)
      const noLocation = yield* Effect.flip(client.downloadLink(file.id))
      assert.instanceOf(noLocation, ClientError.InvalidLocation)
      assert.strictEqual((noLocation as ClientError.InvalidLocation).reason, "missing")
    }).pipe(Effect.provide(layer()))
  )

  it.scoped("a bad file id fails before any request", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.Emulator
      const client = yield* ExportsClient.ExportsClient
      for (const bad of ["export_abc", "file_a&id=file_b", "file_", "", "file_x/../y", "file_a\r\nX: 1"]) {
        const error = yield* Effect.flip(client.downloadLink(bad))
        assert.instanceOf(error, ClientError.InvalidArgument)
      }
      assert.deepStrictEqual(yield* emulator.requests, [])
    }).pipe(Effect.provide(layer()))
  )

  it.scoped("a closed port is a TransportError", () =>
    Effect.gen(function* () {
      const client = yield* ExportsClient.ExportsClient
      const error = yield* Effect.flip(client.downloadLink("file_abc"))
      assert.instanceOf(error, ClientError.TransportError)
    }).pipe(
      Effect.provide(BatchExport.layer({ restApiKey: "k_1", projectKey: "project_x", baseUrl: "http://127.0.0.1:9" }))
    )
  )

  it.scoped(
    "a refused signed link (403) is renewed once; refused again, it is a StorageError showing only the origin",
    () =>
      Effect.gen(function* () {
        const { bytes, emulator, file } = yield* firstFile
        const client = yield* ExportsClient.ExportsClient
        yield* emulator.script("storage", Emulator.Reply.status(403))
        const received = yield* Stream.runCollect(client.download(file.id))
        assert.deepStrictEqual(Buffer.concat(Chunk.toArray(received)), Buffer.from(bytes))
        assert.strictEqual((yield* apiRequests(emulator)).length, 2) // a second link was asked for

        yield* emulator.script("storage", Emulator.Reply.status(403), Emulator.Reply.status(410))
        const error = yield* Effect.flip(Stream.runDrain(client.download(file.id)))
        assert.instanceOf(error, ClientError.StorageError)
        assert.strictEqual((error as ClientError.StorageError).status, 410)
        assert.strictEqual((error as ClientError.StorageError).origin, emulator.storageUrl)
        assert.notInclude(error.message, "signature")
      }).pipe(Effect.provide(layer()))
  )

  it.scoped("a link past its expiry is renewed before the storage request", () =>
    Effect.gen(function* () {
      const { bytes, emulator, file } = yield* firstFile
      const client = yield* ExportsClient.ExportsClient
      const link = yield* client.downloadLink(file.id)
      assert.isTrue(link.isExpired(DateTime.addDuration(link.issuedAt, "1171 seconds"), "30 seconds"))
      // the emulator's links also expire after 20 minutes: a stale link would get a 403
      yield* TestClock.adjust("21 minutes")
      const received = yield* Stream.runCollect(client.download(file.id))
      assert.deepStrictEqual(Buffer.concat(Chunk.toArray(received)), Buffer.from(bytes))
      assert.deepStrictEqual(
        (yield* storageRequests(emulator)).map((r) => r.method),
        ["GET"]
      )
    }).pipe(Effect.provide(layer()))
  )

  it.scoped("a connection dropped mid-body is resumed with Range + If-Range and ends byte-exact", () =>
    Effect.gen(function* () {
      const { bytes, emulator, file } = yield* firstFile
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const client = yield* ExportsClient.ExportsClient
      const files = yield* ExportFiles.ExportFiles
      yield* emulator.script("storage", Emulator.Reply.dropAfter(1000), Emulator.Reply.dropAfter(1000))
      const destination = Path.join(dir, "out.ndjson")
      const done = yield* drive(files.downloadToFile(file.id, destination))
      assert.strictEqual(done.bytes, bytes.length)
      assert.deepStrictEqual(Buffer.from(yield* fs.readFile(destination)), Buffer.from(bytes))
      const storage = yield* storageRequests(emulator)
      assert.deepStrictEqual(
        storage.map((r) => r.headers["range"]),
        [undefined, "bytes=1000-", "bytes=2000-"]
      )
      assert.isTrue(storage.slice(1).every((r) => r.headers["if-range"]?.startsWith('"')))
    }).pipe(Effect.provide(layer({ timeouts: { request: "1 hour", idle: "1 hour" } })))
  )

  it.scoped("when resume attempts run out, the drop fails typed and leaves no file", () =>
    Effect.gen(function* () {
      const { emulator, file } = yield* firstFile
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const client = yield* ExportsClient.ExportsClient
      const files = yield* ExportFiles.ExportFiles
      const drop = Emulator.Reply.dropAfter(500)
      yield* emulator.script("storage", drop, drop, drop)
      const error = yield* Effect.flip(drive(files.downloadToFile(file.id, Path.join(dir, "out.ndjson"))))
      assert.instanceOf(error, ClientError.TransportError)
      assert.deepStrictEqual(yield* fs.readDirectory(dir), [])
      assert.strictEqual((yield* storageRequests(emulator)).length, 3)
    }).pipe(Effect.provide(layer({ retry: { maxRetries: 2 }, timeouts: { request: "1 hour", idle: "1 hour" } })))
  )

  it.scoped("interruption mid-stream leaves no file and no open connection", () =>
    Effect.gen(function* () {
      const { emulator, file } = yield* firstFile
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const client = yield* ExportsClient.ExportsClient
      const files = yield* ExportFiles.ExportFiles
      yield* emulator.script("storage", Emulator.Reply.stallAfter(2000))
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        files.downloadToFile(file.id, Path.join(dir, "out.ndjson"), {
          onProgress: (p) => (p.bytes >= 2000 ? Deferred.succeed(started, undefined) : Effect.void)
        })
      )
      yield* Deferred.await(started)
      assert.strictEqual((yield* fs.readDirectory(dir)).length, 1) // the temporary file exists while downloading
      yield* eventually(
        Effect.map(emulator.openConnections, (c) => c.storage === 1),
        "storage connection open"
      )
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual(yield* fs.readDirectory(dir), [])
      yield* eventually(
        Effect.map(emulator.openConnections, (c) => c.storage === 0),
        "storage connection closed"
      )
    }).pipe(Effect.provide(layer()))
  )

  it.scoped("a stalled body times out after the idle timeout (TestClock) and is resumed", () =>
    Effect.gen(function* () {
      const { bytes, emulator, file } = yield* firstFile
      const client = yield* ExportsClient.ExportsClient
      yield* emulator.script("storage", Emulator.Reply.stallAfter(100))
      const fiber = yield* Effect.fork(Stream.runCollect(client.download(file.id)))
      yield* eventually(
        Effect.map(emulator.openConnections, (c) => c.storage === 1),
        "storage connection open"
      )
      yield* awaitSleep(Duration.seconds(30))
      yield* TestClock.adjust("29 seconds")
      assert.isNull(fiber.unsafePoll())
      yield* TestClock.adjust("1 second")
      const received = yield* Fiber.join(fiber) // no backoff: the resume starts at once
      assert.deepStrictEqual(Buffer.concat(Chunk.toArray(received)), Buffer.from(bytes))
      assert.deepStrictEqual(
        (yield* storageRequests(emulator)).map((r) => r.headers["range"]),
        [undefined, "bytes=100-"]
      )
    }).pipe(Effect.provide(layer({ timeouts: { request: "1 hour" }, retry: { baseDelay: "0 millis" } })))
  )

  it.scoped("with no resume budget, a stalled body fails with RequestTimeout and closes its connection", () =>
    Effect.gen(function* () {
      const { emulator, file } = yield* firstFile
      const client = yield* ExportsClient.ExportsClient
      yield* emulator.script("storage", Emulator.Reply.stallAfter(100))
      const fiber = yield* Effect.fork(Effect.flip(Stream.runDrain(client.download(file.id))))
      yield* eventually(
        Effect.map(emulator.openConnections, (c) => c.storage === 1),
        "storage connection open"
      )
      yield* Testing.elapse("30 seconds")
      const error = yield* Fiber.join(fiber)
      assert.instanceOf(error, ClientError.RequestTimeout)
      assert.strictEqual(error.message, "GET storage timed out after 30s")
      yield* eventually(
        Effect.map(emulator.openConnections, (c) => c.storage === 0),
        "storage connection closed"
      )
    }).pipe(Effect.provide(layer({ retry: { maxRetries: 0 } })))
  )

  it.scoped("the signed link is redacted in every representation", () =>
    Effect.gen(function* () {
      const { file } = yield* firstFile
      const client = yield* ExportsClient.ExportsClient
      const link = yield* client.downloadLink(file.id)
      const url = Redacted.value(link.url)
      const signature = url.searchParams.get("signature")!
      assert.isString(signature)
      for (const shown of [String(link), JSON.stringify(link), JSON.stringify({ link }), `${link.url}`]) {
        assert.notInclude(shown, signature)
      }
    }).pipe(Effect.provide(layer()))
  )
})
