/**
 * The bounds a hostile server meets: the default ceiling on a download no bound covers, the record options
 * passed through to the decoder, and a `listAll` cursor that comes back to where it started.
 */
import * as Zlib from "node:zlib"
import { ClientError, ExportError, Records } from "@batch-export/core"
import { BatchExport, type BatchConfig, ExportsClient } from "@batch-export/node"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { within } from "./support/harness.js"
import {
  behindApi,
  EXPORT_ID,
  exportJson,
  type Handler,
  type Hostile,
  json,
  KEY,
  PROJECT,
  pour,
  serve
} from "./support/hostile.js"

const MiB = 1024 * 1024
const FILE = "file_hostile1"

const onApi = (api: Hostile, options?: Partial<BatchConfig.Options>) =>
  BatchExport.layer({ restApiKey: KEY, projectKey: PROJECT, baseUrl: api.url, ...options })

/** Runs `f` with the client on `api`. */
const withClient = <A, E>(
  api: Hostile,
  f: (client: ExportsClient.Service) => Effect.Effect<A, E>,
  options?: Partial<BatchConfig.Options>
) => Effect.flatMap(ExportsClient.ExportsClient, f).pipe(Effect.provide(onApi(api, options)))

/** Chunked (no Content-Length), identity, never ending. */
const endless: Handler = (_, response) => {
  response.writeHead(200, { "content-type": "application/json", etag: '"endless"' })
  pour(response, Buffer.alloc(64 * 1024, "a"))
}

describe("limits.maxDownloadBytes: the ceiling when no bound is given", () => {
  it.scoped("an endless identity body stops with DownloadTooLarge naming the setting, after about the ceiling", () =>
    Effect.gen(function* () {
      const { api, storage } = yield* behindApi(endless)
      const error = yield* Effect.flip(
        withClient(api, (client) => Stream.runDrain(client.download(FILE)), { limits: { maxDownloadBytes: MiB } })
      ).pipe(within("the default ceiling on an identity body"))
      assert.instanceOf(error, ExportError.DownloadTooLarge)
      assert.strictEqual(error.maxBytes, MiB)
      assert.strictEqual(error.setting, "limits.maxDownloadBytes")
      assert.include(error.message, "limits.maxDownloadBytes")
      assert.isBelow(storage.written(), 32 * MiB)
    })
  )

  it.scoped("exactly the ceiling passes; one byte more fails at that byte", () =>
    Effect.gen(function* () {
      const { api } = yield* behindApi((request, response) => {
        const size = request.url?.includes("file_over") ? MiB + 1 : MiB
        response.writeHead(200, { "content-type": "application/json" })
        pour(response, Buffer.alloc(64 * 1024, "b"), size)
      })
      const options = { limits: { maxDownloadBytes: MiB } }
      const count = (fileId: string) =>
        withClient(api, (client) => Stream.runFold(client.download(fileId), 0, (n, chunk) => n + chunk.length), options)
      assert.strictEqual(yield* count("file_exact"), MiB)
      const error = yield* Effect.flip(count("file_over"))
      assert.instanceOf(error, ExportError.DownloadTooLarge)
    })
  )

  it.scoped("a gzip body decoding past the ceiling fails the same way", () =>
    Effect.gen(function* () {
      const bomb = Zlib.gzipSync(Buffer.alloc(8 * MiB), { level: 9 })
      const { api } = yield* behindApi((_, response) => {
        response.writeHead(200, { "content-encoding": "gzip", "content-length": String(bomb.length) })
        response.end(bomb)
      })
      const error = yield* Effect.flip(
        withClient(api, (client) => Stream.runDrain(client.download(FILE)), { limits: { maxDownloadBytes: MiB } })
      ).pipe(within("the default ceiling on a gzip body"))
      assert.instanceOf(error, ExportError.DownloadTooLarge)
      assert.strictEqual(error.setting, "limits.maxDownloadBytes")
    })
  )

  it.scoped("the caller's maxBytes replaces the ceiling, above it as below it", () =>
    Effect.gen(function* () {
      const { api } = yield* behindApi((_, response) => {
        response.writeHead(200, { "content-type": "application/json" })
        pour(response, Buffer.alloc(64 * 1024, "c"), 2 * MiB)
      })
      const options = { limits: { maxDownloadBytes: MiB } }
      const above = yield* withClient(
        api,
        (client) => Stream.runFold(client.download(FILE, { maxBytes: 3 * MiB }), 0, (n, c) => n + c.length),
        options
      )
      assert.strictEqual(above, 2 * MiB)
      const below = yield* Effect.flip(
        withClient(api, (client) => Stream.runDrain(client.download(FILE, { maxBytes: MiB / 2 })), options)
      )
      assert.instanceOf(below, ExportError.DownloadTooLarge)
      assert.strictEqual(below.maxBytes, MiB / 2)
      assert.isUndefined(below.setting)
      assert.include(below.message, "(maxBytes)")
    })
  )

  it.scoped("Batch's files[].size bounds the body instead of the ceiling", () =>
    Effect.gen(function* () {
      const { api } = yield* behindApi((_, response) => {
        response.writeHead(200, { "content-type": "application/json" })
        pour(response, Buffer.alloc(64 * 1024, "d"), 2 * MiB)
      })
      const options = { limits: { maxDownloadBytes: MiB } }
      const whole = yield* withClient(
        api,
        (client) => Stream.runFold(client.download(FILE, { expectedSize: 2 * MiB }), 0, (n, c) => n + c.length),
        options
      )
      assert.strictEqual(whole, 2 * MiB)
    })
  )
})

/** NDJSON: `count` records of about `size` bytes each. */
const ndjson = (count: number, size: number) =>
  Buffer.from(
    Array.from(
      { length: count },
      (_, i) => JSON.stringify({ identifiers: { custom_id: `c${i}` }, pad: "x".repeat(size) }) + "\n"
    ).join("")
  )

/** A hostile export of one file, whose body is `body`, sent as identity bytes. */
const fileWorld = (body: Buffer) =>
  behindApi(
    (_, response) => {
      response.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(body.length) })
      response.end(body)
    },
    [{ id: FILE, part: 1, size: body.length }]
  )

describe("records and fileRecords pass their options to the decoder", () => {
  const big = ndjson(3, 500)
  const zipped = Zlib.gzipSync(ndjson(200, 100))

  it.scoped("maxRecordBytes: a record past it fails; without it, the same file decodes", () =>
    Effect.gen(function* () {
      const { api } = yield* fileWorld(big)
      for (const read of [
        (client: ExportsClient.Service) => client.fileRecords(FILE, { maxRecordBytes: 100 }),
        (client: ExportsClient.Service) => client.records(EXPORT_ID, { maxRecordBytes: 100 })
      ]) {
        const error = yield* Effect.flip(withClient(api, (client) => Stream.runDrain(read(client))))
        assert.instanceOf(error, Records.RecordDecodeError)
        assert.include(error.message, "maxRecordBytes")
      }
      assert.strictEqual(yield* withClient(api, (client) => Stream.runCount(client.fileRecords(FILE))), 3)
      assert.strictEqual(yield* withClient(api, (client) => Stream.runCount(client.records(EXPORT_ID))), 3)
    })
  )

  it.scoped("maxDecompressedBytes: a gzip file inflating past it fails; without it, the same file decodes", () =>
    Effect.gen(function* () {
      const { api } = yield* fileWorld(zipped)
      for (const read of [
        (client: ExportsClient.Service) => client.fileRecords(FILE, { maxDecompressedBytes: 1000 }),
        (client: ExportsClient.Service) => client.records(EXPORT_ID, { maxDecompressedBytes: 1000 })
      ]) {
        const error = yield* Effect.flip(withClient(api, (client) => Stream.runDrain(read(client))))
        assert.instanceOf(error, Records.RecordDecodeError)
        assert.include(error.message, "maxDecompressedBytes")
      }
      assert.strictEqual(yield* withClient(api, (client) => Stream.runCount(client.fileRecords(FILE))), 200)
      assert.strictEqual(yield* withClient(api, (client) => Stream.runCount(client.records(EXPORT_ID))), 200)
    })
  )
})

describe("listAll({ from })", () => {
  it.scoped("remembers its starting cursor: a page sending it back fails after that one page", () =>
    Effect.gen(function* () {
      const api = yield* serve((_, response) =>
        json(response, { exports: [exportJson([])], has_more: true, next_from: "cursor-0" })
      )
      const error = yield* Effect.flip(
        withClient(api, (client) => Stream.runDrain(client.listAll({ from: "cursor-0" })))
      ).pipe(within("listAll's repeated-cursor guard"))
      assert.instanceOf(error, ClientError.ResponseDecodeError)
      assert.include(error.message, "next_from")
      assert.strictEqual(api.requests.length, 1, "no second page of the same cursor")
    })
  )
})
