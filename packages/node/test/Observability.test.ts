import { Emulator } from "@batch-export/emulator"
import { ExportFiles, ExportsClient } from "@batch-export/node"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Path from "node:path"
import { clientLayer, drive, recordSpans, spanText as text } from "./support/harness.js"

const REST_KEY = "rest_SpanSecret_0123456789abcdef"

describe("observability", () => {
  it.scoped(
    "spans for API calls, link acquisition and part downloads, with attempts, bytes and resume offsets — and no secret",
    () =>
      Effect.gen(function* () {
        const { spans, tracer } = yield* recordSpans
        const emulator = yield* Emulator.Emulator
        const client = yield* ExportsClient.ExportsClient
        const files = yield* ExportFiles.ExportFiles
        const fs = yield* FileSystem.FileSystem
        const dir = yield* fs.makeTempDirectoryScoped()
        const [exp] = yield* emulator.exports
        const file = exp!.files[0]!
        const link = yield* client.downloadLink(file.id)
        const signature = Redacted.value(link.url).search.slice(1)

        yield* emulator.script("download", Emulator.Reply.status(503, { headers: { "retry-after": "1" } }))
        yield* emulator.script("storage", Emulator.Reply.dropAfter(1000))
        yield* drive(files.downloadToFile(file.id, Path.join(dir, "part.json"))).pipe(Effect.withTracer(tracer))

        const byName = (name: string) => spans.filter((s) => s.name === name)
        const api = byName("http GET /exports/download")
        assert.isAbove(api.length, 0)
        assert.strictEqual(api.at(-1)!.attributes.get("batch.attempts"), 2)
        assert.isAbove(byName("ExportsClient.downloadLink").length, 0)
        const part = byName("ExportFiles.downloadToFile")[0]!
        assert.strictEqual(part.attributes.get("batch.file_id"), file.id)
        assert.strictEqual(part.attributes.get("batch.bytes"), file.size)
        // the drop comes after 1000 bytes; the client resumes from whatever it had received by then
        assert.isAtMost(part.attributes.get("batch.resume_offset") as number, 1000)
        assert.isAtLeast(part.attributes.get("batch.resumes") as number, 1)

        for (const span of spans) {
          const shown = text(span)
          assert.notInclude(shown, REST_KEY, span.name)
          assert.notInclude(shown, signature, span.name)
          // every signed link the emulator issued carries these query parameters
          assert.notInclude(shown, "signature=", span.name)
          assert.notInclude(shown, "expires=", span.name)
        }
      }).pipe(
        Effect.provide(
          clientLayer({ timeouts: { request: "1 hour", idle: "1 hour" } }).pipe(
            Layer.provideMerge(Emulator.layer({ restApiKey: REST_KEY })),
            Layer.merge(NodeFileSystem.layer)
          )
        )
      )
  )

  it.scoped("the caller's trace context reaches neither the storage nor Batch", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.Emulator
      const client = yield* ExportsClient.ExportsClient
      const [exp] = yield* emulator.exports
      const file = exp!.files[0]!
      yield* emulator.script("storage", Emulator.Reply.status(403))
      // inside a span: an HTTP client that propagates would send its traceparent and b3 headers
      yield* Stream.runDrain(client.download(file.id)).pipe(Effect.withSpan("the caller's operation"))
      const requests = yield* emulator.requests
      assert.deepStrictEqual(
        requests.map((r) => r.origin),
        ["api", "storage", "api", "storage"]
      )
      for (const request of requests) {
        for (const name of ["traceparent", "tracestate", "b3", "x-b3-traceid"]) {
          assert.isUndefined(request.headers[name], `${name} sent to ${request.origin}`)
        }
      }
    }).pipe(Effect.provide(clientLayer().pipe(Layer.provideMerge(Emulator.layer()))))
  )
})
