import { Emulator } from "@batch-export/emulator"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Path from "node:path"
import { envFor } from "./support/harness.js"
import { built, run } from "./support/process.js"

const lines = (stderr: string) => stderr.split("\n").filter((line) => line !== "")

describe.skipIf(!built)("--log-level debug, as the built executable prints it", () => {
  it.scopedLive("one line per request: method, endpoint (the storage by its origin), status, time; no secret", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      const exp = (yield* emulator.exports).find((e) => e.status === "SUCCESS")!
      const file = exp.files[0]!
      const out = Path.join(yield* (yield* FileSystem.FileSystem).makeTempDirectoryScoped(), "part.json")
      const finished = yield* run(["download", file.id, "--out", out, "--log-level", "debug"], envFor(emulator))
      assert.strictEqual(finished.code, 0, finished.stderr)
      const requests = lines(finished.stderr).filter((line) => / in \d+ms$/.test(line))
      const storage = new URL(emulator.storageUrl).origin
      assert.strictEqual(requests.length, 2, finished.stderr)
      assert.match(requests[0]!, /^debug: GET \/exports\/download: HTTP 307 in \d+ms$/)
      assert.strictEqual(requests[1]!.replace(/\d+ms$/, "Nms"), `debug: GET storage ${storage}: HTTP 200 in Nms`)
      // the signed link's path and query, the key and the project never show
      for (const secret of [emulator.restApiKey, "?", "signature", "expires", file.id + "?"]) {
        assert.notInclude(finished.stderr, secret)
      }
      assert.notInclude(finished.stderr, "Fiber terminated")
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scopedLive("an unreachable API: each attempt, then each retry and its real wait; nothing after the last", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      const finished = yield* run(["list", "--log-level", "debug"], {
        ...envFor(emulator),
        // nothing listens on port 1
        BATCH_API_URL: "http://127.0.0.1:1",
        BATCH_MAX_RETRIES: "1"
      })
      assert.strictEqual(finished.code, 1, finished.stderr)
      const shown = lines(finished.stderr).map((line) => line.replace(/\d+ms/, "Nms").replace(/in \d+\.\ds$/, "in S"))
      assert.deepStrictEqual(shown, [
        "debug: GET /exports/list: no answer after Nms: Transport (connect ECONNREFUSED 127.0.0.1:1)",
        "info: GET /exports/list failed: Transport (connect ECONNREFUSED 127.0.0.1:1); retry 1 of 1 in S",
        "debug: GET /exports/list: no answer after Nms: Transport (connect ECONNREFUSED 127.0.0.1:1)",
        "error: TransportError: GET /exports/list failed: Transport (connect ECONNREFUSED 127.0.0.1:1)"
      ])
    })
  )
})
