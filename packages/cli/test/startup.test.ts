import { Emulator } from "@batch-export/emulator"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { existsSync } from "node:fs"
import { envFor } from "./support/harness.js"
import { loading } from "./support/loading.js"
import { unbundledBin } from "./support/process.js"

// Start-up is module loading: a command must not load what only other commands use (the client and undici,
// the emulator), or every `--help` pays for them. Checked on the unbundled build, where every source file is
// its own module (the lazy structure the bundle's chunks follow: bundle.test.ts checks the bundle itself).

const client = /\/(packages\/node|@batch-export\/node)\//
const undici = /\/undici\//
const emulator = /\/(packages\/emulator|@batch-export\/emulator)\//
const handler = (name: string) => new RegExp(`/internal/handlers/${name}\\.js$`)

const matching = (loaded: ReadonlyArray<string>, pattern: RegExp) => loaded.filter((url) => pattern.test(url))

describe.skipIf(!existsSync(unbundledBin))("start-up (unbundled build)", () => {
  it.scopedLive("--help loads neither the client, undici, the emulator nor any command's handler", () =>
    Effect.gen(function* () {
      const run = yield* loading(unbundledBin, ["--help"])
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
      const run = yield* loading(unbundledBin, ["view", exp!.id], envFor(served))
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
