import { Progress } from "@batch-export/cli"
import { Emulator, Testing } from "@batch-export/emulator"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import * as Path from "node:path"
import { assertErrorLine, assertOneLineFailure, envFor, type Run, runCli } from "./support/harness.js"

// Exports created through the API go CREATED → PENDING → RUNNING → final, one step per look (pollsPerStatus 1).
const layer = Layer.merge(
  Emulator.layer({
    seed: 9,
    pollsPerStatus: 1,
    partsPerExport: 3,
    recordsPerPart: 40,
    exports: [
      { status: "SUCCESS", parts: 2, recordsPerPart: 30 },
      { status: "ERROR", parts: 0 }
    ]
  }),
  NodeFileSystem.layer
)

const tempDir = Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeTempDirectoryScoped())

/** Creates an export through the CLI itself and returns its id. */
const created = (...flags: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const emulator = yield* Emulator.Emulator
    const run = yield* runCli(["create", "attributes", "--attribute", "$language", ...flags], envFor(emulator))
    assert.strictEqual(run.code, 0, run.output)
    return run.stdout[0]!
  })

/**
 * Runs `fetch` with the TestClock: each of `waits` lets one poll interval elapse once the command sleeps on it
 * (nothing sleeps in real time).
 */
const fetchDriven = (args: ReadonlyArray<string>, waits: ReadonlyArray<Duration.DurationInput>) =>
  Effect.gen(function* () {
    const emulator = yield* Emulator.Emulator
    const fiber = yield* Effect.fork(runCli(["fetch", ...args], envFor(emulator)))
    for (const wait of waits) yield* Testing.elapse(wait)
    return yield* Fiber.join(fiber)
  })

/** stdout, line by line */
const stdoutLines = (run: Run) => run.stdout.join("\n").split("\n")

const statusLines = (run: Run) => run.stderr.filter((line) => /^export_\w+: [A-Z]+(, next check in \w+)?$/.test(line))

/** The status lines of an export waited for, polled every 5 s (the default). */
const waiting = (id: string, ...statuses: ReadonlyArray<string>) =>
  statuses.map((status) =>
    status === "SUCCESS" || status === "ERROR" ? `${id}: ${status}` : `${id}: ${status}, next check in 5s`
  )

describe("batch-export fetch", () => {
  it.layer(layer)((it) => {
    it.scoped("waits showing each status, downloads every part with progress, prints the manifest", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.Emulator
        const fs = yield* FileSystem.FileSystem
        const id = yield* created("--identifier", "custom_id")
        const dir = Path.join(yield* tempDir, "out")
        // the default interval: 5 s between looks; three waits before SUCCESS
        const run = yield* fetchDriven([id, "--out-dir", dir], ["5 seconds", "5 seconds", "5 seconds"])
        assert.strictEqual(run.code, 0, run.output)

        assert.deepStrictEqual(statusLines(run), waiting(id, "CREATED", "PENDING", "RUNNING", "SUCCESS"))
        const files = (yield* emulator.exports).find((exp) => exp.id === id)!.files
        assert.strictEqual(files.length, 3)
        const total = files.reduce((n, f) => n + f.size, 0)
        assert.isTrue(run.stderr.at(-1)!.endsWith(`] ${id} (3 files)`), run.stderr.at(-1))
        assert.isTrue(
          run.stderr.at(-1)!.startsWith(`100% ${Progress.formatBytes(total)}/${Progress.formatBytes(total)}`),
          run.stderr.at(-1)
        )

        // the manifest: one line per file, part TAB path TAB bytes, in part order
        assert.deepStrictEqual(
          stdoutLines(run),
          files.map((f) => `${f.part}\t${Path.join(dir, `${id}-part-00${f.part}.json`)}\t${f.size}`)
        )
        for (const file of files) {
          const saved = yield* fs.readFile(Path.join(dir, `${id}-part-00${file.part}.json`))
          assert.deepStrictEqual(Buffer.from(saved), Buffer.from(yield* emulator.fileBytes(file.id)))
        }
        assert.notInclude(run.output, emulator.restApiKey)
      })
    )

    it.scoped("--poll-interval, --concurrency 1, and an export already SUCCESS: no wait at all", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.Emulator
        const [ready] = yield* emulator.exports
        const dir = yield* tempDir
        const run = yield* fetchDriven(
          [ready!.id, "--out-dir", dir, "--poll-interval", "1.5", "--concurrency", "1"],
          []
        )
        assert.strictEqual(run.code, 0, run.output)
        assert.deepStrictEqual(statusLines(run), [`${ready!.id}: SUCCESS`])
        assert.strictEqual(stdoutLines(run).length, 2)
      })
    )

    it.scoped("--poll-interval sets the wait between looks", () =>
      Effect.gen(function* () {
        const id = yield* created()
        const dir = yield* tempDir
        const run = yield* fetchDriven(
          [id, "--out-dir", dir, "--poll-interval", "1.25"],
          ["1250 millis", "1250 millis", "1250 millis"]
        )
        assert.strictEqual(run.code, 0, run.output)
        assert.strictEqual(stdoutLines(run).length, 3)
      })
    )

    it.scoped("an export that ends in ERROR: the statuses, then one ExportFailed line, exit 1", () =>
      Effect.gen(function* () {
        const id = yield* created("--segment", "ERROR")
        const dir = yield* tempDir
        const run = yield* fetchDriven([id, "--out-dir", dir], ["5 seconds", "5 seconds", "5 seconds"])
        assert.strictEqual(run.code, 1, run.output)
        assert.deepStrictEqual(run.stdout, [])
        assert.deepStrictEqual(statusLines(run), waiting(id, "CREATED", "PENDING", "RUNNING", "ERROR"))
        const errors = run.stderr.filter((line) => line.startsWith("error: "))
        assert.strictEqual(errors.length, 1, run.output)
        assertErrorLine(errors[0]!, "ExportFailed", id, "ended with status ERROR")
        assert.deepStrictEqual(yield* (yield* FileSystem.FileSystem).readDirectory(dir), [])
      })
    )

    it.scoped("an export already in ERROR", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.Emulator
        const [, failed] = yield* emulator.exports
        const run = yield* fetchDriven([failed!.id, "--out-dir", yield* tempDir], [])
        assert.strictEqual(run.code, 1, run.output)
        assert.strictEqual(run.stderr.length, 2, run.output)
        assertErrorLine(run.stderr[1]!, "ExportFailed", failed!.id)
      })
    )

    it.scoped("past --timeout: one ExportTimeout line naming the last status", () =>
      Effect.gen(function* () {
        const id = yield* created()
        const dir = yield* tempDir
        const emulator = yield* Emulator.Emulator
        const fiber = yield* Effect.fork(runCli(["fetch", id, "--out-dir", dir, "--timeout", "7"], envFor(emulator)))
        yield* Testing.elapse("5 seconds") // t = 5 s: PENDING; the next look would be at 10 s
        yield* Testing.awaitSleep("5 seconds")
        yield* TestClock.adjust("2 seconds") // t = 7 s: the deadline
        const run = yield* Fiber.join(fiber)
        assert.strictEqual(run.code, 1, run.output)
        assert.deepStrictEqual(statusLines(run), waiting(id, "CREATED", "PENDING"))
        const errors = run.stderr.filter((line) => line.startsWith("error: "))
        assert.strictEqual(errors.length, 1, run.output)
        assertErrorLine(errors[0]!, "ExportTimeout", id, "did not finish within 7s", "last status PENDING")
      })
    )

    for (const id of ["file_abc", "export_a/b", "nope"]) {
      it.scoped(`a malformed export id (${id}): InvalidArgument before any request`, () =>
        Effect.gen(function* () {
          const emulator = yield* Emulator.Emulator
          yield* emulator.clearRequests
          const run = yield* runCli(["fetch", id, "--out-dir", yield* tempDir], envFor(emulator))
          assertOneLineFailure(run, "InvalidArgument", "exportId")
          assert.deepStrictEqual(yield* emulator.requests, [])
        })
      )
    }

    it.scoped("404: an unknown export", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.Emulator
        const run = yield* runCli(
          ["fetch", "export_0000000000000000000000000000dead", "--out-dir", yield* tempDir],
          envFor(emulator)
        )
        assertOneLineFailure(run, "NotFound", "HTTP 404")
      })
    )

    it.scoped("--out-dir under a regular file: FileWriteError after the wait", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.Emulator
        const fs = yield* FileSystem.FileSystem
        const [ready] = yield* emulator.exports
        const file = Path.join(yield* tempDir, "a-file")
        yield* fs.writeFileString(file, "")
        const run = yield* runCli(["fetch", ready!.id, "--out-dir", Path.join(file, "sub")], envFor(emulator))
        assert.strictEqual(run.code, 1, run.output)
        const errors = run.stderr.filter((line) => line.startsWith("error: "))
        assert.strictEqual(errors.length, 1, run.output)
        assertErrorLine(errors[0]!, "FileWriteError")
      })
    )
  })

  it.scoped("a storage origin answering 403: StorageError, nothing left in the directory", () =>
    Effect.gen(function* () {
      const emulator = yield* Emulator.make({ exports: [{ status: "SUCCESS", parts: 2, recordsPerPart: 10 }] })
      const [ready] = yield* emulator.exports
      const dir = yield* tempDir
      const denied = Emulator.Reply.status(403)
      yield* emulator.script("storage", denied, denied, denied, denied, denied, denied)
      const run = yield* runCli(["fetch", ready!.id, "--out-dir", dir, "--concurrency", "1"], {
        ...envFor(emulator),
        BATCH_MAX_RETRIES: "0"
      })
      assert.strictEqual(run.code, 1, run.output)
      const errors = run.stderr.filter((line) => line.startsWith("error: "))
      assert.strictEqual(errors.length, 1, run.output)
      assertErrorLine(errors[0]!, "StorageError", "HTTP 403")
      assert.notInclude(errors[0], "signature")
      assert.deepStrictEqual(yield* (yield* FileSystem.FileSystem).readDirectory(dir), [])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})

// Real processes (the built executable): import declarations are hoisted, kept here so the block stands alone.
import { built as executableBuilt, run as runExecutable } from "./support/process.js"

describe.skipIf(!executableBuilt)("fetch's numbers, as a process", () => {
  it.scopedLive(
    "--max-size reaches every part's download: DownloadTooLarge naming the limit, exit 1",
    () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.make({ exports: [{ status: "SUCCESS", parts: 2, recordsPerPart: 300 }] })
        const [exp] = yield* emulator.exports
        assert.isAbove(exp!.files[0]!.size, 5000)
        const dir = yield* tempDir
        const result = yield* runExecutable(
          ["fetch", exp!.id, "--out-dir", dir, "--max-size", "1000", "-q", "--concurrency", "1"],
          envFor(emulator)
        )
        assert.strictEqual(result.code, 1, result.stderr)
        assert.include(result.stderr, "DownloadTooLarge")
        assert.include(result.stderr, "1000-byte limit")
        assert.deepStrictEqual(result.stdout.toString(), "")
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    30_000
  )

  it.scopedLive(
    "a flag and its variable accept the same numbers: decimal digits only, within the stated bounds",
    () =>
      Effect.gen(function* () {
        // a closed port and the test's own directory: a regression that let a value through could reach neither
        // Batch nor the package's directory
        const env = {
          BATCH_REST_API_KEY: "rest_key_never_printed",
          BATCH_PROJECT_KEY: "project_x",
          BATCH_API_URL: "http://127.0.0.1:1"
        }
        const fetch = ["fetch", "export_abc", "--out-dir", Path.join(yield* tempDir, "d")]
        const seconds = "must be a number of seconds (30, 0.5) or a duration with a unit"
        for (const [args, extra, code, message] of [
          [[...fetch, "--poll-interval", "1e-9"], {}, 2, `--poll-interval ${seconds}`],
          [
            [...fetch, "--poll-interval", "0.5"],
            {},
            2,
            "--poll-interval must be at least 1s: Batch rate-limits its API"
          ],
          [[...fetch, "--concurrency", "0x10"], {}, 2, "--concurrency must be a whole number from 1 to 64"],
          [[...fetch, "--idle-timeout", "1e3"], {}, 2, `--idle-timeout ${seconds}`],
          [fetch, { BATCH_IDLE_TIMEOUT: "1e3" }, 1, `BATCH_IDLE_TIMEOUT ${seconds}`],
          [fetch, { BATCH_MAX_RETRIES: "0x10" }, 1, "BATCH_MAX_RETRIES must be a whole number from 0 to 100"],
          [fetch, { BATCH_MAX_RETRIES: "999999999999" }, 1, "BATCH_MAX_RETRIES must be a whole number from 0 to 100"]
        ] as const) {
          const result = yield* runExecutable(args, { ...env, ...extra })
          assert.strictEqual(result.code, code, `${args.join(" ")}: ${result.stderr}`)
          assert.include(result.stderr, message)
          assert.notInclude(result.stderr, "rest_key_never_printed")
        }
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    60_000
  )
})
