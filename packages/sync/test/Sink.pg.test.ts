/**
 * The sink on Postgres 15: the shared suite on a throw-away cluster (see support/postgres.ts), then what only
 * a server shows: a concurrent reader during a publish, a refused password, a server that goes down.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, layer } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Database from "../src/Database.js"
import * as Sink from "../src/Sink.js"
import {
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
