import { Emulator } from "@batch-export/emulator"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { execFile } from "node:child_process"
import { existsSync } from "node:fs"
import * as Path from "node:path"
import { envFor } from "./support/harness.js"
import { bin } from "./support/process.js"

interface Spawned {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const spawn = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.async<Spawned>((resume) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      { env: { PATH: process.env["PATH"] ?? "", ...env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1
        resume(Effect.succeed({ code, stdout, stderr }))
      }
    )
    return Effect.sync(() => child.kill())
  })

describe.skipIf(!existsSync(bin))("the built executable", () => {
  it.scopedLive("downloads, then exits 0", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      const [exp] = yield* emulator.exports
      const file = exp!.files[0]!
      const fs = yield* FileSystem.FileSystem
      const out = Path.join(yield* fs.makeTempDirectoryScoped(), "part.json")
      const run = yield* spawn(["download", file.id, "--out", out], envFor(emulator))
      assert.strictEqual(run.code, 0, run.stderr)
      assert.strictEqual(run.stdout, `saved ${file.size} bytes to ${out}\n`)
      assert.deepStrictEqual(Buffer.from(yield* fs.readFile(out)), Buffer.from(yield* emulator.fileBytes(file.id)))
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scopedLive("create prints the id and a newline, nothing else: `id=$(batch-export create …)` works", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make({ exports: [] })
      const run = yield* spawn(["create", "attributes", "--attribute", "$language"], envFor(emulator))
      assert.strictEqual(run.code, 0, run.stderr)
      assert.match(run.stdout, /^export_[a-z0-9]+\n$/)
      assert.strictEqual(run.stderr, "")
      const [created] = yield* emulator.exports
      assert.strictEqual(run.stdout, `${created!.id}\n`)
    })
  )

  it.scopedLive("fetch of an export that ended in ERROR: exit 1, its status, then one error line", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make({ exports: [{ status: "ERROR", parts: 0 }] })
      const [failed] = yield* emulator.exports
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const run = yield* spawn(["fetch", failed!.id, "--out-dir", dir], envFor(emulator))
      assert.strictEqual(run.code, 1)
      assert.strictEqual(run.stdout, "")
      assert.strictEqual(
        run.stderr,
        `${failed!.id}: ERROR\nerror: ExportFailed: export ${failed!.id} ended with status ERROR\n`
      )
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scopedLive("a refused key (401): exit 3, one line on stderr, no key, no dump", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make()
      const key = "wrong_key_from_the_environment_77"
      const run = yield* spawn(["download", "file_0000000000000000000000000000dead", "--out", "x.json"], {
        ...envFor(emulator),
        BATCH_REST_API_KEY: key
      })
      assert.strictEqual(run.code, 3)
      assert.strictEqual(run.stdout, "")
      assert.match(run.stderr, /^error: Unauthorized: GET \/exports\/download answered HTTP 401 [^\n]*\n$/)
      assert.notInclude(run.stderr + run.stdout, key)
    })
  )

  it.live("a missing variable: exit 1, one line", () =>
    Effect.gen(function* () {
      const run = yield* spawn(["download", "file_abc", "--out", "x.json"], { BATCH_PROJECT_KEY: "project_abc" })
      assert.strictEqual(run.code, 1)
      assert.strictEqual(run.stderr, "error: ConfigError: BATCH_REST_API_KEY is not set\n")
    })
  )

  it.live("a missing argument: @effect/cli's message, no ValidationError dump, exit 2", () =>
    Effect.gen(function* () {
      const run = yield* spawn(["download", "--out", "x.json"])
      assert.strictEqual(run.code, 2)
      assert.strictEqual(run.stderr.trim(), "Missing argument <file_id>")
    })
  )
})
