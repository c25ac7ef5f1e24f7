/**
 * A sync configuration that cannot be used: `batch-export sync` and `sync status` exit 2 with one line naming
 * the file, the JSON path and the field, and start nothing (no database file appears, Batch gets no request).
 */
import { Emulator } from "@batch-export/emulator"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Path from "node:path"
import { assertOneLineFailure, runCli } from "./support/harness.js"
import { configFor } from "./support/sync.js"

type Config = ReturnType<typeof configFor> & Record<string, unknown>

/** Writes the two-project configuration changed by `change`, runs `args` on it, checks nothing was started. */
const refused = (
  change: (config: Config) => void,
  args: ReadonlyArray<string> = ["sync"],
  env?: Record<string, string>
) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped()
    const emulator = yield* Emulator.make({ exports: [] })
    const config: Config = configFor(emulator, emulator)
    change(config)
    const file = Path.join(dir, "sync.json")
    yield* fs.writeFileString(file, JSON.stringify(config))
    const run = yield* runCli([...args, "--config", file], env ?? { SHOP_REST_KEY: "k1", APP_REST_KEY: "k2" })
    assert.strictEqual(run.code, 2, run.output)
    assert.deepStrictEqual(yield* fs.readDirectory(dir), ["sync.json"], "no database file")
    assert.deepStrictEqual(yield* emulator.requests, [], "nothing sent to Batch")
    return assertOneLineFailure(run, "SyncConfigError: sync.json: ")
  }).pipe(Effect.provide(NodeFileSystem.layer))

describe("batch-export sync: a bad configuration", () => {
  it.scoped("an unknown field", () =>
    Effect.gen(function* () {
      const line = yield* refused((config) => Object.assign(config.projects[1]!, { schedule: "0 * * * *" }))
      assert.strictEqual(line, "error: SyncConfigError: sync.json: projects[1].schedule: unknown field")
    })
  )

  it.scoped("a schedule that is not a cron", () =>
    Effect.gen(function* () {
      const line = yield* refused((config) => Object.assign(config.exports[0]!, { schedule: "0 25 * * *" }))
      assert.match(line, /: exports\[0\]\.schedule: not a cron \(.+\): "0 25 \* \* \*"$/)
    })
  )

  it.scoped("a missing environment variable, named (sync status too)", () =>
    Effect.gen(function* () {
      for (const args of [["sync"], ["sync", "status"]]) {
        const line = yield* refused(() => {}, args, { SHOP_REST_KEY: "k1" })
        assert.strictEqual(
          line,
          "error: SyncConfigError: sync.json: projects[1].restKeyEnv: environment variable APP_REST_KEY is not set"
        )
      }
    })
  )

  it.scoped("a database URL kept in an unset environment variable, or in a malformed one", () =>
    Effect.gen(function* () {
      const unset = yield* refused((config) => Object.assign(config, { database: { env: "DATABASE_URL" } }))
      assert.strictEqual(
        unset,
        "error: SyncConfigError: sync.json: database.env: environment variable DATABASE_URL is not set"
      )
      const malformed = yield* refused((config) => Object.assign(config, { database: { env: "not-a-name" } }))
      assert.strictEqual(
        malformed,
        "error: SyncConfigError: sync.json: database.env: the name of an environment variable"
      )
    })
  )

  it.scoped("a missing field", () =>
    Effect.gen(function* () {
      const line = yield* refused((config) => {
        delete (config.projects[0] as { restKeyEnv?: string }).restKeyEnv
      })
      assert.strictEqual(line, "error: SyncConfigError: sync.json: projects[0].restKeyEnv: missing")
    })
  )

  it.scoped("a REST key written in the file: refused, and not repeated", () =>
    Effect.gen(function* () {
      const line = yield* refused((config) => Object.assign(config.projects[0]!, { restApiKey: "rest-Secret-42" }))
      assert.include(line, ": projects[0].restApiKey: a REST key is never written in the file")
      assert.notInclude(line, "rest-Secret-42")
    })
  )

  it.scoped("a look-back beyond Batch's 90 days", () =>
    Effect.gen(function* () {
      const line = yield* refused((config) => {
        config.exports.push({ name: "events", type: "EVENTS", lookBackDays: 91 } as never)
      })
      assert.match(line, /: exports\[1\]\.lookBackDays: whole days from 1 to 90/)
    })
  )

  it.scoped("a project that runs an undefined export, and --project naming no project", () =>
    Effect.gen(function* () {
      const line = yield* refused((config) => config.projects[0]!.exports.push("events"))
      assert.match(line, /: projects\[0\]\.exports\[1\]: no export definition named events$/)
      const project = yield* refused(() => {}, ["sync", "--project", "nope"])
      assert.match(project, /: projects: no project named nope$/)
    })
  )

  it.scoped("a file that is not JSON, or is missing", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      yield* fs.writeFileString(Path.join(dir, "sync.json"), "{ projects: [")
      const bad = yield* runCli(["sync", "--config", Path.join(dir, "sync.json")])
      assert.strictEqual(bad.code, 2, bad.output)
      assert.match(assertOneLineFailure(bad), /: sync\.json: not JSON \(/)
      const missing = yield* runCli(["sync", "--config", Path.join(dir, "other.json")])
      assert.strictEqual(missing.code, 2, missing.output)
      assert.match(assertOneLineFailure(missing), /: other\.json: no such file$/)
      assert.deepStrictEqual(yield* fs.readDirectory(dir), ["sync.json"])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})

describe("batch-export sync status", () => {
  it.scoped("before any run: says so, and creates no database file", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const emulator = yield* Emulator.make({ exports: [] })
      const file = Path.join(dir, "sync.json")
      yield* fs.writeFileString(file, JSON.stringify(configFor(emulator, emulator)))
      const run = yield* runCli(["sync", "status", "--config", file], { SHOP_REST_KEY: "k1", APP_REST_KEY: "k2" })
      assert.strictEqual(run.code, 0, run.output)
      assert.deepStrictEqual(run.stdout, [])
      assert.deepStrictEqual(run.stderr, ["no runs yet"])
      assert.deepStrictEqual(yield* fs.readDirectory(dir), ["sync.json"])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})
