import { Emulator } from "@batch-export/emulator"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Path from "node:path"
import { sampleExports } from "../src/internal/sampleExports.js"
import { runCli } from "./support/harness.js"

/** The `export NAME=value` lines of the banner, as an environment. */
const exportedEnv = (banner: string): Record<string, string> =>
  Object.fromEntries([...banner.matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]))

describe("batch-export emulator", () => {
  it.scopedLive("serves until interrupted and prints what `download` needs", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const printed = yield* Deferred.make<string>()
      const fiber = yield* Effect.fork(
        runCli(["emulator", "--seed", "3"], {}, (line) => Deferred.unsafeDone(printed, Exit.succeed(line)))
      )
      const banner = yield* Deferred.await(printed)

      const env = exportedEnv(banner)
      assert.deepStrictEqual(Object.keys(env).sort(), ["BATCH_API_URL", "BATCH_PROJECT_KEY", "BATCH_REST_API_KEY"])
      assert.match(env["BATCH_API_URL"]!, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.include(banner, `API:     ${env["BATCH_API_URL"]}`)
      assert.match(banner, /storage: http:\/\/127\.0\.0\.1:\d+/)
      const fileIds = [...banner.matchAll(/^ {4}(file_\w+) {2}part \d+/gm)].map((m) => m[1]!)
      assert.strictEqual(fileIds.length, 4)
      assert.match(banner, new RegExp(`^try: batch-export download ${fileIds[0]} --out part-1\\.json$`, "m"))

      // the same seed gives the same bytes: compare with an emulator started here
      const reference = yield* Emulator.make({ seed: 3, exports: sampleExports })
      const out = Path.join(yield* fs.makeTempDirectoryScoped(), "part-1.json")
      const run = yield* runCli(["download", fileIds[0]!, "--out", out], env)
      assert.strictEqual(run.code, 0, run.output)
      assert.deepStrictEqual(Buffer.from(yield* fs.readFile(out)), Buffer.from(yield* reference.fileBytes(fileIds[0]!)))

      // Ctrl-C: the fiber is interrupted, the servers close
      yield* Fiber.interrupt(fiber)
      // a refused connection is retried on the backoff (real time here): without retries it fails at once
      const after = yield* runCli(["download", fileIds[0]!, "--out", out], { ...env, BATCH_MAX_RETRIES: "0" })
      assert.strictEqual(after.code, 1)
      assert.include(after.stderr.join("\n"), "TransportError")
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scopedLive("--json: one JSON object with the URLs, the environment and every export's files", () =>
    Effect.gen(function* () {
      const printed = yield* Deferred.make<string>()
      const fiber = yield* Effect.fork(
        runCli(["emulator", "--seed", "3", "--json"], {}, (line) => Deferred.unsafeDone(printed, Exit.succeed(line)))
      )
      const line = yield* Deferred.await(printed)
      const info = JSON.parse(line)
      assert.match(info.apiUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.strictEqual(info.environment.BATCH_API_URL, info.apiUrl)
      const files = info.exports.flatMap((exp: { files: ReadonlyArray<{ id: string }> }) => exp.files)
      assert.strictEqual(files.length, 4)
      assert.match(files[0].id, /^file_\w+$/)
      yield* Fiber.interrupt(fiber)
    })
  )

  it.scopedLive("a port already in use: one line, exit 1", () =>
    Effect.gen(function* () {
      const taken = yield* Emulator.make()
      const port = new URL(taken.apiUrl).port
      const run = yield* runCli(["emulator", "--port", port])
      assert.strictEqual(run.code, 1, run.output)
      assert.deepStrictEqual(run.stdout, [])
      assert.strictEqual(run.stderr.length, 1, run.output)
      assert.include(run.stderr[0], "EADDRINUSE")
    })
  )

  it.effect("an out-of-range port is a usage error (exit 2)", () =>
    Effect.gen(function* () {
      const run = yield* runCli(["emulator", "--port", "70000"])
      assert.strictEqual(run.code, 2, run.output)
      assert.include(run.stderr.join("\n"), "--port must be a port number")
    })
  )

  it.scopedLive("--exports, --parts and --part-size size the served dataset", () =>
    Effect.gen(function* () {
      const printed = yield* Deferred.make<string>()
      const fiber = yield* Effect.fork(
        runCli(["emulator", "--exports", "3", "--parts", "2", "--part-size", "3M"], {}, (line) =>
          Deferred.unsafeDone(printed, Exit.succeed(line))
        )
      )
      const banner = yield* Deferred.await(printed)
      yield* Fiber.interrupt(fiber)
      assert.strictEqual([...banner.matchAll(/^ {2}export_\w+ {2}SUCCESS/gm)].length, 3, banner)
      const sizes = [...banner.matchAll(/^ {4}file_\w+ {2}part \d+ {2}(\d+) bytes$/gm)].map((m) => Number(m[1]))
      assert.strictEqual(sizes.length, 6, banner)
      for (const size of sizes) assert.isTrue(size >= 3 * 1024 ** 2 && size < 3 * 1024 ** 2 + 10_000, banner)
    })
  )

  it.effect("a malformed --part-size is a usage error (exit 2)", () =>
    Effect.gen(function* () {
      const run = yield* runCli(["emulator", "--part-size", "12X"])
      assert.strictEqual(run.code, 2, run.output)
      assert.include(run.stderr.join("\n"), "--part-size must be a size")
    })
  )
})
