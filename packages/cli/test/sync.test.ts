/**
 * `batch-export sync` as users run it (the bundled executable, a real process) against two emulated Batch
 * projects, into SQLite files in the test's temp dir.
 */
import { Emulator } from "@batch-export/emulator"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { readdir, readFile, writeFile } from "node:fs/promises"
import * as Path from "node:path"
import * as Postgres from "../../sync/test/support/postgres.js"
import { runCli } from "./support/harness.js"
import * as Child from "./support/process.js"
import {
  assertLandedOnce,
  downloads,
  emulatorOptions,
  finishedWithin,
  posts,
  storageRequests,
  stored,
  twoProjects,
  waitUntil
} from "./support/sync.js"

const sync = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Child.run(["sync", ...args, "--poll-interval", "1"], env)

describe.skipIf(!Child.built)("batch-export sync", () => {
  it.scoped("syncs two projects into the SQLite file beside the config; a second run in the slot does nothing", () =>
    Effect.gen(function* () {
      const { app, config, dir, env, shop } = yield* twoProjects()
      const first = yield* sync(["--config", config], env)
      assert.strictEqual(first.code, 0, first.stderr)
      const table = first.stdout.toString("utf8").trimEnd().split("\n")
      assert.match(table[0]!, /^PROJECT\s+EXPORT\s+SLOT \(UTC\)\s+RESULT\s+PARTS\s+ROWS$/)
      assert.match(table[1]!, /^shop\s+profiles\s+\d{4}-\d\d-\d\d 00:00\s+ok\s+2\s+50$/)
      assert.match(table[2]!, /^app\s+profiles\s+\d{4}-\d\d-\d\d 00:00\s+ok\s+2\s+50$/)

      const db = { filename: Path.join(dir, "batch-export.db") }
      const after = yield* stored(db)
      assert.deepStrictEqual(after.profiles, [
        { project: "app", n: 50, distinct: 50 },
        { project: "shop", n: 50, distinct: 50 }
      ])
      assert.deepStrictEqual(
        after.runs.map((run) => [run.project, run.definition, run.outcome, run.parts, run.records]).sort(),
        [
          ["app", "profiles", "success", 2, 50],
          ["shop", "profiles", "success", 2, 50]
        ]
      )
      assert.strictEqual(yield* posts(shop), 1)
      assert.strictEqual(yield* posts(app), 1)

      const second = yield* sync(["--config", config], env)
      assert.strictEqual(second.code, 0, second.stderr)
      assert.strictEqual(yield* posts(shop), 1, "no second export on Batch")
      assert.strictEqual(yield* posts(app), 1, "no second export on Batch")
      assert.deepStrictEqual(yield* downloads(shop), [1, 1], "no part downloaded again")
      assert.deepStrictEqual(yield* stored(db), after)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scoped("on a terminal: one progress line per execution (parts, rows, label: step), redrawn in place, fitted", () =>
    Effect.gen(function* () {
      const { config, env } = yield* twoProjects()
      // narrower than the final lines: they are cut, the numbers kept
      const columns = 40
      const result = yield* Child.inTerminal(columns, ["sync", "--config", config, "--poll-interval", "1"], env)
      assert.strictEqual(result.code, 0, result.screen)
      // the block of two lines is drawn again by moving the cursor up two lines
      assert.include(result.screen, "\x1b[2A\r\x1b[2K")
      const progress = result.screen
        .split(/[\r\n]+/)
        .map((segment) => segment.replace(/\x1b\[[0-9;]*[A-Za-z]/g, ""))
        .filter((segment) => / rows /.test(segment))
      for (const line of progress) assert.isBelow(line.length, columns, JSON.stringify(line))
      assert.deepStrictEqual(progress.slice(-2), [
        "  2 parts        50 rows  shop/profile…",
        "  2 parts        50 rows  app/profiles…"
      ])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scoped("--project limits the run to one project; --json prints one document per execution; sync status", () =>
    Effect.gen(function* () {
      const { app, config, env, shop } = yield* twoProjects()
      const run = yield* sync(["--config", config, "--project", "shop", "--json"], env)
      assert.strictEqual(run.code, 0, run.stderr)
      assert.strictEqual(run.stderr, "", "no progress under --json")
      const lines = run.stdout.toString("utf8").trimEnd().split("\n")
      assert.strictEqual(lines.length, 1)
      const outcome: unknown = JSON.parse(lines[0]!)
      assert.deepInclude(outcome, {
        project: "shop",
        definition: "profiles",
        outcome: "success",
        parts: 2,
        records: 50
      })
      assert.strictEqual(yield* posts(shop), 1)
      assert.strictEqual(yield* posts(app), 0, "the other project is left alone")

      const table = yield* runCli(["sync", "status", "--config", config], env)
      assert.strictEqual(table.code, 0, table.output)
      assert.match(
        table.stdout[0]!,
        /^PROJECT\s+EXPORT\s+OUTCOME\s+STARTED \(UTC\)\s+PARTS\s+ROWS\nshop\s+profiles\s+ok\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+2\s+50$/
      )
      for (const line of table.stdout[0]!.split("\n")) assert.isAtMost(line.length, 80, line)

      const json = yield* runCli(["sync", "status", "--config", config, "--json"], env)
      assert.strictEqual(json.code, 0, json.output)
      assert.strictEqual(json.stdout.length, 1)
      const row: unknown = JSON.parse(json.stdout[0]!)
      assert.deepInclude(row, {
        project: "shop",
        definition: "profiles",
        type: "ATTRIBUTES",
        outcome: "success",
        parts: 2,
        records: 50,
        error: null
      })
      for (const text of [run.stdout.toString("utf8"), json.stdout[0]!, table.stdout[0]!]) {
        assert.notInclude(text, shop.restApiKey)
      }
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})

describe.skipIf(!Child.built)("batch-export sync of EVENTS", () => {
  it.scoped("the first run looks back lookBackDays; the next slot's run starts where the last window ended", () =>
    Effect.gen(function* () {
      // a slot every 2 seconds: two runs a few seconds apart are two slots
      const { config, dir, env } = yield* twoProjects(emulatorOptions, {
        exports: [
          { name: "profiles", type: "EVENTS", events: ["purchase"], schedule: "*/2 * * * * *", lookBackDays: 1 }
        ]
      })
      const first = yield* sync(["--config", config, "--project", "shop"], env)
      assert.strictEqual(first.code, 0, first.stderr)
      const before = (yield* stored({ filename: Path.join(dir, "batch-export.db") })).runs
      yield* waitUntil(
        Effect.sync(() => Date.now() >= Option.getOrThrow(before[0]!.windowTo).getTime() + 2000),
        "the next slot"
      )
      const second = yield* sync(["--config", config, "--project", "shop"], env)
      assert.strictEqual(second.code, 0, second.stderr)
      const runs = (yield* stored({ filename: Path.join(dir, "batch-export.db") })).runs
      const windows = runs
        .map((run) => [Option.getOrThrow(run.windowFrom).getTime(), Option.getOrThrow(run.windowTo).getTime()] as const)
        .sort((a, b) => a[1] - b[1])
      assert.strictEqual(windows.length, 2)
      const [[from1, to1], [from2, to2]] = windows as [readonly [number, number], readonly [number, number]]
      assert.strictEqual(to1 - from1, 24 * 60 * 60 * 1000, "the first run looks back one day")
      assert.strictEqual(from2, to1, "the second window starts at the cursor")
      assert.isAbove(to2, to1)
      assert.strictEqual(new Date(to2).getUTCSeconds() % 2, 0)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})

describe.skipIf(!Child.built)("batch-export sync failures", () => {
  it.scoped("an execution that fails is reported on its line; the others land; exit 3 when Batch refused a key", () =>
    Effect.gen(function* () {
      const { app, config, dir, env, shop } = yield* twoProjects()
      const wrongKey = "wrong-Rest-Key-7"
      const run = yield* sync(["--config", config], { ...env, APP_REST_KEY: wrongKey })
      assert.strictEqual(run.code, 3, run.stderr)
      const table = run.stdout.toString("utf8").trimEnd().split("\n")
      assert.match(table[1]!, /^shop\s+profiles\s+\S+ 00:00\s+ok\s+2\s+50$/)
      assert.match(table[2]!, /^app\s+profiles\s+\S+ 00:00\s+failed\s+-\s+Unauthorized: /)
      assert.match(run.stderr, /^error: SyncFailed: 1 of 2 sync executions failed$/m)
      assert.notInclude(run.stdout.toString("utf8") + run.stderr, wrongKey)
      const after = yield* stored({ filename: Path.join(dir, "batch-export.db") })
      assert.deepStrictEqual(after.profiles, [{ project: "shop", n: 50, distinct: 50 }])
      assert.deepStrictEqual(
        after.runs.map((run) => [run.project, run.outcome, Option.getOrNull(run.errorTag)]).sort(),
        [
          ["app", "failure", "Unauthorized"],
          ["shop", "success", null]
        ]
      )
      assert.strictEqual(yield* posts(shop), 1)
      assert.deepStrictEqual(yield* app.exports, [], "Batch refused the create")
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})

describe.skipIf(!Child.built)("batch-export sync --watch", () => {
  it.scoped("runs what is due, then fires on each cron occurrence; SIGTERM stops it cleanly (exit 143)", () =>
    Effect.gen(function* () {
      // `daily` is due once (today 00:00 UTC, the default schedule); `fast` every 4 seconds: each occurrence is a
      // slot of its own, so a new execution
      const { config, dir, env, shop } = yield* twoProjects(emulatorOptions, {
        exports: [
          { name: "daily", type: "ATTRIBUTES", identifiers: ["custom_id"] },
          { name: "fast", type: "ATTRIBUTES", identifiers: ["custom_id"], schedule: "*/4 * * * * *" }
        ]
      })
      const file = JSON.parse(yield* Effect.promise(() => readFile(config, "utf8")))
      file.projects[0].exports = ["daily", "fast"]
      file.projects[1].exports = ["daily"]
      yield* Effect.promise(() => writeFile(config, JSON.stringify(file)))
      const watch = yield* Child.start(
        ["sync", "--config", config, "--project", "shop", "--watch", "--json", "--poll-interval", "1"],
        env
      )
      const outcomes = () =>
        Buffer.concat(watch.stdout())
          .toString("utf8")
          .split("\n")
          .filter((line) => line !== "")
          .map((line): { readonly definition: string; readonly slot: string; readonly outcome: string } =>
            JSON.parse(line)
          )
      const of = (definition: string) => outcomes().filter((outcome) => outcome.definition === definition)
      yield* waitUntil(
        Effect.sync(() => of("fast").length >= 2),
        "two slots of the fast definition",
        30
      ).pipe(Effect.mapError((error) => new Error(`${error.message}; stderr: ${watch.stderrSoFar()}`)))
      watch.child.kill("SIGTERM")
      const ended = yield* finishedWithin(watch, "the watch after SIGTERM", 15)
      assert.strictEqual(ended.code, 143, ended.stderr)
      const seen = outcomes()
      assert.deepStrictEqual(
        seen.map((outcome) => outcome.outcome),
        seen.map(() => "success")
      )
      // the slot due at the start ran at once; the daily cron has no occurrence during the test
      const today = new Date()
      today.setUTCHours(0, 0, 0, 0)
      assert.deepStrictEqual(
        of("daily").map((outcome) => outcome.slot),
        [today.toISOString()]
      )
      const fast = of("fast").map((outcome) => outcome.slot)
      assert.strictEqual(new Set(fast).size, fast.length, "one execution per slot")
      for (const slot of fast) assert.strictEqual(new Date(slot).getUTCSeconds() % 4, 0, slot)
      const after = yield* stored({ filename: Path.join(dir, "batch-export.db") })
      assert.strictEqual(after.runs.length, seen.length, "a run row per execution")
      assert.strictEqual(yield* posts(shop), seen.length)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})

describe.skipIf(!Child.built)("batch-export sync killed", () => {
  it.scoped(
    "with SIGKILL in the middle of a part: the next run finishes both projects, every profile once, one export each",
    () =>
      Effect.gen(function* () {
        const { app, config, dir, env, shop } = yield* twoProjects()
        // shop's first download stalls after 100 bytes: the process is then in the middle of a part (loads take
        // the SQLite file in turn: app's waits, or was done before)
        yield* shop.script("storage", Emulator.Reply.stallAfter(100))
        const first = yield* Child.start(["sync", "--config", config, "--poll-interval", "1"], env)
        yield* waitUntil(
          Effect.map(storageRequests(shop), (n) => n > 0),
          "a part of shop downloading"
        )
        first.child.kill("SIGKILL")
        assert.strictEqual((yield* first.finished).signal, "SIGKILL")
        // the killed run: in flight, to be resumed
        const status = yield* runCli(["sync", "status", "--config", config], env)
        assert.strictEqual(status.code, 0, status.output)
        assert.match(status.stdout.join("\n"), /^shop\s+profiles\s+running\s/m)

        const second = yield* finishedWithin(
          yield* Child.start(["sync", "--config", config, "--poll-interval", "1"], env),
          "the second run"
        )
        assert.strictEqual(second.code, 0, second.stderr)
        yield* assertLandedOnce({ filename: Path.join(dir, "batch-export.db") }, shop, app)
      }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})

describe.skipIf(!Child.built)("batch-export sync stopped", () => {
  it.scoped("by SIGTERM while it waits for Batch: exit 143, and the next run resumes the same executions", () =>
    Effect.gen(function* () {
      const { app, config, dir, env, shop } = yield* twoProjects({ ...emulatorOptions, pollsPerStatus: 4 })
      const args = ["sync", "--config", config, "--poll-interval", "1"]
      const first = yield* Child.start(args, env)
      yield* waitUntil(
        Effect.sync(() => (first.stderrSoFar().match(/: waiting for export_/g) ?? []).length === 2),
        "both executions waiting for Batch"
      )
      first.child.kill("SIGTERM")
      const stopped = yield* finishedWithin(first, "the run after SIGTERM", 15)
      assert.strictEqual(stopped.code, 143, stopped.stderr)

      const second = yield* finishedWithin(yield* Child.start(args, env), "the second run")
      assert.strictEqual(second.code, 0, second.stderr)
      // the stopped executions resumed: no second export
      yield* assertLandedOnce({ filename: Path.join(dir, "batch-export.db") }, shop, app)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})

describe.skipIf(!Child.built || !Postgres.available)("batch-export sync --database postgres://…", () => {
  it.scoped(
    "killed with SIGKILL while it waits for Batch, run again: both projects land once in Postgres, one export each",
    () =>
      Effect.gen(function* () {
        const cluster = yield* Postgres.start
        const url = `postgres://postgres:${cluster.password}@127.0.0.1:${cluster.port}/postgres`
        // each export takes 12 looks, a second apart, to succeed: the process is waiting when it is killed
        const { app, config, dir, env, shop } = yield* twoProjects({ ...emulatorOptions, pollsPerStatus: 4 })
        const args = ["sync", "--config", config, "--database", url, "--poll-interval", "1"]
        const first = yield* Child.start(args, env)
        yield* waitUntil(
          Effect.sync(() => (first.stderrSoFar().match(/: waiting for export_/g) ?? []).length === 2),
          "both executions waiting for Batch"
        )
        first.child.kill("SIGKILL")
        assert.strictEqual((yield* first.finished).signal, "SIGKILL")

        const second = yield* finishedWithin(yield* Child.start(args, env), "the second run")
        assert.strictEqual(second.code, 0, `${second.stdout.toString("utf8")}\n${second.stderr}`)
        for (const text of [second.stdout.toString("utf8"), second.stderr, first.stderrSoFar()]) {
          assert.notInclude(text, cluster.password)
        }
        yield* assertLandedOnce({ url: Redacted.make(url) }, shop, app)
        assert.deepStrictEqual(yield* downloads(shop), [1, 1])
        // nothing went to the SQLite default
        assert.deepStrictEqual(yield* Effect.promise(() => readdir(dir)), ["sync.json"])
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    120_000
  )
})
