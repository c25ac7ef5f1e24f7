/**
 * The sink on Postgres 15: the shared suite on a throw-away cluster (see support/postgres.ts), then what only
 * a server shows: a concurrent reader during a publish, a refused password, a server that goes down.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, layer } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Database from "../src/Database.js"
import * as Sink from "../src/Sink.js"
import {
  attributesOf,
  count,
  load,
  loadEvents,
  onFreshSink,
  profile,
  profiles,
  publish,
  publishWindow,
  sinkSuite,
  withSink
} from "./sinkSuite.js"
import * as Backend from "./support/backend.js"
import * as Postgres from "./support/postgres.js"

if (!Postgres.available) console.warn(`Postgres 15 not found in ${Postgres.binDir}: skipping the Postgres sink tests`)

describe.skipIf(!Postgres.available)("Sink on Postgres 15", () => {
  layer(Backend.postgresCluster, { excludeTestServices: true, timeout: "120 seconds" })((it) => {
    sinkSuite(it)

    it.effect("sinks set up at the same moment on a fresh database all migrate (one after another)", () =>
      Effect.gen(function* () {
        for (let round = 0; round < 4; round++) {
          const fresh = yield* (yield* Backend.Backend).fresh
          const exits = yield* Effect.forEach(
            [fresh.client, fresh.second, fresh.client],
            (database) => Effect.exit(Layer.build(Sink.layer.pipe(Layer.provide(database)))),
            { concurrency: "unbounded" }
          )
          for (const exit of exits) {
            assert.strictEqual(exit._tag, "Success", exit._tag === "Failure" ? Cause.pretty(exit.cause) : "")
          }
        }
      }).pipe(Effect.scoped)
    )

    it.effect(
      "publishSnapshot is atomic: a reader on another connection sees the old count or the new one, never a mix",
      () =>
        Effect.gen(function* () {
          const fresh = yield* (yield* Backend.Backend).fresh
          const old = 20_000
          const next = 30_000
          yield* withSink(
            fresh,
            Effect.gen(function* () {
              yield* load("p", "export_old", 1, profiles(1, old))
              yield* publish("export_old", 1)
              yield* load("p", "export_new", 1, profiles(1, next))

              const done = yield* Deferred.make<void>()
              const seen: Array<number> = []
              const reader = yield* Effect.gen(function* () {
                while (!(yield* Deferred.isDone(done))) seen.push(yield* count("batch_profiles", "p"))
              }).pipe(Effect.provide(fresh.second), Effect.orDie, Effect.fork)
              // let the reader connect and read the old snapshot first
              while (seen.length < 3) yield* Effect.sleep("5 millis")
              const published = yield* publish("export_new", 1)
              assert.deepStrictEqual(published, { records: next, replayed: false })
              const readsDuring = seen.length
              while (seen.length < readsDuring + 3) yield* Effect.sleep("5 millis")
              yield* Deferred.succeed(done, undefined)
              yield* Fiber.join(reader)
              const counts = [...new Set(seen)].sort((a, b) => a - b)
              assert.deepStrictEqual(counts, [old, next], `counts seen by the reader: ${counts.join(", ")}`)
            })
          )
        }),
      120_000
    )

    it.effect(
      "a COMMIT that fails (a deferred constraint: the analogue of a disk full at commit) fails typed and publishes nothing",
      () =>
        onFreshSink(
          Effect.gen(function* () {
            const sql = yield* SqlClient.SqlClient
            // checked only at COMMIT: @effect/sql turns a failed COMMIT into a defect, the sink into a SinkError
            yield* sql.unsafe(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN RAISE EXCEPTION 'refused at commit'; END $$`)
            yield* sql.unsafe(`CREATE CONSTRAINT TRIGGER refuse AFTER INSERT ON batch_cursors
              DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse()`)
            yield* loadEvents("export_1", 1, 1, 1)
            const failed = yield* Effect.flip(publishWindow("export_1", 1, "2026-12-01T00:00:00Z"))
            assert.strictEqual(failed._tag, "SinkError")
            if (failed._tag === "SinkError") assert.include(failed.detail, "refused at commit")
            assert.strictEqual(yield* count("batch_events", "p"), 0)
          })
        )
    )

    it.effect("two publishes of one snapshot at once: one replaces the other whole, neither fails nor mixes", () =>
      onFreshSink(
        Effect.gen(function* () {
          // overlapping profiles (same keys) and different counts
          yield* load("p", "export_a", 1, profiles(1, 5_000))
          yield* load("p", "export_b", 1, profiles(2_001, 8_000))
          const [a, b] = yield* Effect.all([publish("export_a", 1), publish("export_b", 1)], { concurrency: 2 })
          assert.deepStrictEqual([a.records, b.records], [5_000, 6_000])
          const sql = yield* SqlClient.SqlClient
          const rows = yield* sql<{ readonly export_id: string; readonly n: unknown }>`SELECT export_id, COUNT(*) AS n
              FROM batch_profiles WHERE project = 'p' AND definition = 'all' GROUP BY export_id`
          const current = yield* sql<{ readonly export_id: string }>`SELECT export_id FROM batch_snapshots
              WHERE project = 'p' AND definition = 'all'`
          assert.strictEqual(rows.length, 1, `one export's profiles only: ${JSON.stringify(rows)}`)
          assert.strictEqual(rows[0]?.export_id, current[0]?.export_id)
          assert.strictEqual(Number(rows[0]?.n), rows[0]?.export_id === "export_a" ? 5_000 : 6_000)
        })
      )
    )

    /** A database of the cluster, its layers, and what its `batch-export` connections are doing now. */
    const database = (name: string) =>
      Effect.gen(function* () {
        const cluster = yield* Backend.Cluster
        yield* cluster.psql("postgres", `CREATE DATABASE ${name}`)
        const client = Database.layerPg({
          host: cluster.socketDir,
          port: cluster.port,
          username: "postgres",
          database: name,
          connectTimeout: "2 seconds"
        })
        const sessions = Effect.map(
          cluster.psql(
            "postgres",
            `SELECT state || ' ' || left(query, 20) FROM pg_stat_activity
             WHERE datname = '${name}' AND application_name = 'batch-export' AND pid <> pg_backend_pid()`
          ),
          (out) => out.split("\n").filter((line) => line.trim() !== "")
        )
        return { cluster, client, sessions }
      })

    /**
     * Waits until `check` holds, 3 s of real time at most: less than the pool's 10 s idle timeout, which would
     * close a connection left in a transaction and hide it.
     */
    const eventually = <E, R>(what: string, check: Effect.Effect<boolean, E, R>) =>
      Effect.gen(function* () {
        const deadline = Date.now() + 3_000
        while (Date.now() < deadline) {
          if (yield* check) return
          yield* Effect.sleep("50 millis")
        }
        return yield* Effect.dieMessage(`timed out: ${what}`)
      })

    it.scoped("loadPart streams a part's rows with one COPY (Database.PgCopy), not row INSERTs", () =>
      Effect.gen(function* () {
        const { client } = yield* database("copy_used")
        const context = yield* Layer.build(client)
        const copies: Array<string> = []
        const real = Context.get(context, Database.PgCopy)
        const counted = Database.PgCopy.of({
          copyIn: (operation, options) => {
            copies.push(options.copy)
            return real.copyIn(operation, options)
          }
        })
        const sink = yield* Effect.provide(Sink.make, Context.add(context, Database.PgCopy, counted))
        const loaded = yield* sink.loadPart(
          { project: "p", exportId: "export_1", part: 1, type: "ATTRIBUTES" },
          profiles(1, 1200)
        )
        assert.deepStrictEqual(loaded, { records: 1200, skipped: false })
        assert.deepStrictEqual(copies.length, 1)
        assert.match(copies[0] ?? "", /^COPY batch_profiles_staging \(/)
        assert.strictEqual(yield* count("batch_profiles_staging", "p", "export_1").pipe(Effect.provide(context)), 1200)
      })
    )

    it.scoped("an interrupted COPY stages nothing and leaves no connection in a transaction", () =>
      Effect.gen(function* () {
        const { client, sessions } = yield* database("copy_interrupted")
        const context = yield* Layer.build(client)
        const sink = yield* Effect.provide(Sink.make, context)
        yield* sink.loadPart({ project: "p", exportId: "export_1", part: 1, type: "ATTRIBUTES" }, profiles(1, 3))
        // a replay of the part that sends 1,000 rows and then waits forever
        const loading = yield* Effect.fork(
          sink.loadPart(
            { project: "p", exportId: "export_1", part: 1, type: "ATTRIBUTES" },
            Stream.concat(profiles(1, 1000, "v2"), Stream.never)
          )
        )
        yield* eventually(
          "the COPY is running",
          Effect.map(sessions, (now) => now.some((line) => line.includes("COPY")))
        )
        yield* Fiber.interrupt(loading)
        // the connection is closed (its transaction rolled back), not given back to the pool mid-transaction
        yield* eventually(
          "no batch-export connection in a transaction",
          Effect.map(sessions, (now) => now.every((line) => !line.includes("transaction") && !line.includes("COPY")))
        )
        assert.strictEqual(yield* count("batch_profiles_staging", "p", "export_1").pipe(Effect.provide(context)), 3)
        assert.deepStrictEqual(
          (yield* attributesOf("p", "export_1", 1).pipe(Effect.provide(context))).map((a) => a.plan),
          ["v1", "v1", "v1"]
        )
      })
    )

    it.scoped(
      "a server that stops in the middle of a COPY fails the load with a typed SinkError (no crash), and nothing stays",
      () =>
        Effect.gen(function* () {
          const { client, cluster } = yield* database("copy_down")
          const context = yield* Layer.build(client)
          const sink = yield* Effect.provide(Sink.make, context)
          const sent = yield* Deferred.make<void>()
          const go = yield* Deferred.make<void>()
          // 1,000 rows, a pause while the server goes away, 1,000 more
          const records = profiles(1, 1000).pipe(
            Stream.concat(
              Stream.drain(Stream.fromEffect(Effect.zipRight(Deferred.succeed(sent, undefined), Deferred.await(go))))
            ),
            Stream.concat(profiles(1001, 2000))
          )
          const loading = yield* Effect.fork(
            Effect.flip(sink.loadPart({ project: "p", exportId: "export_1", part: 1, type: "ATTRIBUTES" }, records))
          )
          yield* Deferred.await(sent)
          yield* cluster.stop
          yield* Deferred.succeed(go, undefined)
          const failed = yield* Fiber.join(loading).pipe(
            Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => "timed out: a COPY whose server stopped" }),
            Effect.orDie
          )
          assert.strictEqual(failed._tag, "SinkError")
          if (failed._tag === "SinkError") assert.strictEqual(failed.operation, "loadPart")
          yield* cluster.start
          const fresh = yield* Layer.build(client)
          assert.strictEqual(yield* count("batch_profiles_staging", "p", "export_1").pipe(Effect.provide(fresh)), 0)
          assert.strictEqual(yield* count("batch_parts", "p", "export_1").pipe(Effect.provide(fresh)), 0)
        }),
      60_000
    )

    it.effect("a refused password fails the layer with a typed SinkError that does not show the password", () =>
      Effect.gen(function* () {
        const cluster = yield* Backend.Cluster
        const wrong = "Wr0ng-Passw0rd-77"
        const url = Redacted.make(`postgres://postgres:${wrong}@127.0.0.1:${cluster.port}/postgres`)
        const failed = yield* Effect.flip(Effect.provide(Sink.migrate, Database.layerPg({ url })))
        assert.strictEqual(failed._tag, "SinkError")
        assert.strictEqual(failed.operation, "connect")
        assert.include(failed.detail, "password authentication failed")
        assert.notInclude(failed.message, wrong)
        assert.notInclude(JSON.stringify(failed), wrong)
        assert.notInclude(String(failed), wrong)
        // the right password over TCP works
        const right = Redacted.make(`postgres://postgres:${cluster.password}@127.0.0.1:${cluster.port}/postgres`)
        const ok = yield* Effect.provide(
          Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1 AS one`),
          Database.layerPg({ url: right })
        )
        assert.strictEqual(ok.length, 1)
      })
    )

    it.effect(
      "a server that goes down: every operation fails with a typed SinkError, and works again once it is back",
      () =>
        Effect.gen(function* () {
          const cluster = yield* Backend.Cluster
          yield* cluster.psql("postgres", "CREATE DATABASE down_test")
          const client = Database.layerPg({
            host: cluster.socketDir,
            port: cluster.port,
            username: "postgres",
            database: "down_test",
            connectTimeout: "2 seconds"
          })
          yield* Effect.gen(function* () {
            const sink = yield* Sink.Sink
            yield* sink.recordRun({
              runId: "run-1",
              project: "p",
              definition: "all",
              type: "ATTRIBUTES",
              startedAt: new Date()
            })
            yield* Effect.acquireRelease(cluster.stop, () => cluster.start)
            const loadFailed = yield* Effect.flip(load("p", "export_1", 1, Stream.make(profile(1))))
            assert.strictEqual(loadFailed._tag, "SinkError")
            const runs = yield* Effect.flip(sink.runs())
            assert.strictEqual(runs._tag, "SinkError")
            assert.strictEqual(runs.operation, "runs")
            const publishFailed = yield* Effect.flip(publish("export_1", 1))
            assert.strictEqual(publishFailed._tag, "SinkError")
          }).pipe(Effect.scoped, Effect.provide(Layer.provideMerge(Sink.layer, client)))
          // back up: a new client works
          const runs = yield* Effect.provide(
            Effect.flatMap(Sink.Sink, (sink) => sink.runs()),
            Layer.provide(Sink.layer, client)
          )
          assert.deepStrictEqual(
            runs.map((run) => run.runId),
            ["run-1"]
          )
        }),
      120_000
    )
  })
})
