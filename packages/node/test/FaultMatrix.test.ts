/**
 * The fault matrix: one test per fault the emulator can inject, each over real sockets, each ending
 * byte-exact or as a clean typed failure — with every error, log line and span text checked for secrets.
 */
import { ApiError, ClientError, ExportError } from "@batch-export/core"
import { Emulator } from "@batch-export/emulator"
import { ExportFiles, ExportsClient } from "@batch-export/node"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Path from "node:path"
import { within } from "./support/deadline.js"
import { captureLogs, clientLayer, drive, recordSpans, spanText } from "./support/harness.js"

const REST_KEY = "rest_FaultMatrixSecret_5a4b3c2d1e"

/** Everything shown to a user or an operator during the matrix (errors, logs, spans), searched for secrets at the end. */
const shown: Array<string> = []

// Timeouts longer than what `drive` skips over, so that only backoffs (and, where asked, idleness) elapse.
const layerWith = (timeouts: { readonly request: string; readonly idle: string }) =>
  clientLayer({ timeouts, retry: { maxRetries: 4 } }).pipe(
    Layer.provideMerge(Emulator.layer({ restApiKey: REST_KEY })),
    Layer.merge(NodeFileSystem.layer)
  )
const layer = layerWith({ request: "1 hour", idle: "1 hour" })

type Outcome = { readonly bytes: Uint8Array; readonly expected: Uint8Array } | { readonly error: unknown }

/** Runs a download to a file while the TestClock follows the client's waits; records what it showed. */
const run = <E>(
  prepare: (emulator: Emulator.Service, fileId: string) => Effect.Effect<void, E, ExportsClient.ExportsClient>
) =>
  Effect.gen(function* () {
    const logs = yield* captureLogs
    const traced = yield* recordSpans
    const emulator = yield* Emulator.Emulator
    const files = yield* ExportFiles.ExportFiles
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped()
    const [exp] = yield* emulator.exports
    const file = exp!.files[0]!
    yield* prepare(emulator, file.id)
    const destination = Path.join(dir, "part.json")
    const exit = yield* Effect.exit(
      drive(files.downloadToFile(file.id, destination, { expectedSize: file.size })).pipe(
        Effect.provide(logs.layer),
        Effect.withTracer(traced.tracer)
      )
    )
    shown.push(...(yield* logs.lines), ...traced.spans.map(spanText))
    const left = yield* fs.readDirectory(dir)
    if (Exit.isFailure(exit)) {
      const error = Cause.squash(exit.cause)
      shown.push(Cause.pretty(exit.cause), String(error), JSON.stringify(error), Inspectable.format(error))
      assert.deepStrictEqual(left, [], "a failed download leaves nothing behind")
      return { error } as Outcome
    }
    assert.deepStrictEqual(left, ["part.json"])
    return { bytes: yield* fs.readFile(destination), expected: yield* emulator.fileBytes(file.id) } as Outcome
  })

const byteExact = (outcome: Outcome) => {
  assert.isTrue(
    "bytes" in outcome,
    "expected a successful download, got " + ("error" in outcome ? String(outcome.error) : "")
  )
  if ("bytes" in outcome) assert.deepStrictEqual(Buffer.from(outcome.bytes), Buffer.from(outcome.expected))
}

const failsWith = (outcome: Outcome, tag: string) => {
  assert.isTrue("error" in outcome, `expected ${tag}, but the download succeeded`)
  if ("error" in outcome) assert.strictEqual((outcome.error as { _tag: string })._tag, tag)
  return "error" in outcome ? outcome.error : undefined
}

describe("fault matrix", () => {
  afterAll(() => {
    assert.isAbove(shown.length, 10)
    for (const text of shown) {
      assert.notInclude(text, REST_KEY)
      assert.notInclude(text, "signature=")
    }
  })

  describe("API faults", () => {
    it.scoped("429 ×2 with Retry-After → waits as told, then byte-exact", () =>
      Effect.gen(function* () {
        const reply = Emulator.Reply.status(429, { headers: { "retry-after": "7" } })
        byteExact(yield* run((emulator) => emulator.script("download", reply, reply)))
      }).pipe(Effect.provide(layer))
    )

    it.scoped("a burst of 503 → backs off, then byte-exact", () =>
      Effect.gen(function* () {
        const reply = Emulator.Reply.status(503)
        byteExact(yield* run((emulator) => emulator.script("download", reply, reply, reply)))
      }).pipe(Effect.provide(layer))
    )

    it.scoped("500 with an HTML body → InternalServerError, not retried", () =>
      Effect.gen(function* () {
        const html = Emulator.Reply.status(500, {
          body: "<html><body>Internal</body></html>",
          headers: { "content-type": "text/html" }
        })
        const error = failsWith(yield* run((emulator) => emulator.script("download", html)), "InternalServerError")
        assert.isUndefined((error as ApiError.InternalServerError).errorCode)
      }).pipe(Effect.provide(layer))
    )

    it.scoped("307 without Location → InvalidLocation", () =>
      Effect.gen(function* () {
        const error = failsWith(
          yield* run((emulator) => emulator.script("download", Emulator.Reply.status(307))),
          "InvalidLocation"
        )
        assert.strictEqual((error as ClientError.InvalidLocation).reason, "missing")
      }).pipe(Effect.provide(layer))
    )

    it.scoped("307 to a non-http Location → InvalidLocation", () =>
      Effect.gen(function* () {
        const ftp = Emulator.Reply.status(307, { headers: { location: "ftp://127.0.0.1/file" } })
        const error = failsWith(yield* run((emulator) => emulator.script("download", ftp)), "InvalidLocation")
        assert.strictEqual((error as ClientError.InvalidLocation).reason, "unsupported-scheme")
      }).pipe(Effect.provide(layer))
    )
  })

  describe("storage faults", () => {
    it.scoped("drop after N bytes → resumed with Range, byte-exact", () =>
      Effect.gen(function* () {
        byteExact(yield* run((emulator) => emulator.script("storage", Emulator.Reply.dropAfter(4096))))
      }).pipe(Effect.provide(layer))
    )

    it.scoped("stall after N bytes → idle timeout, resumed, byte-exact", () =>
      Effect.gen(function* () {
        byteExact(
          yield* run((emulator) => emulator.script("storage", Emulator.Reply.stallAfter(4096))).pipe(
            within("the idle timeout's abort of the stalled request")
          )
        )
      }).pipe(Effect.provide(layerWith({ request: "1 hour", idle: "10 minutes" })))
    )

    it.scoped("403 expired signature → a fresh link, byte-exact", () =>
      Effect.gen(function* () {
        byteExact(yield* run((emulator) => emulator.script("storage", Emulator.Reply.status(403))))
      }).pipe(Effect.provide(layer))
    )

    it.scoped("403 on every link → StorageError 403, nothing left behind", () =>
      Effect.gen(function* () {
        const refused = Emulator.Reply.status(403)
        const error = failsWith(yield* run((emulator) => emulator.script("storage", refused, refused)), "StorageError")
        assert.strictEqual((error as ClientError.StorageError).status, 403)
      }).pipe(Effect.provide(layer))
    )

    it.scoped("a Content-Length longer than the body → treated as a drop, resumed, byte-exact", () =>
      Effect.gen(function* () {
        byteExact(
          yield* run((emulator, fileId) =>
            Effect.flatMap(emulator.fileBytes(fileId), (bytes) =>
              emulator.script("storage", Emulator.Reply.wrongLength(bytes.length + 1000))
            ).pipe(Effect.orDie)
          )
        )
      }).pipe(Effect.provide(layer))
    )

    it.scoped("a Content-Length shorter than the file → SizeMismatch against files[].size, nothing left behind", () =>
      Effect.gen(function* () {
        const error = failsWith(
          yield* run((emulator) =>
            emulator.script("storage", ...Array.from({ length: 3 }, () => Emulator.Reply.wrongLength(1000)))
          ),
          "SizeMismatch"
        )
        assert.strictEqual((error as ExportError.SizeMismatch).actual, 1000)
      }).pipe(Effect.provide(layer))
    )

    it.scoped("the ETag changes between attempts → restarted from zero, byte-exact", () =>
      Effect.gen(function* () {
        byteExact(
          yield* run((emulator) =>
            emulator.script("storage", Emulator.Reply.dropAfter(4096), Emulator.Reply.changedContent())
          )
        )
      }).pipe(Effect.provide(layer))
    )

    it.scoped("a resume answered 206 under another ETag (If-Range ignored) → restarted from zero, byte-exact", () =>
      Effect.gen(function* () {
        byteExact(
          yield* run((emulator) =>
            emulator.script("storage", Emulator.Reply.dropAfter(4096), Emulator.Reply.changedIgnoringIfRange())
          )
        )
      }).pipe(Effect.provide(layer))
    )

    it.scoped("a resume answered 206 from another offset → restarted from zero, byte-exact", () =>
      Effect.gen(function* () {
        byteExact(
          yield* run((emulator) =>
            emulator.script("storage", Emulator.Reply.dropAfter(4096), Emulator.Reply.wrongRangeStart(4097))
          )
        )
      }).pipe(Effect.provide(layer))
    )

    it.scoped("Content-Encoding: gzip → the saved file is the decoded JSON", () =>
      Effect.gen(function* () {
        byteExact(yield* run((emulator) => emulator.script("storage", Emulator.Reply.gzip())))
      }).pipe(Effect.provide(layer))
    )

    it.scoped("no Range support → the resume skips what it had, byte-exact", () =>
      Effect.gen(function* () {
        byteExact(
          yield* run((emulator) => emulator.script("storage", Emulator.Reply.dropAfter(4096), Emulator.Reply.noRange()))
        )
      }).pipe(Effect.provide(layer))
    )

    it.scoped("no Range support, cut again within what it had → resumed after it, byte-exact", () =>
      Effect.gen(function* () {
        byteExact(
          yield* run((emulator) =>
            emulator.script(
              "storage",
              Emulator.Reply.dropAfter(4096),
              Emulator.Reply.storage({ noRange: true, dropAfter: 1024 }),
              Emulator.Reply.noRange()
            )
          )
        )
      }).pipe(Effect.provide(layer))
    )

    it.scoped("a storage-side redirect is followed, with no credential on any hop, byte-exact", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.Emulator
        byteExact(
          yield* run((emulator, fileId) =>
            Effect.gen(function* () {
              const link = Redacted.value((yield* (yield* ExportsClient.ExportsClient).downloadLink(fileId)).url)
              const elsewhere = `${emulator.storageUrl}/redirected${link.pathname}${link.search}`
              yield* emulator.script("storage", Emulator.Reply.redirect(elsewhere, 302))
            })
          )
        )
        const storage = (yield* emulator.requests).filter((r) => r.origin === "storage")
        assert.isAtLeast(storage.length, 3)
        for (const request of storage) {
          for (const name of ["authorization", "x-batch-project", "cookie"]) assert.isUndefined(request.headers[name])
        }
      }).pipe(Effect.provide(layer))
    )

    it.scoped("a storage-side redirect to a non-http scheme → InvalidLocation", () =>
      Effect.gen(function* () {
        const error = failsWith(
          yield* run((emulator) => emulator.script("storage", Emulator.Reply.redirect("file:///etc/passwd"))),
          "InvalidLocation"
        )
        assert.strictEqual((error as ClientError.InvalidLocation).reason, "unsupported-scheme")
      }).pipe(Effect.provide(layer))
    )

    it.scoped("Content-Encoding: gzip → the record stream reads the decoded JSON", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.Emulator
        const client = yield* ExportsClient.ExportsClient
        const [exp] = yield* emulator.exports
        const file = exp!.files[0]!
        yield* emulator.script("storage", Emulator.Reply.gzip())
        const records = yield* Stream.runCollect(client.fileRecords(file.id))
        const expected = Buffer.from(yield* emulator.fileBytes(file.id))
          .toString("utf8")
          .split("\n")
          .filter((line) => line !== "")
          .map((line) => JSON.parse(line))
        assert.deepStrictEqual(Chunk.toReadonlyArray(records), expected)
      }).pipe(Effect.provide(layer))
    )
  })
})
