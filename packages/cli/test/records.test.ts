import { Emulator } from "@batch-export/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Http from "node:http"
import type * as Net from "node:net"
import { assertErrorLine, assertOneLineFailure, envFor, type Run, runCli } from "./support/harness.js"

const layer = Emulator.layer({
  seed: 4,
  exports: [
    { status: "SUCCESS", parts: 2, recordsPerPart: 25 },
    { status: "RUNNING", parts: 1 }
  ]
})

const seeded = Effect.gen(function* () {
  const emulator = yield* Emulator.Emulator
  const [ready, running] = yield* emulator.exports
  return { emulator, ready: ready!, running: running! }
})

/** The NDJSON lines of a file as the emulator serves it, parsed. */
const fileRecords = (emulator: Emulator.Service, fileId: string) =>
  Effect.map(emulator.fileBytes(fileId), (bytes) =>
    Buffer.from(bytes)
      .toString("utf8")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as unknown)
  )

const printed = (run: Run) =>
  run.stdout
    .join("\n")
    .split("\n")
    .map((line) => JSON.parse(line) as unknown)

/** A plain HTTP server on 127.0.0.1 answering every request with `body`. */
const serve = (body: string) =>
  Effect.acquireRelease(
    Effect.async<Http.Server>((resume) => {
      const server = Http.createServer((_, response) => {
        response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
        response.end(body)
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map((server) => `http://127.0.0.1:${(server.address() as Net.AddressInfo).port}`))

describe("batch-export records", () => {
  it.layer(layer)((it) => {
    it.effect("an export: every record of every part, in order, one JSON object per line", () =>
      Effect.gen(function* () {
        const { emulator, ready } = yield* seeded
        const run = yield* runCli(["records", ready.id], envFor(emulator))
        assert.strictEqual(run.code, 0, run.output)
        assert.deepStrictEqual(run.stderr, [])
        const expected = [
          ...(yield* fileRecords(emulator, ready.files[0]!.id)),
          ...(yield* fileRecords(emulator, ready.files[1]!.id))
        ]
        assert.strictEqual(expected.length, 50)
        assert.deepStrictEqual(printed(run), expected)
        for (const line of run.stdout.join("\n").split("\n")) assert.match(line, /^\{.*\}$/)
        assert.notInclude(run.output, emulator.restApiKey)
      })
    )

    it.effect("one file by its id", () =>
      Effect.gen(function* () {
        const { emulator, ready } = yield* seeded
        const file = ready.files[1]!
        const run = yield* runCli(["records", file.id], envFor(emulator))
        assert.strictEqual(run.code, 0, run.output)
        assert.deepStrictEqual(printed(run), yield* fileRecords(emulator, file.id))
      })
    )

    it.effect("--limit N: N records, then the download stops (the rest of the file is never read)", () =>
      Effect.gen(function* () {
        const { emulator, ready } = yield* seeded
        const bytes = Buffer.from(yield* emulator.fileBytes(ready.files[0]!.id))
        // the storage origin sends the first 4 lines, then stalls forever: reading on would hang the command
        let end = -1
        for (let i = 0; i < 4; i++) end = bytes.indexOf(0x0a, end + 1)
        yield* emulator.script("storage", Emulator.Reply.stallAfter(end + 1))
        yield* emulator.clearRequests
        const run = yield* runCli(["records", ready.id, "--limit", "3"], envFor(emulator))
        assert.strictEqual(run.code, 0, run.output)
        assert.deepStrictEqual(printed(run), (yield* fileRecords(emulator, ready.files[0]!.id)).slice(0, 3))
        // one look at the export, one link and one storage request for part 1; part 2 never asked for
        const requests = (yield* emulator.requests).map((r) => `${r.origin} ${r.path}`)
        assert.deepStrictEqual(requests, [
          "api /2.10/exports/view",
          "api /2.10/exports/download",
          `storage /files/${ready.files[0]!.id}`
        ])
      })
    )

    it.effect("--limit larger than the export: everything", () =>
      Effect.gen(function* () {
        const { emulator, ready } = yield* seeded
        const run = yield* runCli(["records", ready.id, "--limit", "1000"], envFor(emulator))
        assert.strictEqual(run.code, 0, run.output)
        assert.strictEqual(printed(run).length, 50)
      })
    )

    for (const id of ["foo", "", "profile_abc"]) {
      it.effect(`neither an export nor a file id (${JSON.stringify(id)}): InvalidArgument before any request`, () =>
        Effect.gen(function* () {
          const { emulator } = yield* seeded
          yield* emulator.clearRequests
          const run = yield* runCli(["records", id], envFor(emulator))
          assertOneLineFailure(run, "InvalidArgument", "invalid id", "export id (export_…) or a file id")
          assert.deepStrictEqual(yield* emulator.requests, [])
        })
      )
    }

    for (const [id, argument] of [
      ["export_a/../b", "exportId"],
      ["file_x?y=1", "fileId"]
    ] as const) {
      it.effect(`a malformed id (${id}): InvalidArgument before any request`, () =>
        Effect.gen(function* () {
          const { emulator } = yield* seeded
          yield* emulator.clearRequests
          const run = yield* runCli(["records", id], envFor(emulator))
          assertOneLineFailure(run, "InvalidArgument", argument)
          assert.deepStrictEqual(yield* emulator.requests, [])
        })
      )
    }

    it.effect("an export that is not SUCCESS: ExportNotReady", () =>
      Effect.gen(function* () {
        const { emulator, running } = yield* seeded
        const run = yield* runCli(["records", running.id], envFor(emulator))
        assertOneLineFailure(run, "ExportNotReady", running.id, "RUNNING")
      })
    )

    it.effect("a file of an export that is not SUCCESS: Conflict (409)", () =>
      Effect.gen(function* () {
        const { emulator, running } = yield* seeded
        const run = yield* runCli(["records", running.files[0]!.id], envFor(emulator))
        assertOneLineFailure(run, "Conflict", "HTTP 409", "EXPORT_NOT_READY")
      })
    )

    it.effect("404: an unknown file", () =>
      Effect.gen(function* () {
        const { emulator } = yield* seeded
        const run = yield* runCli(["records", "file_0000000000000000000000000000dead"], envFor(emulator))
        assertOneLineFailure(run, "NotFound", "HTTP 404")
      })
    )

    it.effect("a missing variable is named", () =>
      Effect.gen(function* () {
        const { ready } = yield* seeded
        const run = yield* runCli(["records", ready.id], {})
        assertOneLineFailure(run, "ConfigError", "BATCH_REST_API_KEY is not set")
      })
    )
  })

  it.scoped("a malformed record: one RecordDecodeError line naming where", () =>
    Effect.gen(function* () {
      const storage = yield* serve('{"identifiers":{"custom_id":"a"}}\n{"identifiers":{"custom_id":"b"}}\nnot json\n')
      const emulator = yield* Emulator.make({
        exports: [{ status: "SUCCESS", parts: 1, recordsPerPart: 5 }],
        location: () => `${storage}/file.json`
      })
      const [ready] = yield* emulator.exports
      const run = yield* runCli(["records", ready!.id], envFor(emulator))
      assert.strictEqual(run.code, 1, run.output)
      // whatever was printed before the error is a prefix of the good records (with the three lines in one chunk,
      // @batch-export/core drops the whole chunk: nothing is printed)
      const valid = [{ identifiers: { custom_id: "a" } }, { identifiers: { custom_id: "b" } }]
      const lines = run.stdout.length === 0 ? [] : printed(run)
      assert.deepStrictEqual(lines, valid.slice(0, lines.length))
      assert.strictEqual(run.stderr.length, 1, run.output)
      assertErrorLine(run.stderr[0]!, "RecordDecodeError", "part 1, line 3", "not valid JSON")
    })
  )

  it.scoped("a record the schema rejects: RecordDecodeError", () =>
    Effect.gen(function* () {
      const storage = yield* serve('{"identifiers":{"custom_id":7}}\n')
      const emulator = yield* Emulator.make({
        exports: [{ status: "SUCCESS", parts: 1, recordsPerPart: 5 }],
        location: () => `${storage}/file.json`
      })
      const [ready] = yield* emulator.exports
      const run = yield* runCli(["records", ready!.files[0]!.id], envFor(emulator))
      assert.strictEqual(run.code, 1, run.output)
      assert.deepStrictEqual(run.stdout, [])
      // the schema's own explanation is long: still a single line
      assert.strictEqual(run.stderr.length, 1, run.output)
      assert.match(run.stderr[0]!, /^error: RecordDecodeError: malformed record at line 1: [^\n]*custom_id/)
    })
  )
})
