import { Emulator } from "@batch-export/emulator"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { existsSync, statSync } from "node:fs"
import * as Path from "node:path"
import { envFor } from "./support/harness.js"
import { built, run, shell, start, until } from "./support/process.js"

// fetch, records and download as processes against the emulator: where fetch saves by default, `--wait` on
// records and download (fetch's polling and flags), and download resuming across runs as fetch does.

const tempDir = Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeTempDirectoryScoped())

/** An emulator with one SUCCESS export of one 300-record file, and exports created through it in 3 looks. */
const oneFile = Effect.gen(function* () {
  const emulator = yield* Emulator.make({
    exports: [{ status: "SUCCESS", parts: 1, recordsPerPart: 300 }],
    pollsPerStatus: 1,
    partsPerExport: 2,
    recordsPerPart: 40
  })
  const exp = (yield* emulator.exports)[0]!
  return { emulator, exp, file: exp.files[0]! }
})

/** Batch's 409 while the file's export is not SUCCESS. */
const notReady = Emulator.Reply.status(409, {
  body: { error_code: "EXPORT_NOT_READY", error_message: "The export is RUNNING" }
})

const storageRanges = (emulator: Emulator.Service) =>
  Effect.map(emulator.requests, (all) => all.filter((r) => r.origin === "storage").map((r) => r.headers["range"]))

const lines = (stdout: Buffer) =>
  stdout
    .toString("utf8")
    .split("\n")
    .filter((line) => line !== "")

describe.skipIf(!built)("waiting and resuming, as processes", () => {
  it.scopedLive(
    "fetch without --out-dir saves the parts in the current directory",
    () =>
      Effect.gen(function* () {
        const { emulator, exp, file } = yield* oneFile
        const dir = yield* tempDir
        const result = yield* shell(`cd "$DIR" && "$NODE" "$BIN" fetch ${exp.id} --quiet`, {
          ...envFor(emulator),
          DIR: dir
        })
        assert.strictEqual(result.code, 0, result.stderr)
        const name = `${exp.id}-part-001.json`
        // paths as given: relative to the current directory
        assert.strictEqual(result.stdout, `1\t${name}\t${file.size}\n`)
        const fs = yield* FileSystem.FileSystem
        assert.deepStrictEqual(
          Buffer.from(yield* fs.readFile(Path.join(dir, name))),
          Buffer.from(yield* emulator.fileBytes(file.id))
        )
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    30_000
  )

  it.scopedLive(
    "records of a running export: ExportNotReady, or with --wait every record once it is done",
    () =>
      Effect.gen(function* () {
        const { emulator } = yield* oneFile
        const created = yield* run(["create", "attributes", "--attribute", "plan"], envFor(emulator))
        assert.strictEqual(created.code, 0, created.stderr)
        const id = created.stdout.toString("utf8").trim()

        const early = yield* run(["records", id], envFor(emulator))
        assert.notStrictEqual(early.code, 0)
        assert.include(early.stderr, "ExportNotReady")

        const waited = yield* run(["records", id, "--wait", "--poll-interval", "1"], envFor(emulator))
        assert.strictEqual(waited.code, 0, waited.stderr)
        assert.strictEqual(lines(waited.stdout).length, 2 * 40)
        // fetch's status lines, on stderr
        assert.include(waited.stderr, `${id}: RUNNING, next check in 1s`)
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    30_000
  )

  it.scopedLive(
    "download --wait asks again while Batch answers 409, then saves the file; without --wait the 409 is the error",
    () =>
      Effect.gen(function* () {
        const { emulator, file } = yield* oneFile
        const dir = yield* tempDir
        const out = Path.join(dir, "part.json")

        yield* emulator.script("download", notReady)
        const early = yield* run(["download", file.id, "--out", out], envFor(emulator))
        assert.notStrictEqual(early.code, 0)
        assert.include(early.stderr, "Conflict")

        yield* emulator.script("download", notReady, notReady)
        const waited = yield* run(
          ["download", file.id, "--out", out, "--wait", "--poll-interval", "1"],
          envFor(emulator)
        )
        assert.strictEqual(waited.code, 0, waited.stderr)
        assert.include(waited.stderr, `${file.id}: its export is not done (409), checking again every 1s`)
        const fs = yield* FileSystem.FileSystem
        assert.deepStrictEqual(Buffer.from(yield* fs.readFile(out)), Buffer.from(yield* emulator.fileBytes(file.id)))
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    30_000
  )

  it.scopedLive(
    "records <file_id> --wait asks again while Batch answers 409",
    () =>
      Effect.gen(function* () {
        const { emulator, file } = yield* oneFile
        yield* emulator.script("download", notReady)
        const waited = yield* run(["records", file.id, "--wait", "--poll-interval", "1"], envFor(emulator))
        assert.strictEqual(waited.code, 0, waited.stderr)
        assert.strictEqual(lines(waited.stdout).length, 300)
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    30_000
  )

  /** A download to `out` whose body stalls after 1000 bytes, once they are in its `.partial`. */
  const stalled = Effect.gen(function* () {
    const { emulator, file } = yield* oneFile
    yield* emulator.script("storage", Emulator.Reply.stallAfter(1000))
    const dir = yield* tempDir
    const out = Path.join(dir, "part.json")
    const partial = Path.join(dir, ".part.json.partial")
    const running = yield* start(["download", file.id, "--out", out, "--idle-timeout", "60"], envFor(emulator))
    assert.isTrue(yield* until(() => existsSync(partial) && statSync(partial).size === 1000), running.stderrSoFar())
    return { emulator, file, dir, out, running }
  })

  /** A download killed with SIGKILL after 1000 bytes: what it leaves beside `out`. */
  const killedAfter1000 = Effect.gen(function* () {
    const { dir, emulator, file, out, running } = yield* stalled
    running.child.kill("SIGKILL")
    assert.strictEqual((yield* running.finished).signal, "SIGKILL")
    assert.isTrue(existsSync(Path.join(dir, ".part.json.lock")), "a killed run cannot remove its lock")
    yield* emulator.clearRequests
    return { emulator, file, dir, out }
  })

  it.scopedLive(
    "SIGTERM during a download: exit 143, what it received kept for the next run (its .partial and state), no lock",
    () =>
      Effect.gen(function* () {
        const { dir, running } = yield* stalled
        running.child.kill("SIGTERM")
        const result = yield* running.finished
        assert.strictEqual(result.code, 143, result.stderr)
        const fs = yield* FileSystem.FileSystem
        assert.deepStrictEqual([...(yield* fs.readDirectory(dir))].sort(), [
          ".part.json.partial",
          ".part.json.partial.state"
        ])
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    30_000
  )

  it.scopedLive(
    "a download killed mid-file is continued by the next run (Range from byte 1000), ending byte-exact",
    () =>
      Effect.gen(function* () {
        const { dir, emulator, file, out } = yield* killedAfter1000
        const again = yield* run(["download", file.id, "--out", out], envFor(emulator))
        assert.strictEqual(again.code, 0, again.stderr)
        assert.deepStrictEqual(yield* storageRanges(emulator), ["bytes=1000-"])
        const fs = yield* FileSystem.FileSystem
        assert.deepStrictEqual(Buffer.from(yield* fs.readFile(out)), Buffer.from(yield* emulator.fileBytes(file.id)))
        assert.deepStrictEqual(yield* fs.readDirectory(dir), ["part.json"])
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    30_000
  )

  it.scopedLive(
    "download --force after a killed run starts from byte 0 and leaves nothing of the old one",
    () =>
      Effect.gen(function* () {
        const { dir, emulator, file, out } = yield* killedAfter1000
        const again = yield* run(["download", file.id, "--out", out, "--force"], envFor(emulator))
        assert.strictEqual(again.code, 0, again.stderr)
        assert.deepStrictEqual(yield* storageRanges(emulator), [undefined])
        const fs = yield* FileSystem.FileSystem
        assert.deepStrictEqual(Buffer.from(yield* fs.readFile(out)), Buffer.from(yield* emulator.fileBytes(file.id)))
        assert.deepStrictEqual(yield* fs.readDirectory(dir), ["part.json"])
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    30_000
  )
})
