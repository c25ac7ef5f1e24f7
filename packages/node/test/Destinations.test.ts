import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { ClientError } from "@batch-export/core"
import { Emulator } from "@batch-export/emulator"
import { ExportFiles, ExportsClient } from "@batch-export/node"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as PlatformNodePath from "@effect/platform-node/NodePath"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import { clientLayer } from "./support/harness.js"

const layer = clientLayer().pipe(Layer.provideMerge(Emulator.layer()))

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "destinations-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

const setup = Effect.gen(function* () {
  const emulator = yield* Emulator.Emulator
  const [exp] = yield* emulator.exports
  const file = exp!.files[0]!
  const files = yield* ExportFiles.ExportFiles
  const storageRequests = Effect.map(emulator.requests, (all) => all.filter((r) => r.origin === "storage").length)
  const apiRequests = Effect.map(emulator.requests, (all) => all.filter((r) => r.origin === "api").length)
  return { emulator, file, files, bytes: Buffer.from(yield* emulator.fileBytes(file.id)), storageRequests, apiRequests }
})

/** Everything read from `path` (a FIFO) until its writer closes it, read on another stream. */
const readAll = (path: string) =>
  Effect.async<Buffer>((resume) => {
    const parts: Array<Buffer> = []
    const stream = Fs.createReadStream(path)
    stream.on("data", (part) => parts.push(Buffer.from(part)))
    stream.on("end", () => resume(Effect.succeed(Buffer.concat(parts))))
    stream.on("error", (e) => resume(Effect.die(e)))
    return Effect.sync(() => stream.destroy())
  })

describe("downloadToFile destinations", () => {
  it.scoped("an existing FIFO is written in place and stays a FIFO", () =>
    Effect.gen(function* () {
      const { bytes, file, files } = yield* setup
      const dir = yield* tempDir
      const fifo = NodePath.join(dir, "pipe")
      execFileSync("mkfifo", [fifo])
      const reader = yield* Effect.fork(readAll(fifo))
      const done = yield* files.downloadToFile(file.id, fifo)
      const read = yield* Fiber.join(reader)
      assert.strictEqual(done.path, fifo)
      assert.deepStrictEqual(read, bytes)
      assert.isTrue(Fs.statSync(fifo).isFIFO())
      assert.deepStrictEqual(Fs.readdirSync(dir), ["pipe"])
    }).pipe(Effect.provide(layer))
  )

  it.scoped("/dev/null is written in place and stays a character device", () =>
    Effect.gen(function* () {
      const { bytes, file, files } = yield* setup
      const before = Fs.statSync("/dev/null")
      assert.isTrue(before.isCharacterDevice())
      const done = yield* files.downloadToFile(file.id, "/dev/null")
      assert.strictEqual(done.bytes, bytes.length)
      const after = Fs.statSync("/dev/null")
      assert.isTrue(after.isCharacterDevice())
      assert.strictEqual(after.rdev, before.rdev)
      assert.isFalse(Fs.readdirSync("/dev").some((name) => name.startsWith(".null.")))
    }).pipe(Effect.provide(layer))
  )

  it.scoped("an existing directory receives <file id>.json", () =>
    Effect.gen(function* () {
      const { bytes, file, files } = yield* setup
      const dir = yield* tempDir
      const done = yield* files.downloadToFile(file.id, dir)
      assert.strictEqual(done.path, NodePath.join(dir, `${file.id}.json`))
      assert.deepStrictEqual(Fs.readFileSync(done.path), bytes)
      assert.deepStrictEqual(Fs.readdirSync(dir), [`${file.id}.json`])
    }).pipe(Effect.provide(layer))
  )

  it.scoped("a missing parent fails with FileWriteError before any request; createDirectories creates it", () =>
    Effect.gen(function* () {
      const { apiRequests, bytes, file, files, storageRequests } = yield* setup
      const dir = yield* tempDir
      const destination = NodePath.join(dir, "missing", "deeper", "x.json")
      const error = yield* Effect.flip(files.downloadToFile(file.id, destination))
      assert.instanceOf(error, ClientError.FileWriteError)
      assert.include(error.message, "does not exist")
      assert.notInclude(error.message, ".partial")
      assert.strictEqual(yield* apiRequests, 0)
      assert.strictEqual(yield* storageRequests, 0)
      const done = yield* files.downloadToFile(file.id, destination, { createDirectories: true })
      assert.deepStrictEqual(Fs.readFileSync(done.path), bytes)
    }).pipe(Effect.provide(layer))
  )

  it.scoped("an existing regular file is replaced atomically: unchanged on failure, replaced on success", () =>
    Effect.gen(function* () {
      const { bytes, emulator, file, files } = yield* setup
      const dir = yield* tempDir
      const destination = NodePath.join(dir, "x.json")
      Fs.writeFileSync(destination, "old")
      const inode = Fs.statSync(destination).ino
      yield* emulator.script("storage", Emulator.Reply.status(404))
      yield* Effect.flip(files.downloadToFile(file.id, destination))
      assert.strictEqual(Fs.readFileSync(destination, "utf8"), "old")
      assert.deepStrictEqual(Fs.readdirSync(dir), ["x.json"])
      yield* files.downloadToFile(file.id, destination)
      assert.deepStrictEqual(Fs.readFileSync(destination), bytes)
      // renamed over, not rewritten in place: a reader of the old file never sees a half-written one
      assert.notStrictEqual(Fs.statSync(destination).ino, inode)
      assert.deepStrictEqual(Fs.readdirSync(dir), ["x.json"])
    }).pipe(Effect.provide(layer))
  )

  it.scoped("a 245-character name works (the temporary name is shortened)", () =>
    Effect.gen(function* () {
      const { bytes, file, files } = yield* setup
      const dir = yield* tempDir
      const destination = NodePath.join(dir, `${"n".repeat(240)}.json`)
      const done = yield* files.downloadToFile(file.id, destination)
      assert.deepStrictEqual(Fs.readFileSync(done.path), bytes)
      assert.deepStrictEqual(Fs.readdirSync(dir), [NodePath.basename(destination)])
    }).pipe(Effect.provide(layer))
  )

  it.scoped("a name too long for the file system says so", () =>
    Effect.gen(function* () {
      const { file, files } = yield* setup
      const dir = yield* tempDir
      const error = yield* Effect.flip(files.downloadToFile(file.id, NodePath.join(dir, `${"n".repeat(300)}.json`)))
      assert.instanceOf(error, ClientError.FileWriteError)
      assert.include(error.message, "the file name is too long")
      assert.notInclude(error.message, "Unknown")
    }).pipe(Effect.provide(layer))
  )
})

/** The file service writing through any `FileSystem` (here Node's), as a caller of `layerWithoutDependencies` has it. */
const throughFileSystem = Layer.unwrapEffect(
  Effect.map(Emulator.Emulator, (emulator) =>
    ExportFiles.layerWithoutDependencies.pipe(
      Layer.provideMerge(
        ExportsClient.layer({
          restApiKey: emulator.restApiKey,
          projectKey: emulator.projectKey,
          baseUrl: emulator.apiUrl
        })
      ),
      Layer.provide(Layer.merge(NodeFileSystem.layer, PlatformNodePath.layer))
    )
  )
).pipe(Layer.provideMerge(Emulator.layer()))

// `layer` writes through Node's `fs` directly, `layerWithoutDependencies` through `FileSystem.File`: both are held to
// the same rules
for (const [name, wiring] of [
  ["ExportFiles.layer", layer],
  ["ExportFiles.layerWithoutDependencies", throughFileSystem]
] as const) {
  describe(`downloadToFile writes, through ${name}`, () => {
    it.scoped("a regular file, byte-exact, nothing else left, each progress report once its bytes are in it", () =>
      Effect.gen(function* () {
        const { bytes, file, files } = yield* setup
        const dir = yield* tempDir
        const destination = NodePath.join(dir, "out.json")
        // each report, with what the file being written (the only one in `dir`) then holds
        const progress: Array<readonly [number, number]> = []
        const done = yield* files.downloadToFile(file.id, destination, {
          onProgress: (p) =>
            Effect.sync(() => {
              const [writing] = Fs.readdirSync(dir)
              progress.push([p.bytes, writing === undefined ? -1 : Fs.statSync(NodePath.join(dir, writing)).size])
            })
        })
        assert.strictEqual(done.bytes, bytes.length)
        assert.deepStrictEqual(Fs.readFileSync(destination), bytes)
        assert.deepStrictEqual(Fs.readdirSync(dir), ["out.json"])
        // a report comes once its bytes are in the file
        assert.isAbove(progress.length, 0)
        for (const [reported, inFile] of progress) assert.strictEqual(inFile, reported)
        assert.strictEqual(progress.at(-1)?.[0], bytes.length)
      }).pipe(Effect.provide(wiring))
    )

    it.scoped("a device that is full fails typed, in words (ENOSPC)", () =>
      Effect.gen(function* () {
        const { file, files } = yield* setup
        const error = yield* Effect.flip(files.downloadToFile(file.id, "/dev/full"))
        assert.instanceOf(error, ClientError.FileWriteError)
        assert.strictEqual(error.path, "/dev/full")
        assert.include(error.message, "no space left on the device (ENOSPC)")
        assert.isTrue(Fs.statSync("/dev/full").isCharacterDevice())
      }).pipe(Effect.provide(wiring))
    )
  })
}
