import { Progress } from "@batch-export/cli"
import { Emulator } from "@batch-export/emulator"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Net from "node:net"
import * as Path from "node:path"
import { assertOneLineFailure, envFor, runCli } from "./support/harness.js"

const layer = Layer.merge(
  Emulator.layer({
    seed: 7,
    exports: [
      { status: "SUCCESS", parts: 2, recordsPerPart: 300 },
      { status: "RUNNING", parts: 1 }
    ]
  }),
  NodeFileSystem.layer
)

const files = Effect.gen(function* () {
  const emulator = yield* Emulator.Emulator
  const [ready, running] = yield* emulator.exports
  return { emulator, ready: ready!.files[0]!, running: running!.files[0]! }
})

const tempDir = Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeTempDirectoryScoped())

/** A port nothing listens on: bound, then closed. */
const closedPort = Effect.async<number>((resume) => {
  const server = Net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as Net.AddressInfo
    server.close(() => resume(Effect.succeed(port)))
  })
})

describe("batch-export download", () => {
  it.layer(layer)((it) => {
    it.scoped("saves the file byte for byte and says so on stdout", () =>
      Effect.gen(function* () {
        const { emulator, ready } = yield* files
        const fs = yield* FileSystem.FileSystem
        const out = Path.join(yield* tempDir, "part-1.json")
        const run = yield* runCli(["download", ready.id, "--out", out], envFor(emulator))
        assert.strictEqual(run.code, 0, run.output)
        const expected = yield* emulator.fileBytes(ready.id)
        assert.deepStrictEqual(Buffer.from(yield* fs.readFile(out)), Buffer.from(expected))
        assert.deepStrictEqual(run.stdout, [`saved ${expected.length} bytes to ${out}`])
        // progress on stderr: sparse lines (at most one per 25 %, and the final one), ending at 100%
        assert.isAbove(run.stderr.length, 0)
        assert.isAtMost(run.stderr.length, 5)
        const percents = run.stderr.map((line) => Number(/(\d+)% /.exec(line)?.[1]))
        assert.deepStrictEqual(
          percents,
          [...new Set(percents)].sort((a, b) => a - b)
        )
        const size = Progress.formatBytes(expected.length)
        assert.include(run.stderr.at(-1), `100% ${size}/${size}`)
        assert.notInclude(run.output, emulator.restApiKey)
      })
    )

    // --idle-timeout over the environment: see "a storage origin that stalls" below
    it.scoped("--base-url and --api-version override the environment", () =>
      Effect.gen(function* () {
        const { emulator, ready } = yield* files
        yield* emulator.clearRequests
        const out = Path.join(yield* tempDir, "part.json")
        const env = { ...envFor(emulator), BATCH_API_URL: "http://127.0.0.1:1" }
        const args = ["download", ready.id, "-o", out, "--base-url", emulator.apiUrl, "--api-version", "2.4"]
        const run = yield* runCli(args, env)
        assert.strictEqual(run.code, 0, run.output)
        const [api] = yield* emulator.requests
        assert.strictEqual(api?.path, "/2.4/exports/download")
      })
    )

    it.scoped("401: a wrong REST key", () =>
      Effect.gen(function* () {
        const { emulator, ready } = yield* files
        const key = "wrong_rest_key_5f3a9c1d"
        const out = Path.join(yield* tempDir, "x.json")
        const run = yield* runCli(["download", ready.id, "--out", out], {
          ...envFor(emulator),
          BATCH_REST_API_KEY: key
        })
        assertOneLineFailure(run, "Unauthorized", "HTTP 401", "AUTHENTICATION_INVALID")
        assert.notInclude(run.output, key)
        assert.deepStrictEqual(yield* (yield* FileSystem.FileSystem).readDirectory(Path.dirname(out)), [])
      })
    )

    it.scoped("404: an unknown file id", () =>
      Effect.gen(function* () {
        const { emulator } = yield* files
        const out = Path.join(yield* tempDir, "x.json")
        const run = yield* runCli(["download", "file_0000000000000000000000000000dead", "--out", out], envFor(emulator))
        assertOneLineFailure(run, "NotFound", "HTTP 404", "NOT_FOUND")
        assert.notInclude(run.output, emulator.restApiKey)
      })
    )

    it.scoped("409: a file of an export that is still RUNNING", () =>
      Effect.gen(function* () {
        const { emulator, running } = yield* files
        const out = Path.join(yield* tempDir, "x.json")
        const run = yield* runCli(["download", running.id, "--out", out], envFor(emulator))
        assertOneLineFailure(run, "Conflict", "HTTP 409", "EXPORT_NOT_READY")
        assert.notInclude(run.output, emulator.restApiKey)
      })
    )

    it.scoped("500 with an HTML body", () =>
      Effect.gen(function* () {
        const { emulator, ready } = yield* files
        yield* emulator.script(
          "download",
          Emulator.Reply.status(500, {
            body: "<html><body><h1>500 Internal Server Error</h1>\n<p>nginx</p></body></html>",
            headers: { "content-type": "text/html" }
          })
        )
        const out = Path.join(yield* tempDir, "x.json")
        const run = yield* runCli(["download", ready.id, "--out", out], envFor(emulator))
        const line = assertOneLineFailure(run, "InternalServerError", "HTTP 500")
        assert.notInclude(line, "<html>")
        assert.notInclude(run.output, emulator.restApiKey)
      })
    )

    it.scoped("429 once retries are used up, with Batch's error_code and error_message", () =>
      Effect.gen(function* () {
        const { emulator, ready } = yield* files
        const tooMany = Emulator.Reply.status(429, {
          headers: { "retry-after": "0" },
          body: { error_code: "TOO_MANY_REQUESTS", error_message: "Slow down" }
        })
        yield* emulator.script("download", tooMany, tooMany)
        const out = Path.join(yield* tempDir, "x.json")
        const run = yield* runCli(["download", ready.id, "--out", out], {
          ...envFor(emulator),
          BATCH_MAX_RETRIES: "1"
        })
        assertOneLineFailure(run, "TooManyRequests", "HTTP 429", "TOO_MANY_REQUESTS", "Slow down")
        assert.notInclude(run.output, emulator.restApiKey)
      })
    )

    it.scoped("429 then success: retried (Retry-After: 0), exit 0", () =>
      Effect.gen(function* () {
        const { emulator, ready } = yield* files
        yield* emulator.script("download", Emulator.Reply.status(429, { headers: { "retry-after": "0" } }))
        const out = Path.join(yield* tempDir, "x.json")
        const run = yield* runCli(["download", ready.id, "--out", out], envFor(emulator))
        assert.strictEqual(run.code, 0, run.output)
      })
    )

    it.scoped("transport error: nothing listens on the API port", () =>
      Effect.gen(function* () {
        const { emulator, ready } = yield* files
        const port = yield* closedPort
        const out = Path.join(yield* tempDir, "x.json")
        const run = yield* runCli(["download", ready.id, "--out", out], {
          ...envFor(emulator),
          BATCH_API_URL: `http://127.0.0.1:${port}`,
          // a refused connection is retried on the backoff (real time here): without retries it fails at once
          BATCH_MAX_RETRIES: "0"
        })
        assertOneLineFailure(run, "TransportError", "ECONNREFUSED")
        assert.notInclude(run.output, emulator.restApiKey)
      })
    )

    it.scoped("a malformed file id is rejected before any request", () =>
      Effect.gen(function* () {
        const { emulator } = yield* files
        yield* emulator.clearRequests
        const out = Path.join(yield* tempDir, "x.json")
        const run = yield* runCli(["download", "export_not_a_file", "--out", out], envFor(emulator))
        assertOneLineFailure(run, "InvalidArgument", "fileId")
        assert.notInclude(run.output, emulator.restApiKey)
        assert.deepStrictEqual(yield* emulator.requests, [])
      })
    )

    it.scoped("an invalid --base-url names the flag", () =>
      Effect.gen(function* () {
        const { emulator, ready } = yield* files
        const out = Path.join(yield* tempDir, "x.json")
        const run = yield* runCli(["download", ready.id, "--out", out, "--base-url", "ftp://x"], envFor(emulator))
        assertOneLineFailure(run, "InvalidArgument", "--base-url")
        assert.notInclude(run.output, emulator.restApiKey)
      })
    )

    it.scoped("a directory that does not exist: FileWriteError", () =>
      Effect.gen(function* () {
        const { emulator, ready } = yield* files
        const out = Path.join(yield* tempDir, "missing", "x.json")
        const run = yield* runCli(["download", ready.id, "--out", out], envFor(emulator))
        assertOneLineFailure(run, "FileWriteError")
        assert.notInclude(run.output, emulator.restApiKey)
      })
    )
    it.scoped("an id that is a path (../x) with --create-dirs: refused before any directory is made", () =>
      Effect.gen(function* () {
        const { emulator } = yield* files
        const fs = yield* FileSystem.FileSystem
        const dir = yield* tempDir
        const run = yield* runCli(
          ["download", "../x", "--out", Path.join(dir, "made", "deeper") + "/", "--create-dirs"],
          envFor(emulator)
        )
        assertOneLineFailure(run, "InvalidArgument", "fileId")
        assert.deepStrictEqual(yield* fs.readDirectory(dir), [])
        assert.deepStrictEqual(yield* emulator.requests, [])
      })
    )

    it.scoped("--out missing/ (a trailing /): a directory that does not exist, refused before any request", () =>
      Effect.gen(function* () {
        const { emulator, ready } = yield* files
        const fs = yield* FileSystem.FileSystem
        const dir = yield* tempDir
        const out = Path.join(dir, "missing") + "/"
        const run = yield* runCli(["download", ready.id, "--out", out], envFor(emulator))
        assertOneLineFailure(run, "FileWriteError", "does not exist")
        assert.deepStrictEqual(yield* emulator.requests, [])
        // with --create-dirs, it is made, and the file saved in it as <file id>.json
        const created = yield* runCli(["download", ready.id, "--out", out, "--create-dirs"], envFor(emulator))
        assert.strictEqual(created.code, 0, created.output)
        assert.deepStrictEqual(
          Buffer.from(yield* fs.readFile(Path.join(dir, "missing", `${ready.id}.json`))),
          Buffer.from(yield* emulator.fileBytes(ready.id))
        )
      })
    )

    it.scoped("--out under a regular file: FileWriteError, not a crash", () =>
      Effect.gen(function* () {
        const { emulator, ready } = yield* files
        const fs = yield* FileSystem.FileSystem
        const file = Path.join(yield* tempDir, "a-file")
        yield* fs.writeFileString(file, "")
        const run = yield* runCli(["download", ready.id, "--out", Path.join(file, "x.json")], envFor(emulator))
        assertOneLineFailure(run, "FileWriteError", "ENOTDIR")
      })
    )
  })

  describe("timeouts (real clock)", () => {
    it.scopedLive(
      "a storage origin that stalls: RequestTimeout after --idle-timeout (over $BATCH_IDLE_TIMEOUT), progress then one error line",
      () =>
        Effect.gen(function* () {
          const { emulator, ready } = yield* files
          const stall = Emulator.Reply.stallAfter(1000)
          yield* emulator.script("storage", stall, stall, stall, stall, stall, stall)
          const out = Path.join(yield* tempDir, "x.json")
          // the environment says 10 minutes: only the flag can end the stall within the test
          const run = yield* runCli(["download", ready.id, "--out", out, "--idle-timeout", "0.2"], {
            ...envFor(emulator),
            BATCH_MAX_RETRIES: "0",
            BATCH_IDLE_TIMEOUT: "10 minutes"
          })
          assert.strictEqual(run.code, 1, run.output)
          const errors = run.stderr.filter((line) => line.startsWith("error: "))
          assert.strictEqual(errors.length, 1, run.output)
          assert.include(errors[0], "RequestTimeout")
          assert.include(errors[0], "timed out after 200ms")
          assert.include(run.stderr[0], `1000 B/${Progress.formatBytes(ready.size)}`)
          assert.notInclude(run.output, emulator.restApiKey)
        }).pipe(Effect.provide(layer))
    )
  })

  describe("configuration", () => {
    it.effect("a missing variable is named, and no request is made", () =>
      Effect.gen(function* () {
        const run = yield* runCli(["download", "file_abc", "--out", "x.json"], {
          BATCH_PROJECT_KEY: "project_abc"
        })
        assertOneLineFailure(run, "ConfigError", "BATCH_REST_API_KEY is not set")
        assert.notInclude(run.output, "BATCH_PROJECT_KEY")
      })
    )

    it.effect("an invalid variable is named, never its value", () =>
      Effect.gen(function* () {
        const key = "secret with spaces 9c8b7a"
        const run = yield* runCli(["download", "file_abc", "--out", "x.json"], {
          BATCH_REST_API_KEY: key,
          BATCH_PROJECT_KEY: "not-a-project-key",
          BATCH_MAX_RETRIES: "lots"
        })
        const line = assertOneLineFailure(run, "ConfigError", "BATCH_REST_API_KEY must be")
        assert.notInclude(run.output, key)
        assert.notInclude(line, "not-a-project-key")
        assert.notInclude(line, "lots")
      })
    )
  })
})

// Real processes (the built executable): import declarations are hoisted, kept here so the block stands alone.
import { built as executableBuilt, run as runExecutable } from "./support/process.js"

describe.skipIf(!executableBuilt)("download --out - --max-size, as a process", () => {
  it.scopedLive(
    "the limit reaches the download: DownloadTooLarge naming it, at most that many bytes on stdout",
    () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator.make({ exports: [{ status: "SUCCESS", parts: 1, recordsPerPart: 300 }] })
        const [exp] = yield* emulator.exports
        const file = exp!.files[0]!
        assert.isAbove(file.size, 5000)
        const args = ["download", file.id, "--out", "-", "-q", "--max-size"]
        const limited = yield* runExecutable([...args, "1000"], envFor(emulator))
        assert.strictEqual(limited.code, 1, limited.stderr)
        assert.include(limited.stderr, "DownloadTooLarge")
        assert.include(limited.stderr, "1000-byte limit")
        assert.isAtMost(limited.stdout.length, 1000)
        const whole = yield* runExecutable([...args, String(file.size)], envFor(emulator))
        assert.strictEqual(whole.code, 0, whole.stderr)
        assert.deepStrictEqual(whole.stdout, Buffer.from(yield* emulator.fileBytes(file.id)))
      }),
    30_000
  )
})
