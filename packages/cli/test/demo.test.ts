import { FileSystem } from "@effect/platform"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Path from "node:path"
import { runCli } from "./support/harness.js"

describe("batch-export demo", () => {
  it.scopedLive("downloads every file of every SUCCESS export from an in-process emulator", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = Path.join(yield* fs.makeTempDirectoryScoped(), "out")
      const run = yield* runCli(["demo", "--out-dir", dir])
      assert.strictEqual(run.code, 0, run.output)

      // the sample data: SUCCESS (2 parts of 500 records), SUCCESS (1 part of 300 records), RUNNING (skipped)
      const names = (yield* fs.readDirectory(dir)).sort()
      assert.strictEqual(names.length, 3, names.join(", "))
      let bytes = 0
      let records = 0
      for (const name of names) {
        const content = yield* fs.readFileString(Path.join(dir, name))
        bytes += Buffer.byteLength(content)
        const lines = content.split("\n").filter((line) => line.trim() !== "")
        records += lines.length
        for (const line of lines) JSON.parse(line)
      }
      assert.strictEqual(records, 1300)

      const stdout = run.stdout.join("\n")
      assert.include(stdout, "started a Batch export API emulator at http://127.0.0.1:")
      assert.match(stdout, /skipping export_\w+: RUNNING, not SUCCESS/)
      assert.include(stdout, `saved 3 files to ${dir}:`)
      assert.match(stdout, new RegExp(`summary: 3 files, ${bytes} bytes, 1300 records in \\d+\\.\\d\\d s`))
      for (const name of names) assert.include(stdout, Path.join(dir, name))
      // progress: one line per visible change, each file reaching 100%
      assert.strictEqual(run.stderr.filter((line) => line.includes("100% ")).length, 3, run.stderr.join("\n"))
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scopedLive("a directory that cannot be created: one line, non-zero exit", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const file = Path.join(dir, "a-file")
      yield* fs.writeFileString(file, "not a directory")
      const run = yield* runCli(["demo", "--out-dir", Path.join(file, "sub")])
      assert.strictEqual(run.code, 1, run.output)
      const errors = run.stderr.filter((line) => line.startsWith("error: "))
      assert.strictEqual(errors.length, 1, run.output)
      assert.include(errors[0], "FileWriteError")
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})
