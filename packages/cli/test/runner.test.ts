/**
 * `batch-export runner` as a process: what it refuses before joining anything, and how it joins and leaves a
 * cluster (the multi-runner behaviour is in `cluster.test.ts`).
 */
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Postgres from "../../sync/test/support/postgres.js"
import * as Child from "./support/process.js"
import { finishedWithin, twoProjects, waitUntil } from "./support/sync.js"

describe.skipIf(!Child.built)("batch-export runner, refused", () => {
  it.scoped("on a SQLite database: exit 2, one line saying a runner needs Postgres, nothing created", () =>
    Effect.gen(function* () {
      const { config, dir, env } = yield* twoProjects()
      const ended = yield* Child.run(["runner", "--config", config], env)
      assert.strictEqual(ended.code, 2, ended.stderr)
      assert.include(ended.stderr, "a runner needs a Postgres database")
      assert.strictEqual(ended.stderr.trim().split("\n").length, 1, ended.stderr)
      const fs = yield* Effect.promise(() => import("node:fs"))
      assert.isFalse(fs.existsSync(`${dir}/batch-export.db`))
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scoped("with an address that is not HOST:PORT (flag or variable): exit 2 before any connection", () =>
    Effect.gen(function* () {
      const { config, env } = yield* twoProjects()
      // nothing listens at port 1: reaching for the database would be another failure (exit 1)
      const database = ["--database", "postgres://u:p@127.0.0.1:1/x"]
      const flag = yield* Child.run(["runner", "--config", config, ...database, "--listen", "somewhere"], env)
      assert.strictEqual(flag.code, 2, flag.stderr)
      assert.include(flag.stderr, '--listen must be HOST:PORT, not "somewhere"')
      const variable = yield* Child.run(["runner", "--config", config, ...database], {
        ...env,
        BATCH_EXPORT_ADVERTISE: "[::1]"
      })
      assert.strictEqual(variable.code, 2, variable.stderr)
      assert.include(variable.stderr, "--advertise must be HOST:PORT")
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})

describe.skipIf(!Child.built || !Postgres.available)("batch-export runner on Postgres", () => {
  it.scoped(
    "says where it listens, refuses a second node with another shard count (exit 2), and leaves on SIGTERM (143)",
    () =>
      Effect.gen(function* () {
        const cluster = yield* Postgres.start
        const url = `postgres://postgres:${cluster.password}@127.0.0.1:${cluster.port}/postgres`
        const { config, env } = yield* twoProjects()
        const runner = yield* Child.start(["runner", "--config", config, "--database", url, "--shards", "12"], env)
        yield* waitUntil(
          Effect.sync(() =>
            /runner listening on 127\.0\.0\.1:\d+ \(advertised as 127\.0\.0\.1:\d+\)/.test(runner.stderrSoFar())
          ),
          "the runner's listening line"
        ).pipe(Effect.mapError((error) => new Error(`${error.message}; stderr: ${runner.stderrSoFar()}`)))
        const registered = () =>
          Effect.map(cluster.psql("postgres", "SELECT count(*) FROM cluster_runners"), (n) => Number(n.trim()))
        assert.strictEqual(yield* registered(), 1)

        const other = yield* finishedWithin(
          yield* Child.start(["runner", "--config", config, "--database", url], { ...env, BATCH_EXPORT_SHARDS: "300" }),
          "a runner with another shard count"
        )
        assert.strictEqual(other.code, 2, other.stderr)
        assert.include(other.stderr, "this cluster has 12 shards per group")
        assert.notInclude(other.stderr, cluster.password)

        runner.child.kill("SIGTERM")
        const ended = yield* finishedWithin(runner, "the runner after SIGTERM", 20)
        assert.strictEqual(ended.code, 143, ended.stderr)
        // the cluster's info logs are not printed, and the password nowhere
        assert.notInclude(ended.stderr, "Listening on:")
        assert.notInclude(ended.stderr, cluster.password)
        assert.strictEqual(yield* registered(), 0, "a runner that stops unregisters")
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    60_000
  )
})
