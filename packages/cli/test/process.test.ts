import { Emulator } from "@batch-export/emulator"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { execFileSync } from "node:child_process"
import { existsSync, rmSync, statSync } from "node:fs"
import * as Path from "node:path"
import { envFor } from "./support/harness.js"
import { built, inTerminal, run, shell, start, until } from "./support/process.js"

const tempDir = Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeTempDirectoryScoped())

/** An emulator with one SUCCESS export of one 300-record file. */
const oneFile = Effect.gen(function* () {
  const emulator = yield* Emulator.make({ exports: [{ status: "SUCCESS", parts: 1, recordsPerPart: 300 }] })
  const exp = (yield* emulator.exports)[0]!
  return { emulator, exp, file: exp.files[0]! }
})

/** A terminal's view of a byte stream: the pieces between carriage returns and line feeds, escapes removed. */
const segments = (screen: string) =>
  screen
    .split(/[\r\n]+/)
    .map((segment) => segment.replace(/\x1b\[[0-9;]*[A-Za-z]/g, ""))
    .filter((segment) => segment !== "")

describe.skipIf(!built)("the built executable, as a process", () => {
  it.scopedLive(
    "`records … | head -3`: the closed pipe ends the command quietly, exit 0",
    () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.make({ exports: [{ status: "SUCCESS", parts: 2, recordsPerPart: 5000 }] })
        const [exp] = yield* emulator.exports
        const result = yield* shell(
          `"$NODE" "$BIN" records ${exp!.id} | head -3; echo "status=\${PIPESTATUS[0]}" >&2`,
          {
            ...envFor(emulator)
          }
        )
        const lines = result.stdout.split("\n").filter((line) => line !== "")
        assert.strictEqual(lines.length, 3, result.stderr)
        for (const line of lines) assert.isObject(JSON.parse(line))
        assert.strictEqual(result.stderr, "status=0\n")
      }),
    30_000
  )

  it.scopedLive(
    "--log-level debug: logs go to stderr, stdout stays NDJSON",
    () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.make({ exports: [{ status: "SUCCESS", parts: 1, recordsPerPart: 20 }] })
        const [exp] = yield* emulator.exports
        const result = yield* run(["--log-level", "debug", "records", exp!.id], envFor(emulator))
        assert.strictEqual(result.code, 0, result.stderr)
        const lines = result.stdout
          .toString("utf8")
          .split("\n")
          .filter((line) => line !== "")
        assert.strictEqual(lines.length, 20)
        for (const line of lines) assert.isObject(JSON.parse(line), line)
        assert.include(result.stderr, "debug: ")
      }),
    30_000
  )

  it.scopedLive(
    "--out -: the file's bytes on stdout, nothing else",
    () =>
      Effect.gen(function* () {
        const { emulator, file } = yield* oneFile
        const result = yield* run(["download", file.id, "--out", "-"], envFor(emulator))
        assert.strictEqual(result.code, 0, result.stderr)
        assert.deepStrictEqual(result.stdout, Buffer.from(yield* emulator.fileBytes(file.id)))
      }),
    30_000
  )

  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129]
  ] as const) {
    it.scopedLive(
      `${signal} during a stalled download --force: exit ${code}, no file left (neither the file nor its temporary)`,
      () =>
        Effect.gen(function* () {
          const { emulator, file } = yield* oneFile
          yield* emulator.script("storage", Emulator.Reply.stallAfter(1000))
          const fs = yield* FileSystem.FileSystem
          const dir = yield* tempDir
          // --force: written atomically, nothing kept to continue (without it, see wait.test.ts)
          const running = yield* start(
            ["download", file.id, "--out", Path.join(dir, "part.json"), "--force"],
            envFor(emulator)
          )
          // the first 1000 bytes were received (and written to a temporary file beside the destination, which
          // the download's lock keeps company)
          assert.isTrue(yield* until(() => running.stderrSoFar().includes("1000 B")), running.stderrSoFar())
          assert.deepStrictEqual(
            (yield* fs.readDirectory(dir))
              .map((name) => name.replace(/^\.part\.json\.[0-9a-z-]+\.partial$/, "temporary"))
              .sort(),
            [".part.json.lock", "temporary"]
          )
          running.child.kill(signal)
          const result = yield* running.finished
          assert.strictEqual(result.code, code, result.stderr)
          assert.deepStrictEqual(yield* fs.readDirectory(dir), [])
        }).pipe(Effect.provide(NodeFileSystem.layer)),
      30_000
    )
  }

  it.scopedLive(
    "two fetch runs on one directory at once: the second refuses, naming the first; the first ends byte-exact",
    () =>
      Effect.gen(function* () {
        const { emulator, exp, file } = yield* oneFile
        // the first run's body stalls after 1000 bytes, until its idle timeout resumes it
        yield* emulator.script("storage", Emulator.Reply.stallAfter(1000))
        const dir = yield* tempDir
        const partial = Path.join(dir, `.${exp.id}-part-001.json.partial`)
        const first = yield* start(["fetch", exp.id, "--out-dir", dir, "--idle-timeout", "3"], envFor(emulator))
        assert.isTrue(yield* until(() => existsSync(partial) && statSync(partial).size === 1000), first.stderrSoFar())
        const second = yield* run(["fetch", exp.id, "--out-dir", dir], envFor(emulator))
        assert.strictEqual(second.code, 1, second.stderr)
        assert.include(second.stderr, `another download (pid ${first.child.pid}) is writing it`)
        const done = yield* first.finished
        assert.strictEqual(done.code, 0, done.stderr)
        const fs = yield* FileSystem.FileSystem
        assert.deepStrictEqual(yield* fs.readDirectory(dir), [`${exp.id}-part-001.json`])
        assert.deepStrictEqual(
          Buffer.from(yield* fs.readFile(Path.join(dir, `${exp.id}-part-001.json`))),
          Buffer.from(yield* emulator.fileBytes(file.id))
        )
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    30_000
  )

  it.scopedLive(
    "a fetch killed with SIGKILL mid-part leaves its lock; the next run takes it over and ends byte-exact",
    () =>
      Effect.gen(function* () {
        const { emulator, exp, file } = yield* oneFile
        yield* emulator.script("storage", Emulator.Reply.stallAfter(1000))
        const dir = yield* tempDir
        const name = `${exp.id}-part-001.json`
        const partial = Path.join(dir, `.${name}.partial`)
        const lock = Path.join(dir, `.${name}.lock`)
        const first = yield* start(["fetch", exp.id, "--out-dir", dir, "--idle-timeout", "60"], envFor(emulator))
        assert.isTrue(yield* until(() => existsSync(partial) && statSync(partial).size === 1000), first.stderrSoFar())
        first.child.kill("SIGKILL")
        assert.strictEqual((yield* first.finished).signal, "SIGKILL")
        assert.isTrue(existsSync(lock), "a killed run cannot remove its lock")
        const again = yield* run(["fetch", exp.id, "--out-dir", dir], envFor(emulator))
        assert.strictEqual(again.code, 0, again.stderr)
        const fs = yield* FileSystem.FileSystem
        assert.deepStrictEqual(yield* fs.readDirectory(dir), [name])
        assert.deepStrictEqual(
          Buffer.from(yield* fs.readFile(Path.join(dir, name))),
          Buffer.from(yield* emulator.fileBytes(file.id))
        )
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    30_000
  )

  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143]
  ] as const) {
    it.scopedLive(
      `--out FIFO with no reader: ${signal} ends the waiting open, exit ${code}`,
      () =>
        Effect.gen(function* () {
          const { emulator, file } = yield* oneFile
          const fifo = Path.join(yield* tempDir, "pipe")
          execFileSync("mkfifo", [fifo])
          const running = yield* start(["download", file.id, "--out", fifo], envFor(emulator))
          // the storage answered: the command is opening the FIFO, which waits for a reader
          for (let i = 0; i < 200; i++) {
            if ((yield* emulator.requests).some((r) => r.origin === "storage")) break
            yield* Effect.sleep("50 millis")
          }
          yield* Effect.sleep("200 millis")
          running.child.kill(signal)
          const result = yield* running.finished.pipe(
            Effect.timeoutFail({
              duration: "5 seconds",
              onTimeout: () => new Error(`${signal} did not end an open waiting on a FIFO`)
            })
          )
          assert.strictEqual(result.code, code, result.stderr)
        }).pipe(Effect.provide(NodeFileSystem.layer)),
      30_000
    )
  }

  for (const columns of [40, 80]) {
    it.scopedLive(
      `on a ${columns}-column terminal the progress line is redrawn in place and never wider than the terminal`,
      () =>
        Effect.gen(function* () {
          const emulator = yield* Emulator.make({ exports: [{ status: "SUCCESS", parts: 1, recordsPerPart: 3000 }] })
          const [exp] = yield* emulator.exports
          const file = exp!.files[0]!
          const dir = yield* tempDir
          const result = yield* inTerminal(
            columns,
            ["download", file.id, "--out", Path.join(dir, "p.json"), "--json"],
            envFor(emulator)
          )
          assert.strictEqual(result.code, 0, result.screen)
          assert.include(result.screen, "\r\x1b[2K")
          const progress = segments(result.screen).filter((segment) => segment.includes("%"))
          assert.isAbove(progress.length, 0, JSON.stringify(result.screen))
          for (const line of progress) {
            assert.isBelow(line.length, columns, JSON.stringify(line))
            assert.match(line, /^\d{1,3}% /, "the numbers come first")
          }
          assert.include(progress.at(-1), "100%")
        }).pipe(Effect.provide(NodeFileSystem.layer)),
      30_000
    )

    it.scopedLive(
      `on a ${columns}-column terminal fetch shows the numbers first and its label shortened; a re-run that ` +
        "skips a part ends at 100%",
      () =>
        Effect.gen(function* () {
          const emulator = yield* Emulator.make({ exports: [{ status: "SUCCESS", parts: 2, recordsPerPart: 2000 }] })
          const [exp] = yield* emulator.exports
          const dir = yield* tempDir
          const fetch = ["fetch", exp!.id, "--out-dir", dir, "--json"]
          const progressOf = (screen: string) => {
            const lines = segments(screen).filter((segment) => /^\d{1,3}% /.test(segment))
            assert.isAbove(lines.length, 0, JSON.stringify(screen))
            for (const line of lines) assert.isBelow(line.length, columns, JSON.stringify(line))
            return lines
          }
          const first = yield* inTerminal(columns, fetch, envFor(emulator))
          assert.strictEqual(first.code, 0, first.screen)
          const last = progressOf(first.screen).at(-1)!
          assert.match(last, /^100% /)
          // the label keeps its ends (the id's start, the number of files), shortened in its middle when narrow
          assert.match(last, /^100% .* export_.*files\)$/)
          if (columns === 80) assert.include(last, `${exp!.id} (2 files)`)
          // part 2 is complete: the re-run skips it and downloads part 1 only
          yield* Effect.sync(() => rmSync(Path.join(dir, `${exp!.id}-part-001.json`)))
          const again = yield* inTerminal(columns, fetch, envFor(emulator))
          assert.strictEqual(again.code, 0, again.screen)
          assert.match(progressOf(again.screen).at(-1)!, /^100% /, "a skipped part counts as done")
        }).pipe(Effect.provide(NodeFileSystem.layer)),
      30_000
    )
  }

  it.scopedLive(
    "colors on a terminal only, and not with NO_COLOR: the error line; help has none",
    () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.make()
        const args = ["download", "file_0000000000000000000000000000dead", "--out", "x.json"]
        const colored = yield* inTerminal(80, args, envFor(emulator))
        assert.strictEqual(colored.code, 1)
        assert.include(colored.screen, "\x1b[31merror:\x1b[0m NotFound")
        const plain = yield* inTerminal(80, ["--help"], { NO_COLOR: "1" })
        assert.include(plain.screen, "Exit codes:")
        assert.notInclude(plain.screen, "\x1b[")
        const help = yield* run(["--help"])
        assert.include(help.stdout.toString("utf8"), "Exit codes:")
        assert.notInclude(help.stdout.toString("utf8") + help.stderr, "\x1b[")
        // (the error line without a terminal is plain: see bin.test.ts)
      }),
    60_000
  )
})
