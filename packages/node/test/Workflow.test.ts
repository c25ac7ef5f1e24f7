import { ApiError, ClientError, ExportError, Records } from "@batch-export/core"
import { Emulator } from "@batch-export/emulator"
import { ExportFiles, ExportWorkflow, ExportsClient } from "@batch-export/node"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as Path from "node:path"
import { awaitSleep, clientLayer, drive } from "./support/harness.js"

const layer = (options?: Emulator.Options) =>
  clientLayer().pipe(Layer.provideMerge(Emulator.layer(options)), Layer.merge(NodeFileSystem.layer))

const lines = (bytes: Uint8Array) =>
  Buffer.from(bytes)
    .toString("utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")

/** `/exports/view`'s answer about `exp`, with another status or other announced sizes, for a scripted reply. */
const viewBody = (
  emulator: Emulator.Service,
  exp: Emulator.ExportInfo,
  status: string,
  size: (file: Emulator.FileInfo) => number = (file) => file.size
) => ({
  id: exp.id,
  scope: "PROFILE_ATTRIBUTES",
  status,
  files: exp.files.map((file) => ({
    id: file.id,
    part: file.part,
    size: size(file),
    url: `${emulator.apiUrl}/2.10/exports/download?id=${file.id}`
  }))
})

describe("the export workflow against the emulator", () => {
  it.scoped("create → awaitCompletion → downloadAll: every part, in order, byte-exact, with a manifest", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.Emulator
      const client = yield* ExportsClient.ExportsClient
      const files = yield* ExportFiles.ExportFiles
      const fs = yield* FileSystem.FileSystem
      const id = yield* client.create({
        export_type: "ATTRIBUTES",
        attributes: ["$email_address"],
        identifiers: ["custom_id"]
      })
      assert.match(id, /^export_/)
      const seen: Array<string> = []
      const fiber = yield* Effect.fork(
        client.awaitCompletion(id, { pollInterval: "5 seconds", onPoll: (e) => Effect.sync(() => seen.push(e.status)) })
      )
      for (let i = 0; i < 3; i++) {
        yield* awaitSleep("5 seconds")
        yield* TestClock.adjust("5 seconds")
      }
      const done = yield* Fiber.join(fiber)
      assert.deepStrictEqual(seen, ["CREATED", "PENDING", "RUNNING", "SUCCESS"])
      assert.strictEqual(done.status, "SUCCESS")
      assert.strictEqual(done.files.length, 3)

      const dir = yield* fs.makeTempDirectoryScoped()
      const manifest = yield* files.downloadAll(id, Path.join(dir, "out"), { concurrency: 2 })
      assert.deepStrictEqual(
        manifest.files.map((f) => f.part),
        [1, 2, 3]
      )
      const names = (yield* fs.readDirectory(Path.join(dir, "out"))).sort()
      assert.deepStrictEqual(
        names,
        manifest.files.map((f) => Path.basename(f.path))
      )
      assert.deepStrictEqual(names, [`${id}-part-001.json`, `${id}-part-002.json`, `${id}-part-003.json`])
      const info = (yield* emulator.exports).find((e) => e.id === id)!
      for (const entry of manifest.files) {
        const expected = yield* emulator.fileBytes(entry.fileId)
        assert.deepStrictEqual(Buffer.from(yield* fs.readFile(entry.path)), Buffer.from(expected))
        assert.strictEqual(entry.bytes, info.files.find((f) => f.id === entry.fileId)!.size)
      }
    }).pipe(Effect.provide(layer({ partsPerExport: 3, recordsPerPart: 20 })))
  )

  it.scoped("records: every part in part order, decoded, in one stream; a file id alone works too", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.Emulator
      const client = yield* ExportsClient.ExportsClient
      const [exp] = yield* emulator.exports
      const records = Chunk.toReadonlyArray(yield* Stream.runCollect(client.records(exp!.id)))
      const expected: Array<Records.ProfileRecord> = []
      for (const file of [...exp!.files].sort((a, b) => a.part - b.part)) {
        for (const line of lines(yield* emulator.fileBytes(file.id))) expected.push(JSON.parse(line))
      }
      assert.strictEqual(records.length, expected.length)
      assert.deepStrictEqual(records, expected)

      const Mine = Schema.Struct({ identifiers: Schema.Struct({ custom_id: Schema.String }) })
      const ids = yield* Stream.runCollect(client.fileRecords(exp!.files[0]!.id, { schema: Mine }))
      assert.strictEqual(Chunk.size(ids), lines(yield* emulator.fileBytes(exp!.files[0]!.id)).length)
      assert.isString(Chunk.unsafeHead(ids).identifiers.custom_id)
    }).pipe(Effect.provide(layer()))
  )

  it.scoped("a record the user's schema rejects fails with part and line", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.Emulator
      const client = yield* ExportsClient.ExportsClient
      const [exp] = yield* emulator.exports
      const Strict = Schema.Struct({ attributes: Schema.Struct({ never_there: Schema.String }) })
      const error = yield* Effect.flip(Stream.runDrain(client.records(exp!.id, { schema: Strict })))
      assert.instanceOf(error, Records.RecordDecodeError)
      assert.strictEqual((error as Records.RecordDecodeError).part, 1)
      assert.strictEqual((error as Records.RecordDecodeError).line, 1)
    }).pipe(Effect.provide(layer()))
  )

  it.scoped("an export that ends in ERROR fails awaitCompletion with ExportFailed", () =>
    Effect.gen(function* () {
      const client = yield* ExportsClient.ExportsClient
      const files = yield* ExportFiles.ExportFiles
      const id = yield* client.create({
        export_type: "ATTRIBUTES",
        attributes: ["$language"],
        filter: { segment: "ERROR" }
      })
      const fiber = yield* Effect.fork(Effect.flip(client.awaitCompletion(id, { pollInterval: "1 second" })))
      for (let i = 0; i < 3; i++) {
        yield* awaitSleep("1 second")
        yield* TestClock.adjust("1 second")
      }
      const error = yield* Fiber.join(fiber)
      assert.instanceOf(error, ExportError.ExportFailed)
      const notReady = yield* Effect.flip(files.downloadAll(id, "/tmp/never-written"))
      assert.instanceOf(notReady, ExportError.ExportNotReady)
      assert.strictEqual((notReady as ExportError.ExportNotReady).status, "ERROR")
    }).pipe(Effect.provide(layer()))
  )

  it.scoped("awaitCompletion gives up at the deadline with ExportTimeout and the last status", () =>
    Effect.gen(function* () {
      const client = yield* ExportsClient.ExportsClient
      const id = yield* client.create({ export_type: "ATTRIBUTES", attributes: ["$language"] })
      const fiber = yield* Effect.fork(
        Effect.flip(client.awaitCompletion(id, { pollInterval: "10 seconds", timeout: "15 seconds" }))
      )
      yield* awaitSleep("10 seconds")
      yield* TestClock.adjust("10 seconds")
      yield* awaitSleep("10 seconds")
      yield* TestClock.adjust("5 seconds")
      const error = yield* Fiber.join(fiber)
      assert.instanceOf(error, ExportError.ExportTimeout)
      assert.strictEqual((error as ExportError.ExportTimeout).lastStatus, "CREATED")
    }).pipe(Effect.provide(layer({ pollsPerStatus: 10 })))
  )

  it.scoped("downloading a file of an unfinished export is a Conflict; downloadAll says ExportNotReady", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.Emulator
      const client = yield* ExportsClient.ExportsClient
      const files = yield* ExportFiles.ExportFiles
      const running = (yield* emulator.exports).find((e) => e.status === "RUNNING")!
      const conflict = yield* Effect.flip(client.downloadLink(running.files[0]!.id))
      assert.instanceOf(conflict, ApiError.Conflict)
      const notReady = yield* Effect.flip(files.downloadAll(running.id, "/tmp/never-written"))
      assert.instanceOf(notReady, ExportError.ExportNotReady)
      const records = yield* Effect.flip(Stream.runDrain(client.records(running.id)))
      assert.instanceOf(records, ExportError.ExportNotReady)
    }).pipe(Effect.provide(layer({ exports: [{ parts: 1 }, { status: "RUNNING", parts: 2 }] })))
  )

  it.scoped("list pages and listAll follow next_from cursors lazily", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.Emulator
      const client = yield* ExportsClient.ExportsClient
      const page = yield* client.list({ limit: 2 })
      assert.strictEqual(page.exports.length, 2)
      assert.isTrue(page.hasMore)
      const all = Chunk.toReadonlyArray(yield* Stream.runCollect(client.listAll({ pageSize: 2 })))
      const known = yield* emulator.exports
      assert.strictEqual(all.length, known.length)
      assert.deepStrictEqual(new Set(all.map((e) => e.id)), new Set(known.map((e) => e.id)))
      yield* emulator.clearRequests
      yield* Stream.runDrain(Stream.take(client.listAll({ pageSize: 2 }), 3))
      const lists = (yield* emulator.requests).filter((r) => r.path.endsWith("/exports/list"))
      assert.strictEqual(lists.length, 2)
      assert.strictEqual(lists[1]?.query["from"], page.nextFrom)
    }).pipe(Effect.provide(layer({ exports: [{ parts: 1 }, { parts: 1 }, { parts: 1 }, { parts: 1 }, { parts: 1 }] })))
  )

  it.scoped("bad input is rejected before any request, with a message saying what is wrong", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.Emulator
      const client = yield* ExportsClient.ExportsClient
      const files = yield* ExportFiles.ExportFiles
      const attempts: ReadonlyArray<Effect.Effect<unknown, ExportsClient.AwaitError | ExportFiles.DownloadAllError>> = [
        client.create({ export_type: "ATTRIBUTES" } as never),
        client.create({ export_type: "EVENTS", from: "2026-12-01T00:00:00Z", to: "2026-01-01T00:00:00Z" }),
        client.view("file_abc"),
        client.view("export_a b"),
        client.list({ limit: 0 }),
        client.list({ limit: 101 }),
        client.awaitCompletion("nope"),
        files.downloadAll("export_x/../y", "/tmp/x"),
        files.downloadAll("export_abc", "/tmp/x", { concurrency: 0 }),
        client.awaitCompletion("export_abc", { timeout: "soon" as never }),
        client.awaitCompletion("export_abc", { pollInterval: -5 })
      ]
      for (const attempt of attempts) {
        const error = yield* Effect.flip(attempt)
        assert.instanceOf(error, ClientError.InvalidArgument)
        assert.isAbove(error.message.length, 10)
      }
      const create = yield* Effect.flip(client.create({ export_type: "ATTRIBUTES" } as never))
      assert.include(create.message, "at least one attribute or identifier")
      assert.deepStrictEqual(yield* emulator.requests, [])
    }).pipe(Effect.provide(layer()))
  )

  it.scoped(
    "API errors of view, list and create carry Batch's error_code; a non-JSON 200 is a ResponseDecodeError",
    () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.Emulator
        const client = yield* ExportsClient.ExportsClient
        const missing = yield* Effect.flip(client.view("export_doesnotexist"))
        assert.instanceOf(missing, ApiError.NotFound)
        assert.isDefined((missing as ApiError.NotFound).errorCode)
        yield* emulator.script(
          "create",
          Emulator.Reply.status(400, { body: { error_code: "MALFORMED_PARAMETER", error_message: "x" } })
        )
        const bad = yield* Effect.flip(client.create({ export_type: "ATTRIBUTES", attributes: ["a"] }))
        assert.instanceOf(bad, ApiError.BadRequest)
        assert.strictEqual((bad as ApiError.BadRequest).errorCode, "MALFORMED_PARAMETER")
        yield* emulator.script("list", Emulator.Reply.status(200, { body: "<html>maintenance</html>" }))
        const html = yield* Effect.flip(client.list())
        assert.instanceOf(html, ClientError.ResponseDecodeError)
        yield* emulator.script("view", Emulator.Reply.status(200, { body: { id: "export_abc" } }))
        const shape = yield* Effect.flip(client.view("export_abc"))
        assert.instanceOf(shape, ClientError.ResponseDecodeError)
        assert.include(shape.message, "scope")
      }).pipe(Effect.provide(layer()))
  )

  it.scoped("awaitCompletion polls on through a status it does not know, and returns the SUCCESS export", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.Emulator
      const client = yield* ExportsClient.ExportsClient
      const [exp] = yield* emulator.exports
      yield* emulator.script("view", Emulator.Reply.status(200, { body: viewBody(emulator, exp!, "ARCHIVING") }))
      const seen: Array<string> = []
      const done = yield* drive(
        client.awaitCompletion(exp!.id, {
          pollInterval: "5 seconds",
          onPoll: (e) => Effect.sync(() => seen.push(e.status))
        })
      )
      assert.deepStrictEqual(seen, ["ARCHIVING", "SUCCESS"])
      assert.strictEqual(done.status, "SUCCESS")
      assert.strictEqual(done.files.length, exp!.files.length)
    }).pipe(Effect.provide(layer()))
  )

  it.scoped("downloadAll checks each part against files[].size: a shorter body is a SizeMismatch, no file left", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.Emulator
      const files = yield* ExportFiles.ExportFiles
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const [exp] = yield* emulator.exports
      // a complete-looking answer (Content-Length: 1000, 1000 bytes): only files[].size tells it is short
      yield* emulator.script("storage", Emulator.Reply.wrongLength(1000))
      const error = yield* Effect.flip(files.downloadAll(exp!.id, dir, { concurrency: 1 }))
      assert.instanceOf(error, ExportError.SizeMismatch)
      assert.strictEqual((error as ExportError.SizeMismatch).expected, exp!.files[0]!.size)
      assert.strictEqual((error as ExportError.SizeMismatch).actual, 1000)
      assert.deepStrictEqual(yield* fs.readDirectory(dir), [])
    }).pipe(Effect.provide(layer()))
  )

  it.scoped("downloadAll stops a part at the first byte past files[].size: SizeMismatch, no file left", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.Emulator
      const files = yield* ExportFiles.ExportFiles
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const [exp] = yield* emulator.exports
      const real = exp!.files[0]!.size
      // Batch announces 1000 bytes; the storage sends the whole (1 MB) file
      yield* emulator.script(
        "view",
        Emulator.Reply.status(200, {
          body: viewBody(emulator, exp!, "SUCCESS", (file) => (file.part === 1 ? 1000 : file.size))
        })
      )
      const error = yield* Effect.flip(files.downloadAll(exp!.id, dir, { concurrency: 1 }))
      assert.instanceOf(error, ExportError.SizeMismatch)
      assert.strictEqual((error as ExportError.SizeMismatch).expected, 1000)
      // counted when the bytes past the size arrived, not at the end of the body
      assert.isAbove((error as ExportError.SizeMismatch).actual, 1000)
      assert.isBelow((error as ExportError.SizeMismatch).actual, real)
      assert.deepStrictEqual(yield* fs.readDirectory(dir), [])
    }).pipe(Effect.provide(layer({ exports: [{ parts: 2, bytesPerPart: 1_000_000 }] })))
  )

  it.scoped("view is retried on 429 like the download", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.Emulator
      const client = yield* ExportsClient.ExportsClient
      const [exp] = yield* emulator.exports
      yield* emulator.script("view", Emulator.Reply.status(429, { headers: { "retry-after": "3" } }))
      const fiber = yield* Effect.fork(client.view(exp!.id))
      yield* awaitSleep("3 seconds")
      yield* TestClock.adjust("3 seconds")
      assert.strictEqual((yield* Fiber.join(fiber)).id, exp!.id)
    }).pipe(Effect.provide(layer()))
  )
})

describe("ExportWorkflow", () => {
  it.scoped("createAndDownload and createAndStreamRecords compose the whole flow", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const request = { export_type: "ATTRIBUTES", identifiers: ["custom_id"] } as const
      const manifest = yield* drive(ExportWorkflow.createAndDownload(request, dir, { pollInterval: "1 second" }))
      assert.strictEqual(manifest.files.length, 2)
      const count = yield* drive(
        Stream.runCount(ExportWorkflow.createAndStreamRecords(request, { pollInterval: "1 second" }))
      )
      assert.strictEqual(count, 2 * 7)
    }).pipe(Effect.provide(layer({ recordsPerPart: 7 })))
  )
})

describe("awaitCompletion's poll interval", () => {
  it.scoped("under 1 second is refused before any request, the error saying the floor and why", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.Emulator
      const client = yield* ExportsClient.ExportsClient
      const [exp] = yield* emulator.exports
      for (const pollInterval of ["999 millis", 0, "1e-9 seconds"] as const) {
        const error = yield* Effect.flip(client.awaitCompletion(exp!.id, { pollInterval }))
        assert.instanceOf(error, ClientError.InvalidArgument)
        assert.strictEqual(error.argument, "pollInterval")
      }
      const error = yield* Effect.flip(client.awaitCompletion(exp!.id, { pollInterval: "999 millis" }))
      assert.include(error.message, "at least 1s: Batch rate-limits its API")
      assert.deepStrictEqual(yield* emulator.requests, [])
      // the floor itself is allowed
      assert.strictEqual((yield* client.awaitCompletion(exp!.id, { pollInterval: "1 second" })).id, exp!.id)
    }).pipe(Effect.provide(layer()))
  )
})
