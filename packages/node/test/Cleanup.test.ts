import { Emulator } from "@batch-export/emulator"
import { BatchExport, ExportFiles } from "@batch-export/node"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import * as Scope from "effect/Scope"
import * as nodeFs from "node:fs"
import * as Path from "node:path"
import { eventually } from "./support/harness.js"

const openFds = Effect.sync(() => nodeFs.readdirSync("/proc/self/fd").length)

describe("cleanup under load", () => {
  it.scoped(
    "1,000 downloads, 200 interrupted at random points: no extra file descriptor, no temporary file",
    () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.Emulator
        const fs = yield* FileSystem.FileSystem
        const dir = yield* fs.makeTempDirectoryScoped()
        const files = (yield* emulator.exports).flatMap((e) => e.files)
        const before = yield* openFds

        // the client (and its connection pool) lives in its own scope, closed before counting
        const scope = yield* Scope.make()
        const exportFiles = yield* Layer.buildWithScope(
          BatchExport.layer({
            restApiKey: emulator.restApiKey,
            projectKey: emulator.projectKey,
            baseUrl: emulator.apiUrl
          }),
          scope
        ).pipe(Effect.map((context) => Context.get(context, ExportFiles.ExportFiles)))

        const interrupted = new Set<number>()
        while (interrupted.size < 200) interrupted.add(yield* Random.nextIntBetween(0, 1000))
        let completed = 0
        let cancelled = 0
        yield* Effect.forEach(
          Array.from({ length: 1000 }, (_, i) => i),
          (i) =>
            Effect.gen(function* () {
              const file = files[i % files.length]!
              const destination = Path.join(dir, `download-${i}.json`)
              if (!interrupted.has(i)) {
                yield* exportFiles.downloadToFile(file.id, destination)
                completed++
                return
              }
              // interrupt before the request, or after the first or second chunk of the body
              const point = yield* Random.nextIntBetween(0, 3)
              const reached = yield* Deferred.make<void>()
              let chunks = 0
              const fiber = yield* Effect.fork(
                exportFiles.downloadToFile(file.id, destination, {
                  onProgress: () => (++chunks >= point ? Deferred.succeed(reached, undefined) : Effect.void)
                })
              )
              if (point > 0) yield* Effect.race(Deferred.await(reached), Fiber.await(fiber))
              const exit = yield* Fiber.interrupt(fiber)
              if (Exit.isInterrupted(exit)) {
                cancelled++
                assert.isFalse(nodeFs.existsSync(destination), `interrupted download ${i} left its file`)
              } else completed++
            }),
          { concurrency: 8, discard: true }
        )
        yield* Scope.close(scope, Exit.void)

        assert.strictEqual(completed + cancelled, 1000)
        assert.isAbove(cancelled, 100) // the rest finished before their interruption landed
        const left = yield* fs.readDirectory(dir)
        assert.deepStrictEqual(
          left.filter((name) => name.endsWith(".partial")),
          []
        )
        assert.strictEqual(left.length, completed)
        yield* eventually(
          Effect.map(emulator.openConnections, (c) => c.api + c.storage === 0),
          "server sockets closed"
        )
        yield* eventually(
          Effect.map(openFds, (n) => n <= before),
          "file descriptors back to the baseline"
        )
      }).pipe(
        Effect.provide(
          Layer.merge(
            Emulator.layer({ exports: [{ parts: 4, bytesPerPart: 200_000 }], linkTtl: "1 hour" }),
            NodeFileSystem.layer
          )
        )
      ),
    120_000
  )
})
