import { Emulator } from "@batch-export/emulator"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Path from "node:path"
import { envFor, runCli } from "./support/harness.js"

const layer = Layer.merge(
  Emulator.layer({ seed: 17, exports: [{ status: "SUCCESS", parts: 3, recordsPerPart: 30 }] }),
  NodeFileSystem.layer
)

const seeded = Effect.gen(function* () {
  const emulator = yield* Emulator.Emulator
  const [ready] = yield* emulator.exports
  const fs = yield* FileSystem.FileSystem
  const dir = Path.join(yield* fs.makeTempDirectoryScoped(), "out")
  return { emulator, ready: ready!, fs, dir }
})

const storageRequests = (emulator: Emulator.Service) =>
  Effect.map(emulator.requests, (all) => all.filter((r) => r.origin === "storage"))

/** The storage's strong `ETag` for a file, through the download link as any client gets it. */
const storageEtag = (emulator: Emulator.Service, fileId: string) =>
  Effect.promise(async () => {
    const link = await fetch(`${emulator.apiUrl}/2.10/exports/download?id=${fileId}`, {
      headers: { authorization: `Bearer ${emulator.restApiKey}`, "x-batch-project": emulator.projectKey },
      redirect: "manual"
    })
    const location = link.headers.get("location")
    assert.isString(location)
    const object = await fetch(location ?? "")
    await object.arrayBuffer()
    return object.headers.get("etag") ?? ""
  })

describe("batch-export re-runs", () => {
  it.layer(layer)((it) => {
    it.scoped("fetch run twice: the second run downloads nothing and prints the same manifest", () =>
      Effect.gen(function* () {
        const { dir, emulator, fs, ready } = yield* seeded
        const first = yield* runCli(["fetch", ready.id, "--out-dir", dir], envFor(emulator))
        assert.strictEqual(first.code, 0, first.output)
        assert.strictEqual(first.stdout.join("\n").split("\n").length, ready.files.length)

        yield* emulator.clearRequests
        const second = yield* runCli(["fetch", ready.id, "--out-dir", dir], envFor(emulator))
        assert.strictEqual(second.code, 0, second.output)
        assert.deepStrictEqual(yield* storageRequests(emulator), [])
        assert.deepStrictEqual(second.stdout, first.stdout)
        for (const file of ready.files) {
          const saved = yield* fs.readFile(Path.join(dir, `${ready.id}-part-00${file.part}.json`))
          assert.deepStrictEqual(Buffer.from(saved), Buffer.from(yield* emulator.fileBytes(file.id)))
        }
      })
    )

    it.scoped("fetch --force downloads every part again", () =>
      Effect.gen(function* () {
        const { dir, emulator, ready } = yield* seeded
        const first = yield* runCli(["fetch", ready.id, "--out-dir", dir], envFor(emulator))
        assert.strictEqual(first.code, 0, first.output)

        yield* emulator.clearRequests
        const forced = yield* runCli(["fetch", ready.id, "--out-dir", dir, "--force"], envFor(emulator))
        assert.strictEqual(forced.code, 0, forced.output)
        const storage = yield* storageRequests(emulator)
        assert.strictEqual(storage.length, ready.files.length)
        // whole files, not continuations
        assert.deepStrictEqual(
          storage.map((r) => r.headers["range"]),
          ready.files.map(() => undefined)
        )
        assert.deepStrictEqual(forced.stdout, first.stdout)
      })
    )

    it.scoped("a part of the wrong size is downloaded again by a plain re-run", () =>
      Effect.gen(function* () {
        const { dir, emulator, fs, ready } = yield* seeded
        const first = yield* runCli(["fetch", ready.id, "--out-dir", dir], envFor(emulator))
        assert.strictEqual(first.code, 0, first.output)
        const damaged = Path.join(dir, `${ready.id}-part-002.json`)
        yield* fs.writeFileString(damaged, "{}\n")

        yield* emulator.clearRequests
        const second = yield* runCli(["fetch", ready.id, "--out-dir", dir], envFor(emulator))
        assert.strictEqual(second.code, 0, second.output)
        assert.strictEqual((yield* storageRequests(emulator)).length, 1)
        assert.deepStrictEqual(second.stdout, first.stdout)
        assert.deepStrictEqual(
          Buffer.from(yield* fs.readFile(damaged)),
          Buffer.from(yield* emulator.fileBytes(ready.files[1]!.id))
        )
      })
    )

    it.scoped("fetch continues a part an earlier run left partial (Range + If-Range), ending byte-exact", () =>
      Effect.gen(function* () {
        const { dir, emulator, fs, ready } = yield* seeded
        const file = ready.files[0]!
        const bytes = yield* emulator.fileBytes(file.id)
        const etag = yield* storageEtag(emulator, file.id)
        assert.match(etag, /^"/)
        // what a run cut after 1000 bytes of part 1 leaves beside its destination
        const name = `${ready.id}-part-001.json`
        yield* fs.makeDirectory(dir, { recursive: true })
        yield* fs.writeFile(Path.join(dir, `.${name}.partial`), bytes.subarray(0, 1000))
        yield* fs.writeFileString(Path.join(dir, `.${name}.partial.state`), JSON.stringify({ fileId: file.id, etag }))

        yield* emulator.clearRequests
        const run = yield* runCli(["fetch", ready.id, "--out-dir", dir], envFor(emulator))
        assert.strictEqual(run.code, 0, run.output)
        const storage = yield* storageRequests(emulator)
        assert.strictEqual(storage.length, ready.files.length)
        assert.deepStrictEqual(
          storage
            .filter((r) => r.headers["range"] !== undefined)
            .map((r) => [r.headers["range"], r.headers["if-range"]]),
          [["bytes=1000-", etag]]
        )
        assert.deepStrictEqual(Buffer.from(yield* fs.readFile(Path.join(dir, name))), Buffer.from(bytes))
        assert.deepStrictEqual(
          [...(yield* fs.readDirectory(dir))].sort(),
          ready.files.map((f) => `${ready.id}-part-00${f.part}.json`)
        )
      })
    )

    it.scoped("fetch --max-size below a part's size: DownloadTooLarge, and nothing of that part kept to continue", () =>
      Effect.gen(function* () {
        const { dir, emulator, fs, ready } = yield* seeded
        const file = ready.files[0]!
        const bytes = yield* emulator.fileBytes(file.id)
        const etag = yield* storageEtag(emulator, file.id)
        // a part an earlier run kept, already past the limit: not continued, started over (and failing again)
        const name = `${ready.id}-part-001.json`
        yield* fs.makeDirectory(dir, { recursive: true })
        yield* fs.writeFile(Path.join(dir, `.${name}.partial`), bytes.subarray(0, 1420))
        yield* fs.writeFileString(Path.join(dir, `.${name}.partial.state`), JSON.stringify({ fileId: file.id, etag }))

        yield* emulator.clearRequests
        const run = yield* runCli(
          ["fetch", ready.id, "--out-dir", dir, "--max-size", "1000", "--concurrency", "1"],
          envFor(emulator)
        )
        assert.notStrictEqual(run.code, 0, run.output)
        assert.include(run.output, "DownloadTooLarge")
        assert.deepStrictEqual(
          (yield* storageRequests(emulator)).map((r) => r.headers["range"]),
          [undefined],
          "the kept part was not continued"
        )
        assert.deepStrictEqual(yield* fs.readDirectory(dir), [])
      })
    )

    it.scoped("view --json prints Batch's answer untouched: an unknown field and the date's spelling", () =>
      Effect.gen(function* () {
        const { emulator, ready } = yield* seeded
        const body = {
          id: ready.id,
          request_date: "2026-11-29T20:00:00+00:00",
          scope: "PROFILE_ATTRIBUTES",
          status: "SUCCESS",
          novelty: { nested: [1, "two"] },
          files: ready.files.map((file) => ({
            id: file.id,
            part: file.part,
            size: file.size,
            url: `${emulator.apiUrl}/2.10/exports/download?id=${file.id}`
          }))
        }
        yield* emulator.script("view", Emulator.Reply.status(200, { body }))
        const run = yield* runCli(["view", ready.id, "--json"], envFor(emulator))
        assert.strictEqual(run.code, 0, run.output)
        assert.deepStrictEqual(JSON.parse(run.stdout.join("\n")), body)
      })
    )
  })
})
