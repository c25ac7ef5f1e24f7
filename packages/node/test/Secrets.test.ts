import { Emulator } from "@batch-export/emulator"
import { ExportFiles, ExportsClient } from "@batch-export/node"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { awaitSleep, captureLogs, clientLayer, drive, eventually } from "./support/harness.js"

const REST_KEY = "rest_SuperSecretKey_9f8e7d6c5b4a"

describe("secrets never leak", () => {
  it.scoped("the REST key and the link's signature appear in no error, cause or log line", () =>
    Effect.gen(function* () {
      const logs = yield* captureLogs
      const shown: Array<string> = []
      const firstSignature = yield* exercise(shown).pipe(Effect.provide(logs.layer))
      const lines = yield* logs.lines
      assert.isAbove(shown.length, 20)
      assert.isAbove(lines.length, 0)
      // links minted at other times carry other signatures: every one the storage was asked with, and the
      // parameter itself, which any link's signed query shows
      const emulator = yield* Emulator.Emulator
      const signatures = new Set(
        (yield* emulator.requests).flatMap((r) => (r.origin === "storage" ? [r.query["signature"] ?? ""] : []))
      )
      signatures.add(firstSignature)
      assert.isAbove(signatures.size, 1)
      for (const signature of signatures) assert.isAbove(signature.length, 10)
      for (const text of [...shown, ...lines]) {
        assert.notInclude(text, REST_KEY)
        assert.notInclude(text, "signature=")
        for (const signature of signatures) assert.notInclude(text, signature)
      }
    }).pipe(
      Effect.provide(
        clientLayer({ retry: { maxRetries: 3 }, timeouts: { request: "1 hour", idle: "1 hour" } }).pipe(
          Layer.provideMerge(Emulator.layer({ restApiKey: REST_KEY }))
        )
      )
    )
  )
})

const exercise = (shown: Array<string>) =>
  Effect.gen(function* () {
    const emulator = yield* Emulator.Emulator
    const client = yield* ExportsClient.ExportsClient
    const files = yield* ExportFiles.ExportFiles
    const [exp] = yield* emulator.exports
    const fileId = exp!.files[0]!.id
    const link = yield* client.downloadLink(fileId)
    const signature = Option.fromNullable(Redacted.value(link.url).searchParams.get("signature"))
    const record = <A, E>(effect: Effect.Effect<A, E>) =>
      Effect.exit(effect).pipe(
        Effect.tap((exit) =>
          Effect.sync(() => {
            if (Exit.isFailure(exit)) {
              const error = Cause.squash(exit.cause)
              shown.push(Cause.pretty(exit.cause), String(error), JSON.stringify(error), Inspectable.format(error))
              if (error instanceof Error) shown.push(error.message, error.stack ?? "")
            }
          })
        )
      )

    yield* emulator.script("download", Emulator.Reply.status(401), Emulator.Reply.status(500, { body: "<html/>" }))
    yield* record(client.downloadLink(fileId))
    yield* record(client.downloadLink(fileId))
    yield* emulator.script("download", Emulator.Reply.status(429, { headers: { "retry-after": "1" } }))
    const retried = yield* Effect.fork(record(client.downloadLink(fileId)))
    yield* awaitSleep("1 second")
    yield* TestClock.adjust("1 second")
    yield* Fiber.join(retried)
    yield* emulator.script("storage", Emulator.Reply.status(403), Emulator.Reply.status(403))
    yield* record(Stream.runDrain(client.download(fileId)))
    yield* emulator.script("storage", ...Array.from({ length: 4 }, () => Emulator.Reply.dropAfter(10)))
    yield* record(drive(Stream.runDrain(client.download(fileId))))
    yield* record(files.downloadToFile(fileId, "/nonexistent-dir/for/sure/file.ndjson"))
    yield* record(client.downloadLink("file_bad/../../x"))
    yield* eventually(
      Effect.map(emulator.openConnections, (c) => c.storage === 0),
      "connections closed"
    )
    return yield* signature
  })
