/**
 * `batch-export sync` as users run it (the bundled executable, a real process) against two emulated Batch
 * projects, into SQLite files in the test's temp dir.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Path from "node:path"
import * as Child from "./support/process.js"
import { downloads, posts, stored, twoProjects } from "./support/sync.js"

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
})
