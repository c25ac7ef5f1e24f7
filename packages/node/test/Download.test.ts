import { ApiError, ClientError } from "@batch-export/core"
import { Emulator, Testing } from "@batch-export/emulator"
import { BatchExport, ExportFiles, ExportsClient } from "@batch-export/node"
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as Path from "node:path"
import { within } from "./support/deadline.js"
import { awaitSleep, clientLayer, drive, eventually, onTransport } from "./support/harness.js"
import * as HeldStorage from "./support/heldStorage.js"

const firstFile = Effect.gen(function* () {
  const emulator = yield* Emulator.Emulator
  const [exp] = yield* emulator.exports
  const file = exp!.files[0]!
  return { emulator, file, bytes: yield* emulator.fileBytes(file.id) }
})

const layer = (options?: Parameters<typeof clientLayer>[0]) =>
  clientLayer(options).pipe(Layer.provideMerge(Emulator.layer()), Layer.merge(NodeFileSystem.layer))

/** Body of the files `HeldStorage` serves: lines of JSON, 5000 bytes. */
const BODY = new TextEncoder().encode(
  Array.from({ length: 100 }, (_, i) => JSON.stringify({ line: i, pad: "x".repeat(30) }).padEnd(49, " ") + "\n").join(
    ""
  )
)

/**
 * An emulator whose `/exports/download` redirects to `storage` (each link carrying its `expires`), and the
 * client on it; timeouts out of the way, no backoff before a resume.
 */
const behind = (storage: HeldStorage.HeldStorage) =>
  Effect.gen(function* () {
    const emulator = yield* Emulator.make({
      location: (file, expires) => `${storage.url}/files/${file.id}?expires=${expires}`
    }).pipe(Effect.orDie)
    const context = yield* Layer.build(
      BatchExport.layer({
        restApiKey: emulator.restApiKey,
        projectKey: emulator.projectKey,
        baseUrl: emulator.apiUrl,
        timeouts: { request: "1 hour", idle: "1 hour" },
        retry: { baseDelay: "0 millis" }
      })
    ).pipe(Effect.orDie)
    const [exp] = yield* emulator.exports
    return {
      emulator,
      fileId: exp!.files[0]!.id,
      client: Context.get(context, ExportsClient.ExportsClient),
      files: Context.get(context, ExportFiles.ExportFiles)
    }
  })

/** `ExportFiles`' temporary name for `out.ndjson`, beside it. */
const TEMPORARY = /^\.out\.ndjson\.[0-9a-z]+\.partial$/

const downloadCalls = (emulator: Emulator.Service) =>
  Effect.map(emulator.requests, (all) => all.filter((r) => r.origin === "api" && r.path.endsWith("/exports/download")))

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

  it.scoped("a pull takes every buffer that arrived in the same turn: chunks of several socket reads", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make({ exports: [{ parts: 1, bytesPerPart: 8 * 1024 * 1024 }] }).pipe(
        Effect.orDie
      )
      const context = yield* Layer.build(
        BatchExport.layer({
          restApiKey: emulator.restApiKey,
          projectKey: emulator.projectKey,
          baseUrl: emulator.apiUrl
        })
      ).pipe(Effect.orDie)
      const [exp] = yield* emulator.exports
      const file = exp!.files[0]!
      const buffersPerChunk = yield* Context.get(context, ExportsClient.ExportsClient)
        .download(file.id)
        .pipe(
          Stream.mapChunks((chunk) => Chunk.of(chunk.length)),
          Stream.runCollect
        )
      // woken at the first read of each turn, every chunk would hold exactly one buffer
      assert.isAbove(Math.max(...buffersPerChunk), 1)
    })
  )

  it.scoped("downloadToFile writes the exact bytes atomically and reports progress", () =>
    Effect.gen(function* () {
      const { bytes, file } = yield* firstFile
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const destination = Path.join(dir, "part-1.ndjson")
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
      // Option.none() and Option.some(n) are deepStrictEqual to each other: compare the value itself
      const total = progress.at(-1)?.total
      assert.isTrue(total !== undefined && Option.isSome(total), "the size announced by the storage")
      assert.strictEqual(total === undefined ? undefined : Option.getOrUndefined(total), bytes.length)
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

  it.scoped("a closed port is a TransportError once the retries are spent", () =>
    Effect.gen(function* () {
      const client = yield* ExportsClient.ExportsClient
      const error = yield* Effect.flip(drive(client.downloadLink("file_abc")))
      assert.instanceOf(error, ClientError.TransportError)
    }).pipe(
      Effect.provide(
        BatchExport.layer({
          restApiKey: "k_1",
          projectKey: "project_x",
          baseUrl: "http://127.0.0.1:9",
          retry: { maxRetries: 2 },
          timeouts: { request: "1 hour", idle: "1 hour" }
        })
      )
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

  for (const status of [401, 410] as const) {
    it.scoped(`a signed link refused with ${status} is renewed: a second link, then byte-exact`, () =>
      Effect.gen(function* () {
        const { bytes, emulator, file } = yield* firstFile
        const client = yield* ExportsClient.ExportsClient
        yield* emulator.script("storage", Emulator.Reply.status(status))
        const received = yield* Stream.runCollect(client.download(file.id))
        assert.deepStrictEqual(Buffer.concat(Chunk.toArray(received)), Buffer.from(bytes))
        assert.deepStrictEqual(
          (yield* emulator.requests).map((r) => r.origin),
          ["api", "storage", "api", "storage"]
        )
      }).pipe(Effect.provide(layer({ retry: { maxRetries: 0 } })))
    )
  }

  it.scoped(
    "a resume 19 min 40 s into the link's 20-minute life asks for a new link before going back to storage",
    () =>
      Effect.gen(function* () {
        const storage = yield* HeldStorage.start({ bytes: BODY, cuts: [1000] })
        const { client, emulator, fileId } = yield* behind(storage)
        let received = 0
        const fiber = yield* Effect.fork(
          Stream.runCollect(
            client.download(fileId).pipe(
              Stream.tap((part) =>
                Effect.sync(() => {
                  received += part.length
                })
              )
            )
          )
        )
        yield* eventually(
          Effect.map(storage.held, (held) => held === 1 && received === 1000),
          "1000 bytes received"
        )
        // the link (minted at 0 for 20 minutes) still works, but has less than the 30 s margin left
        yield* TestClock.adjust(Duration.seconds(19 * 60 + 40))
        yield* storage.cut
        const all = yield* Fiber.join(fiber)
        assert.deepStrictEqual(Buffer.concat(Chunk.toArray(all)), Buffer.from(BODY))
        assert.strictEqual((yield* downloadCalls(emulator)).length, 2)
        // each link carries its own expiry: the resume used the one minted at 19 min 40 s
        assert.deepStrictEqual(
          (yield* storage.requests).map((r) => [new URL(r.url, storage.url).searchParams.get("expires"), r.range]),
          [
            ["1200", undefined],
            [String(1180 + 1200), "bytes=1000-"]
          ]
        )
      })
  )

  it.scoped("a connection dropped mid-body is resumed with Range + If-Range and ends byte-exact", () =>
    Effect.gen(function* () {
      const storage = yield* HeldStorage.start({ bytes: BODY, cuts: [1000, 1000] })
      const { fileId, files } = yield* behind(storage)
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const destination = Path.join(dir, "out.ndjson")
      let written = 0
      const fiber = yield* Effect.fork(
        files.downloadToFile(fileId, destination, {
          onProgress: (p) =>
            Effect.sync(() => {
              written = p.bytes
            })
        })
      )
      // each cut comes once the client has the bytes sent before it: the resume offset is known
      for (const offset of [1000, 2000]) {
        yield* eventually(
          Effect.map(storage.held, (held) => held === 1 && written === offset),
          `${offset} bytes written`
        )
        yield* storage.cut
      }
      const done = yield* Fiber.join(fiber)
      assert.strictEqual(done.bytes, BODY.length)
      assert.deepStrictEqual(Buffer.from(yield* fs.readFile(destination)), Buffer.from(BODY))
      assert.deepStrictEqual(
        (yield* storage.requests).map((r) => [r.range, r.ifRange]),
        [
          [undefined, undefined],
          ["bytes=1000-", storage.etag],
          ["bytes=2000-", storage.etag]
        ]
      )
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scoped("when resume attempts run out, the drop fails typed and leaves no file", () =>
    Effect.gen(function* () {
      const { emulator, file } = yield* firstFile
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
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
      const files = yield* ExportFiles.ExportFiles
      yield* emulator.script("storage", Emulator.Reply.stallAfter(2000))
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        files.downloadToFile(file.id, Path.join(dir, "out.ndjson"), {
          onProgress: (p) => (p.bytes >= 2000 ? Deferred.succeed(started, undefined) : Effect.void)
        })
      )
      yield* Deferred.await(started)
      // beside the download's lock (`internal/lock.ts`)
      const [temporary, ...others] = (yield* fs.readDirectory(dir)).filter((name) => name !== ".out.ndjson.lock")
      assert.match(temporary ?? "", TEMPORARY) // the temporary file exists while downloading
      assert.deepStrictEqual(others, [])
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

  it.scoped(
    "atomic write: while downloading only a temporary file exists; a failed download leaves the old file as it was",
    () =>
      Effect.gen(function* () {
        const { emulator, file } = yield* firstFile
        const fs = yield* FileSystem.FileSystem
        const dir = yield* fs.makeTempDirectoryScoped()
        const files = yield* ExportFiles.ExportFiles
        const destination = Path.join(dir, "out.ndjson")

        yield* emulator.script("storage", Emulator.Reply.stallAfter(2000))
        const started = yield* Deferred.make<void>()
        const fiber = yield* Effect.fork(
          files.downloadToFile(file.id, destination, {
            onProgress: (p) => (p.bytes >= 2000 ? Deferred.succeed(started, undefined) : Effect.void)
          })
        )
        yield* Deferred.await(started)
        assert.isFalse(yield* fs.exists(destination), "the destination exists before the download is complete")
        const [temporary, ...others] = (yield* fs.readDirectory(dir)).filter((name) => name !== ".out.ndjson.lock")
        assert.match(temporary ?? "", TEMPORARY)
        assert.deepStrictEqual(others, [])
        assert.strictEqual(Number((yield* fs.stat(Path.join(dir, temporary!))).size), 2000)
        yield* Fiber.interrupt(fiber)

        yield* fs.writeFileString(destination, "the previous export\n")
        yield* emulator.script("storage", Emulator.Reply.dropAfter(2000))
        const error = yield* Effect.flip(files.downloadToFile(file.id, destination))
        assert.instanceOf(error, ClientError.TransportError)
        assert.strictEqual(yield* fs.readFileString(destination), "the previous export\n")
        assert.deepStrictEqual(yield* fs.readDirectory(dir), ["out.ndjson"])
      }).pipe(Effect.provide(layer({ retry: { maxRetries: 0 } })))
  )

  it.scoped("a file opened and left unread holds no connection once its scope closes", () =>
    Effect.gen(function* () {
      const { emulator, file } = yield* firstFile
      const client = yield* ExportsClient.ExportsClient
      const opened = yield* Effect.scoped(
        Effect.tap(client.open(file.id), () =>
          eventually(
            Effect.map(emulator.openConnections, (c) => c.storage === 1),
            "storage connection open"
          )
        )
      )
      // `opened` (and through it the response) stays reachable: only the scope, not garbage collection,
      // can have released the connection
      yield* eventually(
        Effect.map(emulator.openConnections, (c) => c.storage === 0),
        "storage connection closed"
      )
      assert.strictEqual(opened.fileId, file.id)
      assert.strictEqual(Option.getOrUndefined(opened.total), file.size)
    }).pipe(
      Effect.provide(
        // larger than what the transport buffers: unread, the body keeps the connection busy
        clientLayer().pipe(Layer.provideMerge(Emulator.layer({ exports: [{ parts: 1, bytesPerPart: 4_000_000 }] })))
      )
    )
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
      // no backoff: the resume starts at once
      const received = yield* Fiber.join(fiber).pipe(within("the idle timeout's abort of the stalled request"))
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
      const error = yield* Fiber.join(fiber).pipe(within("the idle timeout's abort of the stalled request"))
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

describe("ExportsClient over an in-memory transport", () => {
  it.effect("a gzip answer that announces bytes but ends with none fails; it is never an empty file", () =>
    Effect.gen(function* () {
      // an answer whose connection died before the first read ends cleanly, with no byte, on undici: only its
      // Content-Length tells it from an empty file (the encoded length: the decoded one is unknown)
      const transport = HttpClient.make((request, url) =>
        Effect.succeed(
          HttpClientResponse.fromWeb(
            request,
            url.pathname.endsWith("/exports/download")
              ? new Response(null, { status: 307, headers: { location: "http://storage.test/f?sig=1" } })
              : new Response(new Uint8Array(0), {
                  status: 200,
                  headers: { "content-encoding": "gzip", "content-length": "1000", etag: '"v1"' }
                })
          )
        )
      )
      const error = yield* Effect.flatMap(ExportsClient.ExportsClient, (client) =>
        Effect.flip(Stream.runCollect(client.download("file_abc")))
      ).pipe(
        Effect.provide(
          onTransport(transport, { restApiKey: "key_1", projectKey: "project_abc", baseUrl: "http://api.test" })
        )
      )
      assert.strictEqual(error._tag, "TransportError")
      assert.include(error.message, "ended after 0 of 1000 bytes")
    })
  )

  it.effect(
    "a body that ends cleanly short of its Content-Length is resumed from its last byte, never taken whole",
    () =>
      Effect.gen(function* () {
        const text = new TextDecoder().decode(BODY.subarray(0, 100)) // ASCII: a character is a byte
        const ranges: Array<string | undefined> = []
        // Content-Length: 100, then 50 bytes and a clean end: no socket error, only the length tells
        const transport = HttpClient.make((request, url) => {
          const answer = (status: number, headers: Record<string, string>, body: string | null = null) =>
            Effect.succeed(HttpClientResponse.fromWeb(request, new Response(body, { status, headers })))
          if (url.pathname.endsWith("/exports/download"))
            return answer(307, { location: "http://storage.test/f?sig=1" })
          const range = request.headers["range"]
          ranges.push(range)
          const common = { etag: '"v1"', "accept-ranges": "bytes" }
          if (range === undefined) return answer(200, { ...common, "content-length": "100" }, text.slice(0, 50))
          const start = Number(/^bytes=(\d+)-$/.exec(range)?.[1] ?? 0)
          return answer(
            206,
            { ...common, "content-length": String(100 - start), "content-range": `bytes ${start}-99/100` },
            text.slice(start)
          )
        })
        const received = yield* Effect.flatMap(ExportsClient.ExportsClient, (client) =>
          Stream.runCollect(client.download("file_abc"))
        ).pipe(
          Effect.provide(
            onTransport(transport, {
              restApiKey: "key_1",
              projectKey: "project_abc",
              baseUrl: "http://api.test",
              retry: { baseDelay: "0 millis" }
            })
          )
        )
        assert.strictEqual(Buffer.concat(Chunk.toArray(received)).toString("latin1"), text)
        assert.deepStrictEqual(ranges, [undefined, "bytes=50-"])
      })
  )
})
