import { ClientError } from "@batch-export/core"
import { Emulator } from "@batch-export/emulator"
import { BatchExport, ExportFiles, ExportsClient } from "@batch-export/node"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { spawn, spawnSync } from "node:child_process"
import * as NodeFs from "node:fs"
import * as Path from "node:path"
import { within } from "./support/deadline.js"
import { captureLogs, clientLayer, drive, eventually } from "./support/harness.js"
import * as HeldStorage from "./support/heldStorage.js"

/** No retry and no resume within a run: a dropped connection fails the run, leaving what it received. */
const layer = Layer.merge(
  clientLayer({ retry: { maxRetries: 0 }, timeouts: { request: "1 hour", idle: "1 hour" } }).pipe(
    Layer.provideMerge(Emulator.layer())
  ),
  NodeFileSystem.layer
)

/** Where the first run is cut: well inside the file. */
const CUT = 1000

const PARTIAL = ".out.ndjson.partial"
const STATE = ".out.ndjson.partial.state"

const setup = Effect.gen(function* () {
  const emulator = yield* Emulator.Emulator
  const [exp] = yield* emulator.exports
  const file = exp!.files[0]!
  const fs = yield* FileSystem.FileSystem
  const dir = yield* fs.makeTempDirectoryScoped()
  const bytes = yield* emulator.fileBytes(file.id)
  assert.isAbove(bytes.length, CUT * 2, "the file is longer than the cut")
  return {
    emulator,
    exp: exp!,
    file,
    fs,
    dir,
    bytes,
    destination: Path.join(dir, "out.ndjson"),
    files: yield* ExportFiles.ExportFiles,
    client: yield* ExportsClient.ExportsClient
  }
})

type Setup = Effect.Effect.Success<typeof setup>

const storageRequests = (emulator: Emulator.Service) =>
  Effect.map(emulator.requests, (all) => all.filter((r) => r.origin === "storage"))

/** The stored object's strong `ETag`, as the storage announces it. */
const etagOf = (client: ExportsClient.Service, fileId: string) =>
  Effect.scoped(Effect.map(client.open(fileId), (opened) => opened.etag))

const sorted = (names: ReadonlyArray<string>) => [...names].sort()

/** Body of the file `HeldStorage` serves: 5000 bytes. */
const BODY = new TextEncoder().encode("0123456789abcdefghij".repeat(250))

/** An emulator whose `/exports/download` redirects to `storage`; no retry, no resume within a run. */
const behind = (storage: HeldStorage.HeldStorage) =>
  Effect.gen(function* () {
    const emulator = yield* Emulator.make({ location: (file) => `${storage.url}/files/${file.id}` }).pipe(Effect.orDie)
    const context = yield* Layer.build(
      BatchExport.layer({
        restApiKey: emulator.restApiKey,
        projectKey: emulator.projectKey,
        baseUrl: emulator.apiUrl,
        timeouts: { request: "1 hour", idle: "1 hour" },
        retry: { maxRetries: 0 }
      })
    ).pipe(Effect.orDie)
    const [exp] = yield* emulator.exports
    return { fileId: exp!.files[0]!.id, files: Context.get(context, ExportFiles.ExportFiles) }
  })

/** A `HeldStorage` serving `BODY` with `cuts`, the file service behind it, and a destination in a new directory. */
const heldWorld = (cuts: ReadonlyArray<number>) =>
  Effect.gen(function* () {
    const storage = yield* HeldStorage.start({ bytes: BODY, cuts })
    const { fileId, files } = yield* behind(storage)
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped()
    return { storage, fileId, files, fs, dir, destination: Path.join(dir, "out.ndjson") }
  })

/**
 * A resumable (or not) download from a `HeldStorage` that holds its first response after `CUT` bytes: returned
 * once the client has written them (the partial's size is then known), still running.
 */
const heldAtCut = (resume: boolean) =>
  Effect.gen(function* () {
    const world = yield* heldWorld([CUT])
    const { destination, fileId, files } = world
    let written = 0
    const fiber = yield* Effect.fork(
      files.downloadToFile(fileId, destination, {
        resume,
        onProgress: (p) =>
          Effect.sync(() => {
            written = p.bytes
          })
      })
    )
    yield* eventually(
      Effect.map(world.storage.held, (held) => held === 1 && written === CUT),
      `${CUT} bytes written`
    )
    return { ...world, fiber }
  })

describe("resumable downloads across runs", () => {
  it.scoped("a run cut mid-file keeps .partial + .partial.state; the next continues with Range + If-Range", () =>
    Effect.gen(function* () {
      // the cut lands once the client has written what was sent: the partial's size is known
      const { destination, dir, fiber, fileId, files, fs, storage } = yield* heldAtCut(true)
      yield* storage.cut
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "TransportError")
      assert.deepStrictEqual(sorted(yield* fs.readDirectory(dir)), [PARTIAL, STATE])
      assert.deepStrictEqual(
        Buffer.from(yield* fs.readFile(Path.join(dir, PARTIAL))),
        Buffer.from(BODY.subarray(0, CUT))
      )
      const state: unknown = JSON.parse(yield* fs.readFileString(Path.join(dir, STATE)))
      assert.deepStrictEqual(state, { fileId, etag: storage.etag })

      const done = yield* files.downloadToFile(fileId, destination, { resume: true })
      assert.strictEqual(done.bytes, BODY.length)
      assert.strictEqual(done.path, destination)
      assert.deepStrictEqual(
        (yield* storage.requests).map((r) => [r.range, r.ifRange]),
        [
          [undefined, undefined],
          [`bytes=${CUT}-`, storage.etag]
        ]
      )
      assert.deepStrictEqual(Buffer.from(yield* fs.readFile(destination)), Buffer.from(BODY))
      assert.deepStrictEqual(yield* fs.readDirectory(dir), ["out.ndjson"])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.layer(layer)((it) => {
    it.scoped("the object changed between runs: If-Range gets the new whole object, saved from byte 0", () =>
      Effect.gen(function* () {
        const { bytes, client, destination, dir, emulator, file, files, fs } = yield* setup
        // what a run cut after CUT bytes leaves (see the HeldStorage test for a real cut)
        const old = Option.getOrThrow(yield* etagOf(client, file.id))
        yield* fs.writeFile(Path.join(dir, PARTIAL), bytes.subarray(0, CUT))
        yield* fs.writeFileString(Path.join(dir, STATE), JSON.stringify({ fileId: file.id, etag: old }))

        yield* emulator.clearRequests
        yield* emulator.script("storage", Emulator.Reply.changedContent())
        const changed = yield* emulator.fileBytes(file.id, { changed: true })
        assert.notDeepEqual(Buffer.from(changed.subarray(0, CUT)), Buffer.from(bytes.subarray(0, CUT)))
        const done = yield* drive(files.downloadToFile(file.id, destination, { resume: true }))
        // one request: the continuation was asked for, the storage answered 200 with the new object
        assert.deepStrictEqual(
          (yield* storageRequests(emulator)).map((r) => [r.headers["range"], r.headers["if-range"]]),
          [[`bytes=${CUT}-`, old]]
        )
        assert.strictEqual(done.bytes, changed.length)
        assert.deepStrictEqual(Buffer.from(yield* fs.readFile(destination)), Buffer.from(changed))
        assert.deepStrictEqual(yield* fs.readDirectory(dir), ["out.ndjson"])
      })
    )

    it.scoped("a partial longer than the object (416 elsewhere): forgotten, downloaded again from byte 0", () =>
      Effect.gen(function* () {
        const { bytes, client, destination, dir, emulator, file, files, fs } = yield* setup
        const etag = Option.getOrThrow(yield* etagOf(client, file.id))
        // what no run of this object could have left: more bytes than it has, under its own ETag
        yield* fs.writeFile(Path.join(dir, PARTIAL), new Uint8Array(bytes.length + 10))
        yield* fs.writeFileString(Path.join(dir, STATE), JSON.stringify({ fileId: file.id, etag }))

        yield* emulator.clearRequests
        const done = yield* drive(files.downloadToFile(file.id, destination, { resume: true }))
        assert.deepStrictEqual(
          (yield* storageRequests(emulator)).map((r) => r.headers["range"]),
          [`bytes=${bytes.length + 10}-`, undefined]
        )
        assert.strictEqual(done.bytes, bytes.length)
        assert.deepStrictEqual(Buffer.from(yield* fs.readFile(destination)), Buffer.from(bytes))
        assert.deepStrictEqual(yield* fs.readDirectory(dir), ["out.ndjson"])
      })
    )

    it.scoped("without resume, a run cut mid-file leaves nothing behind", () =>
      Effect.gen(function* () {
        const { destination, dir, emulator, file, files, fs } = yield* setup
        yield* emulator.script("storage", Emulator.Reply.dropAfter(CUT))
        const error = yield* Effect.flip(drive(files.downloadToFile(file.id, destination)))
        assert.instanceOf(error, ClientError.TransportError)
        assert.deepStrictEqual(yield* fs.readDirectory(dir), [])
      })
    )

    it.scoped("a complete download without resume removes what an earlier resumable run kept for it", () =>
      Effect.gen(function* () {
        const { bytes, destination, dir, file, files, fs } = yield* setup
        // what a cut resumable run (then `fetch --force`) leaves: now superseded by the complete file
        yield* fs.writeFile(Path.join(dir, PARTIAL), bytes.subarray(0, CUT))
        yield* fs.writeFileString(Path.join(dir, STATE), JSON.stringify({ fileId: file.id, etag: '"x"' }))
        yield* drive(files.downloadToFile(file.id, destination))
        assert.deepStrictEqual(Buffer.from(yield* fs.readFile(destination)), Buffer.from(bytes))
        assert.deepStrictEqual(yield* fs.readDirectory(dir), ["out.ndjson"])
      })
    )

    it.scoped("with resume but no strong ETag (gzip on the fly: a weak one), a cut run keeps nothing", () =>
      Effect.gen(function* () {
        const { destination, dir, emulator, file, files, fs } = yield* setup
        yield* emulator.script("storage", Emulator.Reply.storage({ gzip: true, dropAfter: CUT }))
        // expectedSize: a gzip body cut before the client reads it can end cleanly with no bytes (see report)
        const error = yield* Effect.flip(
          drive(files.downloadToFile(file.id, destination, { resume: true, expectedSize: file.size }))
        )
        assert.include(["TransportError", "SizeMismatch"], error._tag)
        assert.deepStrictEqual(yield* fs.readDirectory(dir), [])
      })
    )

    it.scoped(
      "downloadAll with resume: complete parts are skipped without a storage request; a wrong size is fetched again",
      () =>
        Effect.gen(function* () {
          const { dir, emulator, exp, files, fs } = yield* setup
          const out = Path.join(dir, "out")
          const first = yield* drive(files.downloadAll(exp.id, out, { resume: true }))
          assert.deepStrictEqual(
            first.files.map((f) => f.skipped),
            exp.files.map(() => false)
          )

          yield* emulator.clearRequests
          const reported: Array<readonly [number, number, Option.Option<number>]> = []
          const second = yield* drive(
            files.downloadAll(exp.id, out, {
              resume: true,
              onProgress: (p) => Effect.sync(() => reported.push([p.part, p.bytes, p.total]))
            })
          )
          assert.deepStrictEqual(yield* storageRequests(emulator), [])
          assert.deepStrictEqual(
            second.files.map((f) => [f.part, f.path, f.bytes, f.skipped]),
            first.files.map((f) => [f.part, f.path, f.bytes, true])
          )
          // a skipped part is reported once, complete: a progress display counts it as done (parts run two at
          // a time, so in any order)
          assert.deepStrictEqual(
            [...reported].sort((a, b) => a[0] - b[0]),
            exp.files.map((f) => [f.part, f.size, Option.some(f.size)])
          )

          // the first part loses its last byte: not complete, downloaded again
          const damaged = first.files[0]!
          const original = yield* fs.readFile(damaged.path)
          yield* fs.writeFile(damaged.path, original.subarray(0, original.length - 1))
          yield* emulator.clearRequests
          const third = yield* drive(files.downloadAll(exp.id, out, { resume: true }))
          assert.strictEqual((yield* storageRequests(emulator)).length, 1)
          assert.deepStrictEqual(
            third.files.map((f) => f.skipped),
            first.files.map((f) => f !== damaged)
          )
          for (const part of exp.files) {
            const saved = third.files.find((f) => f.part === part.part)!
            assert.deepStrictEqual(
              Buffer.from(yield* fs.readFile(saved.path)),
              Buffer.from(yield* emulator.fileBytes(part.id))
            )
          }
          assert.deepStrictEqual(
            sorted(yield* fs.readDirectory(out)),
            sorted(first.files.map((f) => Path.basename(f.path)))
          )
        })
    )

    it.scoped("viewJson: Batch's JSON untouched, a field the schema does not know and the date's spelling kept", () =>
      Effect.gen(function* () {
        const { client, emulator, exp } = yield* setup
        const body = {
          id: exp.id,
          request_date: "2026-11-29T20:00:00+00:00",
          scope: "PROFILE_ATTRIBUTES",
          status: "SUCCESS",
          completion_date: "2026-11-29T20:01:02.5+00:00",
          novelty: { nested: [1, "two"] },
          files: exp.files.map((file) => ({
            id: file.id,
            part: file.part,
            size: file.size,
            url: `${emulator.apiUrl}/2.10/exports/download?id=${file.id}`,
            checksum: "sha256:abc"
          }))
        }
        yield* emulator.script("view", Emulator.Reply.status(200, { body }))
        assert.deepStrictEqual(yield* client.viewJson(exp.id), body)
        // what `view` makes of the same answer: decoded, the unknown field gone
        yield* emulator.script("view", Emulator.Reply.status(200, { body }))
        assert.notProperty(yield* client.view(exp.id), "novelty")
      })
    )

    it.scoped("viewJson makes the checks view makes: another export's answer is refused", () =>
      Effect.gen(function* () {
        const { client, emulator, exp } = yield* setup
        yield* emulator.script(
          "view",
          Emulator.Reply.status(200, { body: { id: "export_other", scope: "PROFILE_ATTRIBUTES", status: "RUNNING" } })
        )
        const error = yield* Effect.flip(client.viewJson(exp.id))
        assert.strictEqual(error._tag, "InconsistentExport")
      })
    )

    it.scoped("listJson and listAllJson: Batch's JSON untouched, after the checks list makes", () =>
      Effect.gen(function* () {
        const { client, emulator, exp } = yield* setup
        const raw = (n: number) => ({
          novelty: n,
          id: `${exp.id.slice(0, -1)}${n}`,
          request_date: "2026-11-29T20:00:00+00:00",
          scope: "PROFILE_ATTRIBUTES",
          status: "RUNNING"
        })
        const first = { exports: [raw(1)], has_more: true, next_from: "cursor_2", extra: [1] }
        const last = { exports: [raw(2)], has_more: false }
        yield* emulator.script("list", Emulator.Reply.status(200, { body: first }))
        assert.deepStrictEqual(yield* client.listJson({ limit: 1 }), first)
        yield* emulator.script("list", Emulator.Reply.status(200, { body: first }))
        yield* emulator.script("list", Emulator.Reply.status(200, { body: last }))
        const all = yield* Stream.runCollect(client.listAllJson({ pageSize: 1 }))
        assert.deepStrictEqual(Chunk.toReadonlyArray(all), [raw(1), raw(2)])
        // what list refuses, listJson refuses
        yield* emulator.script("list", Emulator.Reply.status(200, { body: { exports: "none", has_more: false } }))
        assert.strictEqual((yield* Effect.flip(client.listJson()))._tag, "ResponseDecodeError")
      })
    )
  })
})

const LOCK = ".out.ndjson.lock"

/** A pid no process has any more: a child that has ended. */
/** The pid of a process that runs until the scope closes. */
const livePid = Effect.map(
  Effect.acquireRelease(
    Effect.sync(() => spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" })),
    (child) => Effect.sync(() => child.kill("SIGKILL"))
  ),
  (child) => child.pid ?? 0
)

const deadPid = Effect.sync(() => {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" })
  return Number(child.stdout)
})

describe("one download per destination", () => {
  for (const [first, second] of [
    [true, true],
    [false, true],
    [true, false]
  ] as const) {
    it.scoped(
      `a second download (resume: ${second}) into a destination a download (resume: ${first}) writes is refused, ` +
        "naming its pid; the first's bytes untouched",
      () =>
        Effect.gen(function* () {
          const { destination, dir, fiber: running, fileId, files, fs, storage } = yield* heldAtCut(first)
          assert.include(yield* fs.readDirectory(dir), LOCK)

          const refused = yield* Effect.flip(files.downloadToFile(fileId, destination, { resume: second }))
          assert.instanceOf(refused, ClientError.FileWriteError)
          assert.include(refused.message, `another download (pid ${process.pid}) is writing it`)
          // the second asked the storage for nothing
          assert.strictEqual((yield* storage.requests).length, 1)

          yield* storage.cut
          yield* Effect.flip(Fiber.join(running))
          const left = yield* fs.readDirectory(dir)
          assert.notInclude(left, LOCK, "the lock is released with the download")
          if (first) {
            assert.deepStrictEqual(
              Buffer.from(yield* fs.readFile(Path.join(dir, PARTIAL))),
              Buffer.from(BODY.subarray(0, CUT))
            )
          }
          // and the destination is free again
          const done = yield* files.downloadToFile(fileId, destination, { resume: true })
          assert.deepStrictEqual(Buffer.from(yield* fs.readFile(done.path)), Buffer.from(BODY))
          assert.deepStrictEqual(yield* fs.readDirectory(dir), ["out.ndjson"])
        }).pipe(Effect.provide(NodeFileSystem.layer))
    )
  }

  it.scoped("a lock whose process ended, or naming none for a while, is taken over; a fresh one is not", () =>
    Effect.gen(function* () {
      const { destination, dir, fileId, files, fs, storage } = yield* heldWorld([])
      const lock = Path.join(dir, LOCK)

      for (const [content, age] of [
        [`${yield* deadPid} k1\n`, 0],
        // this process's own pid, but no lock it holds: what a run killed in a container (the same pid, often 1,
        // every time) leaves for the next
        [`${process.pid} k2\n`, 0],
        ["", 60],
        ["not a lock", 60]
      ] as const) {
        yield* fs.writeFileString(lock, content)
        const past = new Date(Date.now() - age * 1000)
        yield* fs.utimes(lock, past, past)
        const done = yield* files.downloadToFile(fileId, destination, { resume: true })
        assert.deepStrictEqual(Buffer.from(yield* fs.readFile(done.path)), Buffer.from(BODY), JSON.stringify(content))
        assert.deepStrictEqual(yield* fs.readDirectory(dir), ["out.ndjson"], JSON.stringify(content))
      }

      // an empty lock made a moment ago: a download starting; a lock naming a live process (another one)
      const other = yield* livePid
      for (const content of ["", `${other} k3\n`]) {
        yield* fs.writeFileString(lock, content)
        const refused = yield* Effect.flip(files.downloadToFile(fileId, destination))
        assert.instanceOf(refused, ClientError.FileWriteError)
        assert.include(refused.message, "another download")
        assert.strictEqual(yield* fs.readFileString(lock), content, "someone else's lock is left alone")
      }
      assert.strictEqual((yield* storage.requests).length, 4)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  for (const resume of [true, false]) {
    it.scoped(`a part another writer grew while it downloaded is never renamed into place (resume: ${resume})`, () =>
      Effect.gen(function* () {
        const { destination, dir, fileId, files, fs } = yield* heldWorld([])
        let intruded = false
        const error = yield* Effect.flip(
          files.downloadToFile(fileId, destination, {
            resume,
            // a writer that takes no lock appends to the file being written
            onProgress: () =>
              Effect.sync(() => {
                if (intruded) return
                intruded = true
                const [writing] = NodeFs.readdirSync(dir).filter((name) => name.endsWith(".partial"))
                NodeFs.appendFileSync(Path.join(dir, writing!), "intruder")
              })
          })
        )
        assert.isTrue(intruded)
        assert.instanceOf(error, ClientError.FileWriteError)
        assert.include(error.message, `bytes where ${BODY.length} were received`)
        assert.deepStrictEqual(yield* fs.readDirectory(dir), [], "nothing saved, nothing kept")
      }).pipe(Effect.provide(NodeFileSystem.layer))
    )
  }
})

describe("what a resumable download finds beside its destination", () => {
  it.layer(layer)((it) => {
    /** A regular file in a directory of its own, outside the download's: what a link must never reach. */
    const outside = (content: Uint8Array) =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const target = Path.join(yield* fs.makeTempDirectoryScoped(), "precious")
        yield* fs.writeFile(target, content)
        return target
      })

    const rangesAsked = (emulator: Emulator.Service) =>
      Effect.map(storageRequests(emulator), (all) => all.map((r) => r.headers["range"]))

    /** The download saved byte-exact as a regular file (not a link), and nothing else left. */
    const savedAlone = (s: Setup) =>
      Effect.gen(function* () {
        const { bytes, destination, dir, fs } = s
        assert.isTrue(NodeFs.lstatSync(destination).isFile(), "the destination is a regular file")
        assert.deepStrictEqual(Buffer.from(yield* fs.readFile(destination)), Buffer.from(bytes))
        assert.deepStrictEqual(yield* fs.readDirectory(dir), ["out.ndjson"])
      })

    it.scoped("a symlink at .partial.state: its target is never written, the run starts over", () =>
      Effect.gen(function* () {
        const s = yield* setup
        const precious = new TextEncoder().encode("precious\n")
        const target = yield* outside(precious)
        yield* s.fs.symlink(target, Path.join(s.dir, STATE))
        yield* drive(s.files.downloadToFile(s.file.id, s.destination, { resume: true }))
        assert.deepStrictEqual(Buffer.from(yield* s.fs.readFile(target)), Buffer.from(precious))
        yield* savedAlone(s)
      })
    )

    it.scoped("a symlink at .partial: its target is neither appended to nor replaced; the part is no link", () =>
      Effect.gen(function* () {
        const s = yield* setup
        const etag = Option.getOrThrow(yield* etagOf(s.client, s.file.id))
        // what a naive resume would take for the first CUT bytes and append to
        const target = yield* outside(s.bytes.subarray(0, CUT))
        yield* s.fs.symlink(target, Path.join(s.dir, PARTIAL))
        yield* s.fs.writeFileString(Path.join(s.dir, STATE), JSON.stringify({ fileId: s.file.id, etag }))
        yield* s.emulator.clearRequests
        const logs = yield* captureLogs
        yield* drive(s.files.downloadToFile(s.file.id, s.destination, { resume: true })).pipe(
          Effect.provide(logs.layer)
        )
        assert.deepStrictEqual(Buffer.from(yield* s.fs.readFile(target)), Buffer.from(s.bytes.subarray(0, CUT)))
        assert.deepStrictEqual(yield* rangesAsked(s.emulator), [undefined], "not continued")
        // said in one line
        const said = (yield* logs.lines).filter((line) => line.includes("ignoring"))
        assert.strictEqual(said.length, 1, String(said))
        assert.include(said[0], "it is a symbolic link, not a regular file; starting over")
        yield* savedAlone(s)
      })
    )

    it.scoped("a FIFO at .partial is never opened: the run starts over", () =>
      Effect.gen(function* () {
        const s = yield* setup
        const etag = Option.getOrThrow(yield* etagOf(s.client, s.file.id))
        spawnSync("mkfifo", [Path.join(s.dir, PARTIAL)])
        assert.isTrue(NodeFs.lstatSync(Path.join(s.dir, PARTIAL)).isFIFO())
        yield* s.fs.writeFileString(Path.join(s.dir, STATE), JSON.stringify({ fileId: s.file.id, etag }))
        yield* within(
          drive(s.files.downloadToFile(s.file.id, s.destination, { resume: true })),
          "a FIFO at .partial was opened (it waits for a reader)"
        )
        yield* savedAlone(s)
      })
    )

    /** Runs a resumable download beside a partial and `state`: it must start over and succeed. */
    const startsOver = (s: Setup, state: string | Uint8Array, label: string) =>
      Effect.gen(function* () {
        yield* s.fs.writeFile(Path.join(s.dir, PARTIAL), s.bytes.subarray(0, CUT))
        yield* typeof state === "string"
          ? s.fs.writeFileString(Path.join(s.dir, STATE), state)
          : s.fs.writeFile(Path.join(s.dir, STATE), state)
        yield* s.emulator.clearRequests
        const exit = yield* Effect.exit(drive(s.files.downloadToFile(s.file.id, s.destination, { resume: true })))
        assert.isTrue(Exit.isSuccess(exit), `${label}: ${String(exit)}`)
        assert.deepStrictEqual(yield* rangesAsked(s.emulator), [undefined], label)
        yield* savedAlone(s)
      })

    it.scoped("a saved state that is invalid is no state: the run starts over, never failing on it", () =>
      Effect.gen(function* () {
        const s = yield* setup
        const state = (etag: string, fileId: string = s.file.id) => JSON.stringify({ fileId, etag })
        for (const [label, text] of [
          ["CR/LF in the ETag", state('"a\r\nb"')],
          ["a quote inside", state('"a"b"')],
          ["empty", state("")],
          ["unquoted", state("abc")],
          ["weak", state('W/"abc"')],
          ["100 KB", state(`"${"x".repeat(100_000)}"`)],
          ["not JSON", "{"],
          ["another file's", state('"abc"', "file_other")],
          ["past 4 KiB", state('"abc"') + " ".repeat(5000)]
        ] as const) {
          yield* startsOver(s, text, label)
        }
      })
    )

    it.scoped("any ETag a state may hold: the run succeeds", () =>
      Effect.gen(function* () {
        const s = yield* setup
        const samples = FastCheck.sample(
          FastCheck.oneof(
            FastCheck.string({ unit: "binary", maxLength: 40 }),
            FastCheck.string({ maxLength: 40 }).map((x) => `"${x}"`)
          ),
          { numRuns: 25, seed: 20 }
        )
        for (const etag of samples) {
          yield* s.fs.remove(s.destination, { force: true })
          yield* s.fs.writeFile(Path.join(s.dir, PARTIAL), s.bytes.subarray(0, CUT))
          yield* s.fs.writeFileString(Path.join(s.dir, STATE), JSON.stringify({ fileId: s.file.id, etag }))
          const exit = yield* Effect.exit(drive(s.files.downloadToFile(s.file.id, s.destination, { resume: true })))
          assert.isTrue(Exit.isSuccess(exit), `${JSON.stringify(etag)}: ${String(exit)}`)
          yield* savedAlone(s)
        }
      })
    )

    it.scoped("a state the storage refuses (431) is no state: the run starts over once", () =>
      Effect.gen(function* () {
        const s = yield* setup
        const etag = Option.getOrThrow(yield* etagOf(s.client, s.file.id))
        yield* s.fs.writeFile(Path.join(s.dir, PARTIAL), s.bytes.subarray(0, CUT))
        yield* s.fs.writeFileString(Path.join(s.dir, STATE), JSON.stringify({ fileId: s.file.id, etag }))
        yield* s.emulator.clearRequests
        yield* s.emulator.script("storage", Emulator.Reply.status(431))
        yield* drive(s.files.downloadToFile(s.file.id, s.destination, { resume: true }))
        assert.deepStrictEqual(yield* rangesAsked(s.emulator), [`bytes=${CUT}-`, undefined])
        yield* savedAlone(s)
      })
    )

    it.scoped("a 1 GB (sparse) state file is not read: memory stays flat", () =>
      Effect.gen(function* () {
        const s = yield* setup
        yield* s.fs.writeFile(Path.join(s.dir, PARTIAL), s.bytes.subarray(0, CUT))
        yield* s.fs.writeFileString(Path.join(s.dir, STATE), "")
        yield* s.fs.truncate(Path.join(s.dir, STATE), 1024 ** 3)
        const peakBefore = process.resourceUsage().maxRSS
        yield* drive(s.files.downloadToFile(s.file.id, s.destination, { resume: true }))
        const grown = (process.resourceUsage().maxRSS - peakBefore) * 1024
        assert.isBelow(grown, 64 * 1024 ** 2, `the peak RSS grew by ${grown} bytes`)
        yield* savedAlone(s)
      })
    )

    it.scoped(
      "a kept part already past maxBytes is not continued: the run starts over and fails, keeping nothing",
      () =>
        Effect.gen(function* () {
          const s = yield* setup
          const etag = Option.getOrThrow(yield* etagOf(s.client, s.file.id))
          yield* s.fs.writeFile(Path.join(s.dir, PARTIAL), s.bytes.subarray(0, 1420))
          yield* s.fs.writeFileString(Path.join(s.dir, STATE), JSON.stringify({ fileId: s.file.id, etag }))
          yield* s.emulator.clearRequests
          const error = yield* Effect.flip(
            drive(s.files.downloadToFile(s.file.id, s.destination, { resume: true, maxBytes: 1000 }))
          )
          assert.strictEqual(error._tag, "DownloadTooLarge")
          assert.deepStrictEqual(yield* rangesAsked(s.emulator), [undefined])
          assert.deepStrictEqual(yield* s.fs.readDirectory(s.dir), [])
        })
    )

    it.scoped("a kept part longer than the announced size is not continued: the run starts over", () =>
      Effect.gen(function* () {
        const s = yield* setup
        const etag = Option.getOrThrow(yield* etagOf(s.client, s.file.id))
        yield* s.fs.writeFile(Path.join(s.dir, PARTIAL), new Uint8Array(s.bytes.length + 10))
        yield* s.fs.writeFileString(Path.join(s.dir, STATE), JSON.stringify({ fileId: s.file.id, etag }))
        yield* s.emulator.clearRequests
        yield* drive(s.files.downloadToFile(s.file.id, s.destination, { resume: true, expectedSize: s.bytes.length }))
        assert.deepStrictEqual(yield* rangesAsked(s.emulator), [undefined])
        yield* savedAlone(s)
      })
    )

    it.scoped("a run past a bound (DownloadTooLarge, SizeMismatch) keeps nothing: the next would fail the same", () =>
      Effect.gen(function* () {
        const s = yield* setup
        for (const [options, tag] of [
          [{ maxBytes: CUT }, "DownloadTooLarge"],
          [{ expectedSize: s.bytes.length + 1 }, "SizeMismatch"],
          [{ expectedSize: CUT }, "SizeMismatch"]
        ] as const) {
          const error = yield* Effect.flip(
            drive(s.files.downloadToFile(s.file.id, s.destination, { resume: true, ...options }))
          )
          assert.strictEqual(error._tag, tag)
          assert.deepStrictEqual(yield* s.fs.readDirectory(s.dir), [], JSON.stringify(options))
        }
      })
    )

    it.scoped("a .partial.state left beside a complete part (no .partial) is removed by a re-run", () =>
      Effect.gen(function* () {
        const { dir, exp, files, fs } = yield* setup
        const out = Path.join(dir, "out")
        const first = yield* drive(files.downloadAll(exp.id, out, { resume: true }))
        const part = Path.basename(first.files[0]!.path)
        const orphan = Path.join(out, `.${part}.partial.state`)
        yield* fs.writeFileString(orphan, JSON.stringify({ fileId: exp.files[0]!.id, etag: '"x"' }))
        const second = yield* drive(files.downloadAll(exp.id, out, { resume: true }))
        assert.isTrue(second.files.every((f) => f.skipped))
        assert.deepStrictEqual(
          sorted(yield* fs.readDirectory(out)),
          sorted(first.files.map((f) => Path.basename(f.path)))
        )
      })
    )

    it.scoped("a 250-byte name: .partial and .partial.state both fit in 255 bytes", () =>
      Effect.gen(function* () {
        const { dir, emulator, file, files, fs } = yield* setup
        const name = `${"n".repeat(245)}.json`
        yield* emulator.script("storage", Emulator.Reply.dropAfter(CUT))
        const error = yield* Effect.flip(drive(files.downloadToFile(file.id, Path.join(dir, name), { resume: true })))
        assert.strictEqual(error._tag, "TransportError", String(error))
        const kept = sorted(yield* fs.readDirectory(dir))
        assert.strictEqual(kept.length, 2)
        assert.isTrue(kept[0]!.endsWith(".partial") && kept[1]!.endsWith(".partial.state"), String(kept))
        for (const k of kept) assert.isAtMost(Buffer.byteLength(k), 255)
      })
    )
  })
})
