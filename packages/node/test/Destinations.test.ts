import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { ClientError } from "@batch-export/core"
import { Emulator } from "@batch-export/emulator"
import { ExportFiles, ExportsClient } from "@batch-export/node"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as PlatformNodePath from "@effect/platform-node/NodePath"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as TestServices from "effect/TestServices"
import { within } from "./support/deadline.js"
import { clientLayer, eventually } from "./support/harness.js"

const layer = clientLayer().pipe(Layer.provideMerge(Emulator.layer()))

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "destinations-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

/**
 * The device nodes the tests write to are their own: `mknod` in the test's temporary directory (root only).
 * Writing to the machine's `/dev/null` and `/dev/full` would, with the special-file rule broken, rename regular
 * files over them.
 */
const DEVICES = { null: [1, 3], full: [1, 7] } as const

const makeDevice = (dir: string, name: keyof typeof DEVICES): string => {
  const node = NodePath.join(dir, name)
  const [major, minor] = DEVICES[name]
  execFileSync("mknod", [node, "c", String(major), String(minor)])
  // the same device as the machine's own (read only: its stat), so a wrong number never makes another device
  if (Fs.statSync(node).rdev !== Fs.statSync(`/dev/${name}`).rdev) {
    Fs.rmSync(node, { force: true })
    throw new Error(`mknod ${major} ${minor} is not /dev/${name} here`)
  }
  return node
}

/** A directory holding a null device made by `mknod`, when this process may make device nodes. */
const devicesProbe = ((): string | undefined => {
  if (process.getuid?.() !== 0) return undefined
  const dir = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "devices-"))
  try {
    // a temp dir mounted nodev refuses to open device nodes: the tests are then skipped, not failed
    Fs.closeSync(Fs.openSync(makeDevice(dir, "null"), "w"))
    return dir
  } catch {
    Fs.rmSync(dir, { recursive: true, force: true })
    return undefined
  }
})()
const canMakeDevices = devicesProbe !== undefined
if (!canMakeDevices) console.warn("skipped: the device-node tests need root and mknod (they never use /dev itself)")
afterAll(() => {
  if (devicesProbe !== undefined) Fs.rmSync(devicesProbe, { recursive: true, force: true })
})

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
  it.scoped.skipIf(!canMakeDevices)("a null device is written in place and stays that device", () =>
    Effect.gen(function* () {
      const { bytes, file, files } = yield* setup
      const dir = yield* tempDir
      const nul = makeDevice(dir, "null")
      const before = Fs.statSync(nul)
      const done = yield* files.downloadToFile(file.id, nul)
      assert.strictEqual(done.bytes, bytes.length)
      const after = Fs.statSync(nul)
      assert.isTrue(after.isCharacterDevice())
      assert.strictEqual(after.rdev, before.rdev)
      assert.deepStrictEqual(Fs.readdirSync(dir), ["null"])
    }).pipe(Effect.provide(layer))
  )

  it.scoped("the file id is checked before the disk is touched: no directory is created for a refused id", () =>
    Effect.gen(function* () {
      const { apiRequests, files } = yield* setup
      const dir = yield* tempDir
      const error = yield* Effect.flip(
        files.downloadToFile("../x", NodePath.join(dir, "made", "deeper", "x.json"), { createDirectories: true })
      )
      assert.strictEqual(error._tag, "InvalidArgument")
      assert.deepStrictEqual(Fs.readdirSync(dir), [])
      assert.strictEqual(yield* apiRequests, 0)
    }).pipe(Effect.provide(layer))
  )

  it.scoped("a trailing / names a directory: missing, it is refused before any request, or created", () =>
    Effect.gen(function* () {
      const { apiRequests, bytes, file, files, storageRequests } = yield* setup
      const dir = yield* tempDir
      const missing = `${NodePath.join(dir, "missing")}/`
      const error = yield* Effect.flip(files.downloadToFile(file.id, missing))
      assert.instanceOf(error, ClientError.FileWriteError)
      assert.include(error.message, "does not exist")
      assert.strictEqual(yield* apiRequests, 0)
      assert.strictEqual(yield* storageRequests, 0)
      assert.deepStrictEqual(Fs.readdirSync(dir), [])
      const done = yield* files.downloadToFile(file.id, missing, { createDirectories: true })
      assert.strictEqual(done.path, NodePath.join(dir, "missing", `${file.id}.json`))
      assert.deepStrictEqual(Fs.readFileSync(done.path), bytes)
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
    // live where a FIFO is written: its reader is awaited on the clock (every 100 ms), racing the download
    it.scoped("a regular file, byte-exact, nothing else left, each progress report once its bytes are in it", () =>
      Effect.gen(function* () {
        const { bytes, file, files } = yield* setup
        const dir = yield* tempDir
        const destination = NodePath.join(dir, "out.json")
        // each report, with what the file being written (the only `.partial` in `dir`) then holds
        const progress: Array<readonly [number, number]> = []
        const done = yield* files.downloadToFile(file.id, destination, {
          onProgress: (p) =>
            Effect.sync(() => {
              const [writing] = Fs.readdirSync(dir).filter((name) => name.endsWith(".partial"))
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

    it.scopedLive(
      "an existing FIFO is written in place (appended: a positional write fails on a pipe) and stays a FIFO",
      () =>
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
        }).pipe(Effect.provide(wiring))
    )

    it.scoped("a socket at the destination fails typed at once (it is never taken for a FIFO without a reader)", () =>
      Effect.gen(function* () {
        const { file, files } = yield* setup
        const dir = yield* tempDir
        const path = NodePath.join(dir, "socket")
        const server = Net.createServer()
        yield* Effect.acquireRelease(
          Effect.async<void>((resume) => void server.listen(path, () => resume(Effect.void))),
          () => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
        )
        const exit = yield* within(
          Effect.exit(files.downloadToFile(file.id, path)),
          "a download to a socket never ended"
        )
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isFailure(exit)) {
          const error = Cause.failureOption(exit.cause)
          assert.isTrue(Option.isSome(error) && error.value instanceof ClientError.FileWriteError, String(exit))
          if (Option.isSome(error)) assert.include(error.value.message, "it is a socket")
        }
        assert.isTrue(Fs.statSync(path).isSocket())
      }).pipe(Effect.provide(wiring))
    )

    it.scoped("a FIFO with no reader: interrupting the download ends its pending open at once", () =>
      Effect.gen(function* () {
        const { emulator, file, files } = yield* setup
        const dir = yield* tempDir
        const fifo = NodePath.join(dir, "pipe")
        execFileSync("mkfifo", [fifo])
        // a daemon: with the guard broken, the test fails by its deadline, not by waiting for the fiber at its end
        const running = yield* Effect.forkDaemon(files.downloadToFile(file.id, fifo))
        // the storage answered: what is left is opening the FIFO, which waits for a reader
        yield* eventually(
          Effect.map(emulator.requests, (all) => all.some((r) => r.origin === "storage")),
          "the storage asked"
        )
        yield* Effect.sleep("50 millis").pipe(TestServices.provideLive)
        const exit = yield* within(Fiber.interrupt(running), "an open waiting on a FIFO held up the interruption").pipe(
          // a reader lets the open that was left behind finish (and its descriptor close)
          Effect.ensuring(
            Effect.sync(() => Fs.closeSync(Fs.openSync(fifo, Fs.constants.O_RDONLY | Fs.constants.O_NONBLOCK)))
          )
        )
        assert.isTrue(Exit.isInterrupted(exit), String(exit))
        assert.isTrue(Fs.statSync(fifo).isFIFO())
      }).pipe(Effect.provide(wiring))
    )

    it.scoped.skipIf(!canMakeDevices)("a device that is full fails typed, in words (ENOSPC)", () =>
      Effect.gen(function* () {
        const { file, files } = yield* setup
        const dir = yield* tempDir
        const full = makeDevice(dir, "full")
        const error = yield* Effect.flip(files.downloadToFile(file.id, full))
        assert.instanceOf(error, ClientError.FileWriteError)
        assert.strictEqual(error.path, full)
        assert.include(error.message, "no space left on the device (ENOSPC)")
        assert.isTrue(Fs.statSync(full).isCharacterDevice())
        assert.deepStrictEqual(Fs.readdirSync(dir), ["full"])
      }).pipe(Effect.provide(wiring))
    )
  })
}
