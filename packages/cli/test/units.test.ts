import { Emulator } from "@batch-export/emulator"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Path from "node:path"
import { envFor } from "./support/harness.js"
import { built, run } from "./support/process.js"

/** One emulator export that is ready, its first file, and a temporary directory. */
const setUp = Effect.gen(function* () {
  const emulator = yield* Emulator.make()
  const exp = (yield* emulator.exports).find((e) => e.status === "SUCCESS")!
  const dir = yield* (yield* FileSystem.FileSystem).makeTempDirectoryScoped()
  return { emulator, exp, file: exp.files[0]!, dir }
})

describe.skipIf(!built)("units in flags and environment variables, as the built executable reads them", () => {
  it.scopedLive("--max-size takes K/M/G (1024-based): 1K refuses a larger file, 10M lets it through", () =>
    Effect.gen(function* () {
      const { dir, emulator, file } = yield* setUp
      assert.isAbove(file.size, 1024)
      const small = yield* run(
        ["download", file.id, "--out", Path.join(dir, "a.json"), "--max-size", "1K"],
        envFor(emulator)
      )
      assert.strictEqual(small.code, 1, small.stderr)
      assert.match(small.stderr, /^error: DownloadTooLarge: .*1024/)
      const large = yield* run(
        ["download", file.id, "--out", Path.join(dir, "b.json"), "--max-size", "10MiB", "--idle-timeout", "30s"],
        envFor(emulator)
      )
      assert.strictEqual(large.code, 0, large.stderr)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scopedLive("--timeout 2m and --poll-interval 1s are durations with units", () =>
    Effect.gen(function* () {
      const { dir, emulator, exp } = yield* setUp
      const fetched = yield* run(
        ["fetch", exp.id, "--out-dir", dir, "--timeout", "2m", "--poll-interval", "1s", "--quiet"],
        envFor(emulator)
      )
      assert.strictEqual(fetched.code, 0, fetched.stderr)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scopedLive("BATCH_REQUEST_TIMEOUT=2m and BATCH_IDLE_TIMEOUT=1h30m are read as the flags are", () =>
    Effect.gen(function* () {
      const { emulator } = yield* setUp
      const listed = yield* run(["list", "--json"], {
        ...envFor(emulator),
        BATCH_REQUEST_TIMEOUT: "2m",
        BATCH_IDLE_TIMEOUT: "1h30m"
      })
      assert.strictEqual(listed.code, 0, listed.stderr)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  const refused: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
    [["--max-size", "10KB"], "--max-size must not end in KB (1000 or 1024?): write K or KiB, 1024-based"],
    [["--max-size", "1.5M"], "--max-size must be a size of at least 1 bytes"],
    [["--timeout", "2 parsecs"], "--timeout must be a number of seconds (30, 0.5) or a duration with a unit"],
    [["--poll-interval", "500ms"], "--poll-interval must be at least 1s"]
  ]
  for (const [flags, message] of refused) {
    it.scopedLive(`${flags.join(" ")}: a usage error (exit 2) naming the flag and the rule`, () =>
      Effect.gen(function* () {
        const { dir, emulator, exp } = yield* setUp
        const finished = yield* run(["fetch", exp.id, "--out-dir", dir, ...flags], envFor(emulator))
        assert.strictEqual(finished.code, 2, finished.stderr)
        assert.include(finished.stderr, message)
        assert.deepStrictEqual(yield* emulator.requests, [])
      }).pipe(Effect.provide(NodeFileSystem.layer))
    )
  }

  it.scopedLive("BATCH_REQUEST_TIMEOUT=2 parsecs is a configuration error naming the variable (exit 1)", () =>
    Effect.gen(function* () {
      const { emulator } = yield* setUp
      const listed = yield* run(["list"], { ...envFor(emulator), BATCH_REQUEST_TIMEOUT: "2 parsecs" })
      assert.strictEqual(listed.code, 1, listed.stderr)
      assert.include(listed.stderr, "BATCH_REQUEST_TIMEOUT must be a number of seconds (30, 0.5) or a duration")
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})
