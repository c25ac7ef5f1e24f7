import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import * as Zlib from "node:zlib"
import { ClientError, ExportError } from "@batch-export/core"
import { BatchConfig, BatchExport, ExportFiles, ExportsClient } from "@batch-export/node"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import { within } from "./support/deadline.js"
import { drive } from "./support/harness.js"
import {
  EXPORT_ID,
  exportJson,
  type Handler,
  type Hostile,
  json,
  KEY,
  PROJECT,
  pour,
  route,
  serve
} from "./support/hostile.js"

const MiB = 1024 * 1024
const FILE = "file_hostile1"

/** A temporary directory, removed with the scope. */
const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "hardening-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

/**
 * A hostile API (answering `view` with `files`, `/exports/download` with a redirect to the storage) and a
 * hostile storage answering with `storage`.
 */
const world = (options: {
  readonly files?: ReadonlyArray<{ readonly id: string; readonly part: number; readonly size: number }>
  readonly view?: Handler
  readonly storage?: Handler
}) =>
  Effect.gen(function* () {
    const storage = yield* serve(options.storage ?? ((_, response) => json(response, {})))
    const api = yield* serve((request, response, index) => {
      const path = route(request)
      if (path === "/exports/view" && options.view !== undefined) return options.view(request, response, index)
      if (path === "/exports/view") return json(response, exportJson(options.files ?? []))
      if (path === "/exports/download") {
        const id = new URL(request.url ?? "/", "http://x").searchParams.get("id")
        response.writeHead(302, { location: `${storage.url}/files/${id}?signature=s3cr3tSignature` })
        return response.end()
      }
      json(response, { error: "no such route" }, 404)
    })
    return { api, storage }
  })

const onApi = (api: Hostile, options?: Partial<BatchConfig.Options>) =>
  BatchExport.layer({ restApiKey: KEY, projectKey: PROJECT, baseUrl: api.url, ...options })

/** 128 MiB of zeros, ~130 KB on the wire; made once. */
let bombBytes: Buffer | undefined
const gzipBomb = () => (bombBytes ??= Zlib.gzipSync(Buffer.alloc(128 * MiB), { level: 9 }))

const heapUsed = () => {
  globalThis.gc?.()
  return process.memoryUsage().heapUsed
}

describe("hostile API answers", () => {
  it.scoped("a view body past limits.jsonBody fails naming the limit, reading only about the limit", () =>
    Effect.gen(function* () {
      // 100 MB of one JSON string, poured as fast as the client reads it
      const api = yield* serve((_, response) => {
        response.writeHead(200, { "content-type": "application/json" })
        response.write(`{"id":"${EXPORT_ID}","scope":"`)
        pour(response, Buffer.alloc(64 * 1024, "x"), 100 * MiB)
      })
      const before = heapUsed()
      const error = yield* Effect.flip(
        Effect.flatMap(ExportsClient.ExportsClient, (client) => client.view(EXPORT_ID)).pipe(
          Effect.provide(onApi(api, { limits: { jsonBody: MiB } }))
        )
      )
      assert.instanceOf(error, ClientError.ResponseDecodeError)
      assert.include(error.message, "limits.jsonBody")
      assert.include(error.message, String(MiB))
      assert.isBelow(api.written(), 20 * MiB, "the client stopped reading near the limit")
      assert.isBelow(heapUsed() - before, 32 * MiB)
    })
  )

  it.scoped("a list answer announcing a Content-Length past the limit fails before reading", () =>
    Effect.gen(function* () {
      const api = yield* serve((_, response) => {
        response.writeHead(200, { "content-type": "application/json", "content-length": String(2 * MiB) })
        // a few bytes only: the announced length alone must be refused, before waiting for the rest
        response.write(`{"exports":[`)
      })
      const error = yield* Effect.flip(
        Effect.flatMap(ExportsClient.ExportsClient, (client) => client.list()).pipe(
          Effect.provide(onApi(api, { limits: { jsonBody: MiB }, timeouts: { request: "1 hour" } }))
        )
      ).pipe(within("the Content-Length pre-check of a JSON answer"))
      assert.instanceOf(error, ClientError.ResponseDecodeError)
      assert.include(error.message, "limits.jsonBody")
    })
  )

  it.scoped("listAll stops with a typed error when next_from repeats", () =>
    Effect.gen(function* () {
      const api = yield* serve((_, response) =>
        json(response, { exports: [exportJson([])], has_more: true, next_from: "cursor-1" })
      )
      const error = yield* Effect.flip(
        Effect.flatMap(ExportsClient.ExportsClient, (client) => Stream.runDrain(client.listAll())).pipe(
          Effect.provide(onApi(api))
        )
      ).pipe(within("listAll's repeated-cursor guard"))
      assert.instanceOf(error, ClientError.ResponseDecodeError)
      assert.include(error.message, "next_from")
      assert.strictEqual(api.requests.length, 2)
    })
  )

  it.scoped("view answering about another export is InconsistentExport", () =>
    Effect.gen(function* () {
      const api = yield* serve((_, response) => json(response, exportJson([], "export_someoneelse")))
      const error = yield* Effect.flip(
        Effect.flatMap(ExportsClient.ExportsClient, (client) => client.view(EXPORT_ID)).pipe(Effect.provide(onApi(api)))
      )
      assert.instanceOf(error, ExportError.InconsistentExport)
    })
  )

  const inconsistent: ReadonlyArray<[string, ReadonlyArray<{ id: string; part: number; size: number }>]> = [
    [
      "two files with one part number",
      [
        { id: "file_a1", part: 1, size: 2 },
        { id: "file_a2", part: 1, size: 2 }
      ]
    ],
    ["a negative part", [{ id: "file_a1", part: -1, size: 2 }]]
  ]
  for (const [name, files] of inconsistent) {
    it.scoped(`downloadAll refuses ${name} with InconsistentExport, writing nothing`, () =>
      Effect.gen(function* () {
        const { api, storage } = yield* world({ files, storage: (_, response) => json(response, {}) })
        const dir = yield* tempDir
        const out = NodePath.join(dir, "out")
        const error = yield* Effect.flip(
          Effect.flatMap(ExportFiles.ExportFiles, (files) => files.downloadAll(EXPORT_ID, out)).pipe(
            Effect.provide(onApi(api))
          )
        )
        assert.instanceOf(error, ExportError.InconsistentExport)
        assert.strictEqual(storage.requests.length, 0)
        assert.isFalse(Fs.existsSync(out) && Fs.readdirSync(out).length > 0)
      })
    )
  }
})

describe("hostile storage answers", () => {
  it.scoped("more than files[].size stops downloadAll at the first byte past it and leaves no file", () =>
    Effect.gen(function* () {
      const size = 1000
      const { api, storage } = yield* world({
        files: [{ id: FILE, part: 1, size }],
        storage: (_, response) => {
          response.writeHead(200, { "content-type": "application/json" })
          pour(response, Buffer.alloc(64 * 1024, "a"), 256 * MiB)
        }
      })
      const dir = yield* tempDir
      const error = yield* Effect.flip(
        Effect.flatMap(ExportFiles.ExportFiles, (files) => files.downloadAll(EXPORT_ID, dir)).pipe(
          Effect.provide(onApi(api))
        )
      )
      assert.instanceOf(error, ExportError.SizeMismatch)
      assert.isBelow(storage.written(), 32 * MiB, "the client stopped reading")
      assert.deepStrictEqual(Fs.readdirSync(dir), [])
    })
  )

  it.scoped("downloadToFile with expectedSize stops at the first byte past it and leaves no file", () =>
    Effect.gen(function* () {
      const { api, storage } = yield* world({
        storage: (_, response) => {
          response.writeHead(200, { "content-type": "application/json" })
          pour(response, Buffer.alloc(64 * 1024, "a"), 256 * MiB)
        }
      })
      const dir = yield* tempDir
      const error = yield* Effect.flip(
        Effect.flatMap(ExportFiles.ExportFiles, (files) =>
          files.downloadToFile(FILE, NodePath.join(dir, "x.json"), { expectedSize: 10 })
        ).pipe(Effect.provide(onApi(api)))
      )
      assert.instanceOf(error, ExportError.SizeMismatch)
      assert.isBelow(storage.written(), 32 * MiB)
      assert.deepStrictEqual(Fs.readdirSync(dir), [])
    })
  )

  it.scoped("an endless chunked body with maxBytes fails with DownloadTooLarge after about maxBytes", () =>
    Effect.gen(function* () {
      const { api, storage } = yield* world({
        storage: (_, response) => {
          response.writeHead(200, { "content-type": "application/json" })
          pour(response, Buffer.alloc(64 * 1024, "a"))
        }
      })
      const dir = yield* tempDir
      const error = yield* Effect.flip(
        Effect.flatMap(ExportFiles.ExportFiles, (files) =>
          files.downloadToFile(FILE, NodePath.join(dir, "x.json"), { maxBytes: MiB })
        ).pipe(Effect.provide(onApi(api)))
      ).pipe(within("maxBytes on an endless body"))
      assert.instanceOf(error, ExportError.DownloadTooLarge)
      assert.isBelow(storage.written(), 32 * MiB)
      assert.deepStrictEqual(Fs.readdirSync(dir), [])
    })
  )

  for (const bound of ["maxBytes", "expectedSize"] as const) {
    it.scoped(`a gzip body decoding past ${bound} is a typed failure, in flat memory`, () =>
      Effect.gen(function* () {
        const bomb = gzipBomb()
        const { api } = yield* world({
          storage: (_, response) => {
            response.writeHead(200, { "content-encoding": "gzip", "content-length": String(bomb.length) })
            response.end(bomb)
          }
        })
        const before = heapUsed()
        const result = yield* Effect.flatMap(ExportsClient.ExportsClient, (client) =>
          Stream.runDrain(client.download(FILE, { [bound]: MiB }))
        ).pipe(Effect.provide(onApi(api)), Effect.either)
        assert.isTrue(Either.isLeft(result))
        assert.isBelow(heapUsed() - before, 64 * MiB)
      })
    )
  }

  it.scoped("a bad storage-side redirect names GET storage", () =>
    Effect.gen(function* () {
      const { api } = yield* world({
        storage: (_, response) => {
          response.writeHead(302, { location: "ftp://elsewhere/x" })
          response.end()
        }
      })
      const error = yield* Effect.flip(
        Effect.flatMap(ExportsClient.ExportsClient, (client) => Stream.runDrain(client.download(FILE))).pipe(
          Effect.provide(onApi(api))
        )
      )
      assert.instanceOf(error, ClientError.InvalidLocation)
      assert.strictEqual(error.endpoint, "GET storage")
      assert.include(error.message, "GET storage")
      assert.notInclude(error.message, "/exports/download")
    })
  )

  it.scoped("a storage redirect loop stops at the cap with too-many-redirects", () =>
    Effect.gen(function* () {
      const { api, storage } = yield* world({
        storage: (request, response) => {
          response.writeHead(302, { location: request.url ?? "/" })
          response.end()
        }
      })
      const error = yield* Effect.flip(
        Effect.flatMap(ExportsClient.ExportsClient, (client) => Stream.runDrain(client.download(FILE))).pipe(
          Effect.provide(onApi(api))
        )
      )
      assert.instanceOf(error, ClientError.InvalidLocation)
      assert.strictEqual(error.reason, "too-many-redirects")
      assert.strictEqual(storage.requests.length, 6)
    })
  )
})

describe("refused and reset connections on the API", () => {
  /** Destroys the socket of the first `n` requests before any answer. */
  const resetting = (n: number, answer: Handler) =>
    serve((request, response, index) => (index < n ? request.socket.destroy() : answer(request, response, index)))

  it.scoped("view is retried within the retry budget", () =>
    Effect.gen(function* () {
      const api = yield* resetting(2, (_, response) => json(response, exportJson([])))
      const exp = yield* drive(
        Effect.flatMap(ExportsClient.ExportsClient, (client) => client.view(EXPORT_ID)).pipe(
          Effect.provide(onApi(api, { timeouts: { request: "1 hour" } }))
        )
      )
      assert.strictEqual(exp.id, EXPORT_ID)
      assert.strictEqual(api.requests.length, 3)
    })
  )

  it.scoped("list and downloadLink are retried too; the budget is maxRetries", () =>
    Effect.gen(function* () {
      const api = yield* resetting(1, (request, response) =>
        route(request) === "/exports/download"
          ? (response.writeHead(302, { location: "http://127.0.0.1:1/f?signature=x" }), response.end())
          : json(response, { exports: [], has_more: false })
      )
      const layer = onApi(api, { timeouts: { request: "1 hour" }, retry: { maxRetries: 1 } })
      yield* drive(Effect.flatMap(ExportsClient.ExportsClient, (client) => client.list()).pipe(Effect.provide(layer)))
      assert.strictEqual(api.requests.length, 2)
      const link = yield* drive(
        Effect.flatMap(ExportsClient.ExportsClient, (client) => client.downloadLink(FILE)).pipe(Effect.provide(layer))
      )
      assert.strictEqual(link.fileId, FILE)
      const always = yield* resetting(100, () => undefined)
      const error = yield* drive(
        Effect.flatMap(ExportsClient.ExportsClient, (client) => Effect.flip(client.view(EXPORT_ID))).pipe(
          Effect.provide(onApi(always, { timeouts: { request: "1 hour" }, retry: { maxRetries: 2 } }))
        )
      )
      assert.instanceOf(error, ClientError.TransportError)
      assert.strictEqual(always.requests.length, 3)
    })
  )

  it.scoped("create (POST) is never retried on a reset connection", () =>
    Effect.gen(function* () {
      const api = yield* resetting(1, (_, response) => json(response, { id: EXPORT_ID }, 202))
      const error = yield* drive(
        Effect.flatMap(ExportsClient.ExportsClient, (client) =>
          Effect.flip(client.create({ export_type: "ATTRIBUTES", identifiers: ["custom_id"] }))
        ).pipe(Effect.provide(onApi(api, { timeouts: { request: "1 hour" } })))
      )
      assert.instanceOf(error, ClientError.TransportError)
      assert.strictEqual(api.requests.length, 1)
    })
  )
})
