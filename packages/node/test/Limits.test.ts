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
import { within } from "./support/deadline.js"
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

/** Chunked (no Content-Length), identity: `size` bytes, or never ending. */
const chunked =
  (size = Infinity): Handler =>
  (_, response) => {
    response.writeHead(200, { "content-type": "application/json", etag: '"chunked"' })
    pour(response, Buffer.alloc(64 * 1024, "a"), size)
  }

/** With the ceiling at 1 MiB: the bytes a download of `FILE` received, or how it failed. */
const received = (api: Hostile, options?: ExportsClient.DownloadOptions) =>
  withClient(api, (client) => Stream.runFold(client.download(FILE, options), 0, (n, chunk) => n + chunk.length), {
    limits: { maxDownloadBytes: MiB }
  })

describe("limits.maxDownloadBytes: the ceiling when no bound is given", () => {
  it.scoped("an endless identity body stops with DownloadTooLarge naming the setting, after about the ceiling", () =>
    Effect.gen(function* () {
      const { api, storage } = yield* behindApi(chunked())
      const error = yield* Effect.flip(received(api)).pipe(within("the default ceiling on an identity body"))
      assert.instanceOf(error, ExportError.DownloadTooLarge)
      assert.strictEqual(error.maxBytes, MiB)
      assert.strictEqual(error.setting, "limits.maxDownloadBytes")
      assert.include(error.message, "limits.maxDownloadBytes")
      assert.isBelow(storage.written(), 32 * MiB)
    })
  )

  it.scoped("exactly the ceiling passes; one byte more fails", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* received((yield* behindApi(chunked(MiB))).api), MiB)
      const error = yield* Effect.flip(received((yield* behindApi(chunked(MiB + 1))).api))
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
      const error = yield* Effect.flip(received(api)).pipe(within("the default ceiling on a gzip body"))
      assert.instanceOf(error, ExportError.DownloadTooLarge)
      assert.strictEqual(error.setting, "limits.maxDownloadBytes")
    })
  )

  it.scoped("the caller's maxBytes replaces the ceiling, above it as below it", () =>
    Effect.gen(function* () {
      const { api } = yield* behindApi(chunked(2 * MiB))
      assert.strictEqual(yield* received(api, { maxBytes: 3 * MiB }), 2 * MiB)
      const below = yield* Effect.flip(received(api, { maxBytes: MiB / 2 }))
      assert.instanceOf(below, ExportError.DownloadTooLarge)
      assert.strictEqual(below.maxBytes, MiB / 2)
      assert.isUndefined(below.setting)
      assert.include(below.message, "(maxBytes)")
    })
  )

  it.scoped("Batch's files[].size bounds the body instead of the ceiling", () =>
    Effect.gen(function* () {
      const { api } = yield* behindApi(chunked(2 * MiB))
      assert.strictEqual(yield* received(api, { expectedSize: 2 * MiB }), 2 * MiB)
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
  const cases = [
    { option: "maxRecordBytes", limit: 100, body: ndjson(3, 500), records: 3, what: "a record past it" },
    {
      option: "maxDecompressedBytes",
      limit: 1000,
      body: Zlib.gzipSync(ndjson(200, 100)),
      records: 200,
      what: "a gzip file inflating past it"
    }
  ] as const
  for (const { body, limit, option, records, what } of cases) {
    it.scoped(`${option}: ${what} fails; without it, the same file decodes`, () =>
      Effect.gen(function* () {
        const { api } = yield* fileWorld(body)
        const options = { [option]: limit }
        for (const read of [
          (client: ExportsClient.Service) => client.fileRecords(FILE, options),
          (client: ExportsClient.Service) => client.records(EXPORT_ID, options)
        ]) {
          const error = yield* Effect.flip(withClient(api, (client) => Stream.runDrain(read(client))))
          assert.instanceOf(error, Records.RecordDecodeError)
          assert.include(error.message, option)
        }
        assert.strictEqual(yield* withClient(api, (client) => Stream.runCount(client.fileRecords(FILE))), records)
        assert.strictEqual(yield* withClient(api, (client) => Stream.runCount(client.records(EXPORT_ID))), records)
      })
    )
  }
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
