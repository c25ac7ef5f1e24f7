/**
 * The checks a resume makes before it appends: the answer continues the same object (its strong `ETag` is the
 * one saved) from the byte asked for (`Content-Range`). A storage that ignores `If-Range`, or answers from
 * elsewhere, must make the client start over from byte 0, never save old bytes followed by other bytes.
 */
import { ExportError } from "@batch-export/core"
import { Emulator } from "@batch-export/emulator"
import { BatchExport, ExportFiles, ExportsClient } from "@batch-export/node"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import * as Path from "node:path"
import { within } from "./support/deadline.js"
import { clientLayer, eventually } from "./support/harness.js"
import { behindApi, KEY, PROJECT } from "./support/hostile.js"

/** No retry and no resume within a run: a stalled body fails the run after the idle timeout, keeping its bytes. */
const layer = Layer.merge(
  clientLayer({ retry: { maxRetries: 0 }, timeouts: { request: "1 hour", idle: "10 seconds" } }).pipe(
    Layer.provideMerge(Emulator.layer())
  ),
  NodeFileSystem.layer
)

/** Where the first run is cut: well inside the file. */
const CUT = 1000

/**
 * A first run cut after `CUT` bytes (a stalled body), which keeps `.partial` + `.partial.state`; then a second
 * run, resumable, whose storage answers are `replies`. Returns what the second run saved, and the storage
 * requests it made.
 */
const resumedRun = (...replies: ReadonlyArray<Emulator.Reply.Reply>) =>
  Effect.gen(function* () {
    const emulator = yield* Emulator.Emulator
    const files = yield* ExportFiles.ExportFiles
    const fs = yield* FileSystem.FileSystem
    const [exp] = yield* emulator.exports
    const file = exp!.files[0]!
    const dir = yield* fs.makeTempDirectoryScoped()
    const destination = Path.join(dir, "out.ndjson")
    yield* emulator.script("storage", Emulator.Reply.stallAfter(CUT))
    const first = yield* Effect.fork(Effect.flip(files.downloadToFile(file.id, destination, { resume: true })))
    yield* eventually(
      fs.stat(Path.join(dir, ".out.ndjson.partial")).pipe(
        Effect.map((info) => Number(info.size) === CUT),
        Effect.orElseSucceed(() => false)
      ),
      `${CUT} bytes in the partial`
    )
    yield* TestClock.adjust("10 seconds")
    assert.strictEqual((yield* Fiber.join(first))._tag, "RequestTimeout")
    yield* emulator.clearRequests
    yield* emulator.script("storage", ...replies)
    const done = yield* files.downloadToFile(file.id, destination, { resume: true }).pipe(within("the resumed run"))
    const requests = (yield* emulator.requests).filter((r) => r.origin === "storage")
    return {
      emulator,
      fileId: file.id,
      done,
      saved: yield* fs.readFile(destination),
      left: yield* fs.readDirectory(dir),
      requests: requests.map((r) => [r.headers["range"], r.headers["if-range"]])
    }
  })

// each test on an emulator of its own: a reply a failed test left scripted must not reach the next one
describe("the first request of a resumed run", () => {
  it.scoped("a 206 under another ETag (the storage ignores If-Range) starts over from byte 0", () =>
    Effect.gen(function* () {
      // the object changed for good: the resume's 206 is a slice of it, and so is every later answer
      const run = yield* resumedRun(Emulator.Reply.changedIgnoringIfRange(), Emulator.Reply.changedContent())
      const changed = yield* run.emulator.fileBytes(run.fileId, { changed: true })
      assert.deepStrictEqual(Buffer.from(run.saved), Buffer.from(changed), "the new object, whole")
      assert.strictEqual(run.done.bytes, changed.length)
      assert.strictEqual(run.requests.length, 2)
      assert.strictEqual(run.requests[0]![0], `bytes=${CUT}-`)
      assert.isString(run.requests[0]![1])
      assert.deepStrictEqual(run.requests[1], [undefined, undefined], "started over: no Range")
      assert.deepStrictEqual(run.left, ["out.ndjson"])
    }).pipe(Effect.provide(layer))
  )

  for (const [where, start] of [
    ["before", CUT - 100],
    ["after", CUT + 100]
  ] as const) {
    it.scoped(`a 206 starting ${where} the offset asked for starts over from byte 0`, () =>
      Effect.gen(function* () {
        const run = yield* resumedRun(Emulator.Reply.wrongRangeStart(start))
        const bytes = yield* run.emulator.fileBytes(run.fileId)
        assert.deepStrictEqual(Buffer.from(run.saved), Buffer.from(bytes))
        assert.deepStrictEqual(
          run.requests.map(([range]) => range),
          [`bytes=${CUT}-`, undefined]
        )
      }).pipe(Effect.provide(layer))
    )
  }

  it.scoped("a 206 without an ETag is not the object the state names: ContentChanged", () =>
    Effect.gen(function* () {
      const { api } = yield* behindApi((_, response) => {
        response.writeHead(206, { "content-range": "bytes 10-19/20", "content-length": "10" })
        response.end("0123456789")
      })
      const error = yield* Effect.flip(
        Effect.scoped(
          Effect.flatMap(ExportsClient.ExportsClient, (client) =>
            client.open("file_hostile1", { from: { offset: 10, etag: '"saved"' } })
          )
        ).pipe(Effect.provide(BatchExport.layer({ restApiKey: KEY, projectKey: PROJECT, baseUrl: api.url })))
      )
      assert.instanceOf(error, ExportError.ContentChanged)
      assert.strictEqual(error.offset, 10)
    })
  )
})
