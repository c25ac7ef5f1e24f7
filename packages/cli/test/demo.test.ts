import { Testing } from "@batch-export/emulator"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Path from "node:path"
import { assertErrorLine, runCli } from "./support/harness.js"
import { stored } from "./support/sync.js"

/**
 * Runs `demo` on the TestClock: its export moves one status per look, looks are 200 ms apart, so three waits
 * take it from CREATED to SUCCESS (nothing sleeps in real time).
 */
const demo = (dir: string) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(runCli(["demo", "--out-dir", dir]))
    for (let i = 0; i < 3; i++) yield* Testing.elapse("1 second")
    return yield* Fiber.join(fiber)
  })

describe("batch-export demo", () => {
  it.scoped("creates an export with the real client, waits, downloads every part, counts the records", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = Path.join(yield* fs.makeTempDirectoryScoped(), "out")
      const run = yield* demo(dir)
      assert.strictEqual(run.code, 0, run.output)
      const stdout = run.stdout.join("\n")

      assert.include(stdout, "started a Batch export API emulator at http://127.0.0.1:")
      const id = /^created (export_\w+)$/m.exec(stdout)?.[1]
      assert.isDefined(id, stdout)

      // the status as it changes, then the progress of all parts together, on stderr
      assert.deepStrictEqual(run.stderr.slice(0, 4), [
        `${id}: CREATED, next check in 1s`,
        `${id}: PENDING, next check in 1s`,
        `${id}: RUNNING, next check in 1s`,
        `${id}: SUCCESS`
      ])
      assert.match(run.stderr.at(-1)!, new RegExp(`^100% ([\\d.]+ \\w+)/\\1 .*\\[#+\\] ${id} \\(3 files\\)$`))

      // 3 parts of 500 records
      const names = (yield* fs.readDirectory(dir)).filter((name) => name.endsWith(".json")).sort()
      assert.deepStrictEqual(
        names,
        [1, 2, 3].map((part) => `${id}-part-00${part}.json`)
      )
      let bytes = 0
      let records = 0
      for (const [i, name] of names.entries()) {
        const content = yield* fs.readFileString(Path.join(dir, name))
        bytes += Buffer.byteLength(content)
        const lines = content.split("\n").filter((line) => line.trim() !== "")
        records += lines.length
        for (const line of lines) JSON.parse(line)
        assert.include(stdout, `  part ${i + 1}  ${Path.join(dir, name)}  ${Buffer.byteLength(content)} bytes`)
      }
      assert.strictEqual(records, 1500)
      assert.include(stdout, `saved 3 files to ${dir}:`)
      // the records are counted by streaming them through the client: the same number as in the files
      assert.match(
        stdout,
        new RegExp(`^summary: ${id}: 3 files, ${bytes} bytes, 1500 records in \\d+\\.\\d\\d s$`, "m")
      )

      // then two emulated projects synced into DIR/batch-export.db, and the run table
      const database = Path.join(dir, "batch-export.db")
      assert.include(stdout, `syncing two emulated projects (shop, app) into ${database}`)
      const table = stdout.split("\n").slice(-3)
      assert.match(table[0]!, /^PROJECT\s+EXPORT\s+SLOT \(UTC\)\s+RESULT\s+PARTS\s+ROWS$/)
      assert.match(table[1]!, /^shop\s+profiles\s+\d{4}-\d\d-\d\d 00:00\s+ok\s+3\s+1500$/)
      assert.match(table[2]!, /^app\s+profiles\s+\d{4}-\d\d-\d\d 00:00\s+ok\s+3\s+1500$/)
      const landed = yield* stored({ filename: database })
      assert.deepStrictEqual(landed.profiles, [
        { project: "app", n: 1500, distinct: 1500 },
        { project: "shop", n: 1500, distinct: 1500 }
      ])
      assert.strictEqual(landed.runs.length, 2)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scoped("--json: stdout is one JSON summary, whose counts match the files", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = Path.join(yield* fs.makeTempDirectoryScoped(), "out")
      const fiber = yield* Effect.fork(runCli(["demo", "--out-dir", dir, "--json"]))
      for (let i = 0; i < 3; i++) yield* Testing.elapse("1 second")
      const run = yield* Fiber.join(fiber)
      assert.strictEqual(run.code, 0, run.output)
      assert.strictEqual(run.stdout.length, 1, run.stdout.join("\n"))
      const summary = JSON.parse(run.stdout[0]!)
      assert.strictEqual(summary.records, 1500)
      assert.strictEqual(summary.files.length, 3)
      assert.strictEqual(summary.directory, dir)
      let bytes = 0
      for (const name of yield* fs.readDirectory(dir)) {
        if (name.endsWith(".json")) bytes += (yield* fs.readFile(Path.join(dir, name))).length
      }
      assert.strictEqual(summary.bytes, bytes)
      // the sync part: one document per run, in the same summary
      assert.deepStrictEqual(
        summary.sync.map((run: { project: string; outcome: string; records: number }) => [
          run.project,
          run.outcome,
          run.records
        ]),
        [
          ["shop", "success", 1500],
          ["app", "success", 1500]
        ]
      )
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scoped("a directory that cannot be created: one line, non-zero exit", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const file = Path.join(dir, "a-file")
      yield* fs.writeFileString(file, "not a directory")
      const run = yield* demo(Path.join(file, "sub"))
      assert.strictEqual(run.code, 1, run.output)
      const errors = run.stderr.filter((line) => line.startsWith("error: "))
      assert.strictEqual(errors.length, 1, run.output)
      assertErrorLine(errors[0]!, "FileWriteError")
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})
