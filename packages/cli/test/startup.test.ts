import { Emulator } from "@batch-export/emulator"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { execFile } from "node:child_process"
import * as Path from "node:path"
import { pathToFileURL } from "node:url"
import { envFor } from "./support/harness.js"
import { bin, built } from "./support/process.js"

// Start-up is module loading: a command must not load what only other commands use (the client and undici,
// the emulator), or every `--help` pays for them.

/** A module-resolution hook that appends every module the process resolves to the file named in its env. */
const hooks = `import { appendFileSync } from "node:fs"
export const resolve = async (specifier, context, next) => {
  const resolved = await next(specifier, context)
  appendFileSync(process.env.BATCH_EXPORT_TEST_LOADED, resolved.url + "\\n")
  return resolved
}
`

/** Runs `batch-export <args>` and returns its exit code and the URLs of the modules it loaded. */
const loading = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped()
    const hooksFile = Path.join(dir, "hooks.mjs")
    const registerFile = Path.join(dir, "register.mjs")
    const list = Path.join(dir, "loaded.txt")
    yield* fs.writeFileString(hooksFile, hooks)
    yield* fs.writeFileString(
      registerFile,
      `import { register } from "node:module"\nregister(${JSON.stringify(pathToFileURL(hooksFile).href)})\n`
    )
    yield* fs.writeFileString(list, "")
    const code = yield* Effect.async<number>((resume) => {
      const child = execFile(
        process.execPath,
        ["--import", pathToFileURL(registerFile).href, bin, ...args],
        { env: { PATH: process.env["PATH"] ?? "", BATCH_EXPORT_TEST_LOADED: list, ...env } },
        (error) => resume(Effect.succeed(error === null ? 0 : typeof error.code === "number" ? error.code : -1))
      )
      return Effect.sync(() => child.kill())
    })
    const loaded = (yield* fs.readFileString(list)).split("\n").filter((line) => line !== "")
    return { code, loaded }
  })

const client = /\/(packages\/node|@batch-export\/node)\//
const undici = /\/undici\//
const emulator = /\/(packages\/emulator|@batch-export\/emulator)\//
const handler = (name: string) => new RegExp(`/internal/handlers/${name}\\.js$`)

const matching = (loaded: ReadonlyArray<string>, pattern: RegExp) => loaded.filter((url) => pattern.test(url))

describe.skipIf(!built)("start-up", () => {
  it.scopedLive("--help loads neither the client, undici, the emulator nor any command's handler", () =>
    Effect.gen(function* () {
      const run = yield* loading(["--help"])
      assert.strictEqual(run.code, 0)
      // the hook saw the CLI itself load
      assert.isNotEmpty(matching(run.loaded, /\/cli\/dist\/src\/Cli\.js$/))
      assert.deepStrictEqual(matching(run.loaded, client), [])
      assert.deepStrictEqual(matching(run.loaded, undici), [])
      assert.deepStrictEqual(matching(run.loaded, emulator), [])
      assert.deepStrictEqual(matching(run.loaded, /\/internal\/handlers\//), [])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scopedLive("view loads the client and its own handler only: not the emulator, not another command's", () =>
    Effect.gen(function* () {
      const served = yield* Emulator.make()
      const [exp] = yield* served.exports
      const run = yield* loading(["view", exp!.id], envFor(served))
      assert.strictEqual(run.code, 0)
      assert.isNotEmpty(matching(run.loaded, client))
      assert.isNotEmpty(matching(run.loaded, handler("view")))
      assert.deepStrictEqual(matching(run.loaded, emulator), [])
      for (const other of ["create", "list", "fetch", "records", "download", "emulator", "demo"]) {
        assert.deepStrictEqual(matching(run.loaded, handler(other)), [], other)
      }
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})
