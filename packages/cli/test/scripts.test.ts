import { Emulator, Testing } from "@batch-export/emulator"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Path from "node:path"
import { assertOneLineFailure, envFor, runCli } from "./support/harness.js"

const layer = Layer.merge(
  Emulator.layer({
    seed: 21,
    exports: [
      { status: "SUCCESS", parts: 2, recordsPerPart: 40 },
      { status: "SUCCESS", parts: 1, recordsPerPart: 10 },
      { status: "RUNNING", parts: 1 },
      { status: "ERROR", parts: 0 },
      { status: "SUCCESS", parts: 1, recordsPerPart: 10 }
    ]
  }),
  NodeFileSystem.layer
)

const seeded = Effect.map(Emulator.Emulator, (emulator) => emulator)
const tempDir = Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeTempDirectoryScoped())

/** Characters a hostile server could use to drive a terminal: C0, C1 and bidi controls. */
const HOSTILE = "\x1b[2J\x1b]0;pwned\x07\u009b31m\u202eSUCCESS\u2066\r\n"

const hasControls = (text: string) =>
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(text)

describe("output for people and scripts", () => {
  it.layer(layer)((it) => {
    it.scoped("server text is sanitized in view, list and the fetch status line; --json keeps it exact", () =>
      Effect.gen(function* () {
        const emulator = yield* seeded
        const [ready] = yield* emulator.exports
        const hostile = {
          id: ready!.id,
          scope: `PROFILE${HOSTILE}`,
          status: `RUNNING${HOSTILE}`
        }
        const reply = Emulator.Reply.status(200, { body: hostile })
        yield* emulator.script("view", reply, reply)
        const view = yield* runCli(["view", ready!.id], envFor(emulator))
        assert.strictEqual(view.code, 0, view.output)
        assert.isFalse(hasControls(view.output), JSON.stringify(view.output))
        assert.include(view.output, "PROFILE[2J]0;pwned31mSUCCESS")

        const json = yield* runCli(["view", ready!.id, "--json"], envFor(emulator))
        assert.strictEqual(JSON.parse(json.stdout.join("\n")).scope, hostile.scope)

        const list = Emulator.Reply.status(200, { body: { exports: [hostile], has_more: false } })
        yield* emulator.script("list", list)
        const listed = yield* runCli(["list"], envFor(emulator))
        assert.strictEqual(listed.code, 0, listed.output)
        assert.isFalse(hasControls(listed.output), JSON.stringify(listed.output))

        // fetch: the hostile status line, then (one poll later) the real SUCCESS
        yield* emulator.script("view", reply)
        const dir = yield* tempDir
        const fiber = yield* Effect.fork(runCli(["fetch", ready!.id, "--out-dir", dir], envFor(emulator)))
        yield* Testing.elapse("5 seconds")
        const fetched = yield* Fiber.join(fiber)
        assert.strictEqual(fetched.code, 0, fetched.output)
        assert.include(fetched.stderr[0], "RUNNING[2J]0;pwned31mSUCCESS")
        assert.isFalse(hasControls(fetched.output), JSON.stringify(fetched.output))
      })
    )

    it.effect("a key the server echoes is masked before the line is cut: not even its first characters show", () =>
      Effect.gen(function* () {
        const emulator = yield* seeded
        const [ready] = yield* emulator.exports
        const key = "sk_live_0123456789abcdefEchoedKey"
        // the echoed key straddles the 600-character cut of the error line
        const prefix = "Unauthorized: GET /exports/download answered HTTP 401 AUTHENTICATION_INVALID: "
        const message = `${"x".repeat(579 - prefix.length - 5)} key ${key} was refused`
        yield* emulator.script(
          "download",
          Emulator.Reply.status(401, { body: { error_code: "AUTHENTICATION_INVALID", error_message: message } })
        )
        const run = yield* runCli(["download", ready!.files[0]!.id, "--out", "x.json"], {
          ...envFor(emulator),
          BATCH_REST_API_KEY: key
        })
        const line = assertOneLineFailure(run, "Unauthorized", "<redacted>")
        assert.strictEqual(run.code, 3)
        assert.notInclude(line, key.slice(0, 8))
      })
    )

    it.effect("--json errors: one JSON object on stderr with the tag, message, exit code and HTTP details", () =>
      Effect.gen(function* () {
        const emulator = yield* seeded
        const run = yield* runCli(["view", "export_0000000000000000000000000000dead", "--json"], envFor(emulator))
        assert.strictEqual(run.code, 1)
        assert.deepStrictEqual(run.stdout, [])
        assert.strictEqual(run.stderr.length, 1)
        const error = JSON.parse(run.stderr[0]!)
        assert.strictEqual(error.error, "NotFound")
        assert.strictEqual(error.status, 404)
        assert.strictEqual(error.errorCode, "NOT_FOUND")
        assert.strictEqual(error.exitCode, 1)
        assert.include(error.message, "HTTP 404")
      })
    )

    it.scoped("download --json and fetch --json print their manifest as JSON", () =>
      Effect.gen(function* () {
        const emulator = yield* seeded
        const [ready] = yield* emulator.exports
        const dir = yield* tempDir
        const file = ready!.files[0]!
        const download = yield* runCli(["download", file.id, "--out", dir, "--json"], envFor(emulator))
        assert.strictEqual(download.code, 0, download.output)
        assert.deepStrictEqual(JSON.parse(download.stdout.join("\n")), {
          fileId: file.id,
          path: Path.join(dir, `${file.id}.json`),
          bytes: file.size
        })
        const fetched = yield* runCli(["fetch", ready!.id, "--out-dir", dir, "--json", "--quiet"], envFor(emulator))
        assert.strictEqual(fetched.code, 0, fetched.output)
        assert.deepStrictEqual(fetched.stderr, [])
        const manifest = JSON.parse(fetched.stdout.join("\n"))
        assert.strictEqual(manifest.exportId, ready!.id)
        assert.deepStrictEqual(
          manifest.files.map((f: { readonly fileId: string; readonly bytes: number }) => [f.fileId, f.bytes]),
          ready!.files.map((f) => [f.id, f.size])
        )
      })
    )

    it.scoped("--quiet: no progress at all, the result still on stdout", () =>
      Effect.gen(function* () {
        const emulator = yield* seeded
        const [ready] = yield* emulator.exports
        const out = Path.join(yield* tempDir, "p.json")
        const run = yield* runCli(["download", ready!.files[0]!.id, "--out", out, "--quiet"], envFor(emulator))
        assert.strictEqual(run.code, 0, run.output)
        assert.deepStrictEqual(run.stderr, [])
        assert.strictEqual(run.stdout.length, 1)
      })
    )

    it.effect("list --from CURSOR asks for that page; list --all streams every page", () =>
      Effect.gen(function* () {
        const emulator = yield* seeded
        const first = yield* runCli(["list", "--limit", "2", "--json"], envFor(emulator))
        const page = JSON.parse(first.stdout.join("\n"))
        assert.isTrue(page.has_more)
        yield* emulator.clearRequests
        const second = yield* runCli(["list", "--limit", "2", "--from", page.next_from], envFor(emulator))
        assert.strictEqual(second.code, 0, second.output)
        const [request] = yield* emulator.requests
        assert.deepStrictEqual(request?.query, { limit: "2", from: page.next_from })

        yield* emulator.clearRequests
        const all = yield* runCli(["list", "--all", "--limit", "2", "--json"], envFor(emulator))
        assert.strictEqual(all.code, 0, all.output)
        const ids = all.stdout.map((line) => JSON.parse(line).id)
        const known = (yield* emulator.exports).map((exp) => exp.id)
        assert.deepStrictEqual([...ids].sort(), [...known].sort())
        assert.strictEqual((yield* emulator.requests).length, Math.ceil(known.length / 2))

        const table = yield* runCli(["list", "--all", "--limit", "2"], envFor(emulator))
        assert.strictEqual(table.stdout.join("\n").split("\n").length, known.length + 1, table.output)

        const both = yield* runCli(["list", "--all", "--from", "x"], envFor(emulator))
        assertOneLineFailure(both, "UsageError", "--from and --all")
        assert.strictEqual(both.code, 2)
      })
    )

    it.effect("create events and create reachability send the documented fields; their id on stdout", () =>
      Effect.gen(function* () {
        const emulator = yield* seeded
        const events = yield* runCli(
          [
            "create",
            "events",
            "--from",
            "2026-01-01T00:00:00Z",
            "--to",
            "2026-01-31T00:00:00Z",
            "--event",
            "purchase",
            "--identifier",
            "custom_id"
          ],
          envFor(emulator)
        )
        assert.strictEqual(events.code, 0, events.output)
        const reachability = yield* runCli(["create", "reachability", "--json"], envFor(emulator))
        assert.strictEqual(reachability.code, 0, reachability.output)
        const created = yield* emulator.exports
        const byId = (id: string) => created.find((exp) => exp.id === id)
        assert.strictEqual(byId(events.stdout[0]!)?.exportType, "EVENTS")
        assert.strictEqual(byId(JSON.parse(reachability.stdout.join("\n")).id)?.exportType, "REACHABILITY")

        const backwards = yield* runCli(
          ["create", "events", "--from", "2026-02-01T00:00:00Z", "--to", "2026-01-01T00:00:00Z"],
          envFor(emulator)
        )
        assertOneLineFailure(backwards, "InvalidArgument", "--from")
        const notADate = yield* runCli(["create", "reachability", "--to", "yesterday"], envFor(emulator))
        assertOneLineFailure(notADate, "InvalidArgument", "--to", "RFC 3339")
      })
    )

    it.scoped(
      "--out DIR saves as <file_id>.json inside; a missing parent fails before any request, or is created",
      () =>
        Effect.gen(function* () {
          const emulator = yield* seeded
          const fs = yield* FileSystem.FileSystem
          const [ready] = yield* emulator.exports
          const file = ready!.files[0]!
          const dir = yield* tempDir
          const intoDir = yield* runCli(["download", file.id, "--out", dir], envFor(emulator))
          assert.strictEqual(intoDir.code, 0, intoDir.output)
          assert.deepStrictEqual(yield* fs.readDirectory(dir), [`${file.id}.json`])

          yield* emulator.clearRequests
          const missing = Path.join(dir, "a", "b", "x.json")
          const refused = yield* runCli(["download", file.id, "--out", missing], envFor(emulator))
          const line = assertOneLineFailure(refused, "FileWriteError", "does not exist")
          assert.notInclude(line, ".partial")
          assert.deepStrictEqual(yield* emulator.requests, [])

          const created = yield* runCli(["download", file.id, "--out", missing, "--create-dirs"], envFor(emulator))
          assert.strictEqual(created.code, 0, created.output)
          assert.strictEqual((yield* fs.stat(missing)).size, BigInt(file.size))
        })
    )

    it.effect("a long Retry-After is not silent: the client's log line shows on stderr while it waits", () =>
      Effect.gen(function* () {
        const emulator = yield* seeded
        const [ready] = yield* emulator.exports
        yield* emulator.script("view", Emulator.Reply.status(429, { headers: { "retry-after": "999999999" } }))
        const fiber = yield* Effect.fork(runCli(["view", ready!.id], envFor(emulator)))
        yield* Testing.elapse("2 minutes")
        const run = yield* Fiber.join(fiber)
        assert.strictEqual(run.code, 0, run.output)
        assert.strictEqual(run.stderr.length, 1, run.output)
        assert.match(
          run.stderr[0]!,
          /^info: GET \/exports\/view answered HTTP 429.*; Batch asked to retry after .* \(capped at retryAfterCap\); retry 1 of 5 in 2m$/
        )
      })
    )

    it.scoped("--max-size: a larger file fails with DownloadTooLarge and leaves nothing", () =>
      Effect.gen(function* () {
        const emulator = yield* seeded
        const fs = yield* FileSystem.FileSystem
        const [ready] = yield* emulator.exports
        const dir = yield* tempDir
        const run = yield* runCli(
          ["download", ready!.files[0]!.id, "--out", Path.join(dir, "p.json"), "--max-size", "1000", "-q"],
          envFor(emulator)
        )
        assertOneLineFailure(run, "DownloadTooLarge")
        assert.deepStrictEqual(yield* fs.readDirectory(dir), [])
      })
    )
  })
})
