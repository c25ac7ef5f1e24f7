import { Emulator } from "@batch-export/emulator"
import { ExportsClient } from "@batch-export/node"
import * as Runner from "@effect/cluster/Runner"
import { RunnerAddress } from "@effect/cluster/RunnerAddress"
import * as RunnerStorage from "@effect/cluster/RunnerStorage"
import * as ShardingConfig from "@effect/cluster/ShardingConfig"
import * as SqlRunnerStorage from "@effect/cluster/SqlRunnerStorage"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it, layer } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Net from "node:net"
import * as Database from "../src/Database.js"
import * as ExportSync from "../src/ExportSync.js"
import * as Sink from "../src/Sink.js"
import * as Sync from "../src/Sync.js"
import type { SinkError } from "../src/SinkError.js"
import * as SyncCluster from "../src/SyncCluster.js"
import * as Backend from "./support/backend.js"
import * as Postgres from "./support/postgres.js"

/** Nodes of a test look at the database every 200 ms and at the runners every 500 ms. */
const fast = { entityMessagePollInterval: "200 millis", refreshAssignmentsInterval: "500 millis" } as const

const payloadOf = (slot: string): ExportSync.Payload => ({
  project: "p",
  definition: "d",
  slot,
  request: { export_type: "ATTRIBUTES", attributes: ["$email_address"] }
})

const plannedOf = (slot: string) =>
  Effect.map(ExportSync.ExportSync.executionId(payloadOf(slot)), (executionId): Sync.Planned => ({
    executionId,
    payload: payloadOf(slot)
  }))

/**
 * A runner of the sync's workflow over `database`, its Batch client on `emulator`, each part's load wrapped by
 * `aroundLoad`.
 */
const runnerOf = (
  database: Layer.Layer<SqlClient.SqlClient, SinkError>,
  emulator: Emulator.Service,
  options: ExportSync.Options,
  aroundLoad: <A, E, R>(load: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
) =>
  ExportSync.layer({ pollInterval: "1 second", ...options }).pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        SyncCluster.layerRunner({ shardingConfig: fast }),
        Layer.effect(
          Sink.Sink,
          Effect.map(Sink.make, (sink) => ({
            ...sink,
            loadPart: (key, records) => aroundLoad(sink.loadPart(key, records))
          }))
        ),
        ExportSync.layerClient.pipe(
          Layer.provide(
            ExportsClient.layer({
              baseUrl: emulator.apiUrl,
              restApiKey: emulator.restApiKey,
              projectKey: emulator.projectKey
            })
          )
        )
      )
    ),
    Layer.provide(database)
  )

/** A new database of the file's cluster, reached over the socket as the superuser. */
const freshDatabase = Effect.gen(function* () {
  const cluster = yield* Backend.Cluster
  const name = `c${Math.random().toString(36).slice(2, 10)}`
  yield* cluster.psql("postgres", `CREATE DATABASE ${name}`)
  return (options: { readonly username?: string } = {}) =>
    Database.layerPg({
      host: cluster.socketDir,
      port: cluster.port,
      username: options.username ?? "postgres",
      database: name,
      connectTimeout: "2 seconds"
    })
})

describe("SyncCluster addresses", () => {
  it.effect("host:port (IPv6 in brackets) parses back from its formatting, and anything else is refused", () =>
    Effect.sync(() => {
      const host = FastCheck.oneof(
        FastCheck.ipV4(),
        FastCheck.ipV6(),
        FastCheck.domain().filter((d) => !d.includes("_"))
      )
      FastCheck.assert(
        FastCheck.property(host, FastCheck.integer({ min: 0, max: 65535 }), (host, port) => {
          const parsed = SyncCluster.parseAddress(SyncCluster.formatAddress({ host, port }))
          assert.deepStrictEqual(parsed, Option.some({ host, port }))
        })
      )
      for (const bad of ["", "host", ":80", "host:", "host:65536", "host:-1", "a b:80", "::1:80", "http://h:80"]) {
        assert.isTrue(Option.isNone(SyncCluster.parseAddress(bad)), bad)
      }
    })
  )
})

describe.skipIf(!Postgres.available)("SyncCluster on Postgres", () => {
  layer(Backend.postgresCluster, { excludeTestServices: true, timeout: "120 seconds" })((it) => {
    it.effect(
      "two runners split the executions a client hands them, and each ends where it ran",
      () =>
        Effect.gen(function* () {
          const database = yield* freshDatabase
          const emulator = yield* Emulator.make({
            exports: [],
            pollsPerStatus: 1,
            partsPerExport: 2,
            recordsPerPart: 20
          })
          const loadedBy = new Map<string, number>()
          const events: Array<string> = []
          const runner = (name: string) =>
            runnerOf(
              database(),
              emulator,
              {
                onExecution: (event) =>
                  Effect.sync(() => {
                    events.push(`${name} ${event._tag} ${event.payload.slot}`)
                  })
              },
              (load) => Effect.tap(load, () => Effect.sync(() => loadedBy.set(name, (loadedBy.get(name) ?? 0) + 1)))
            )
          yield* Layer.build(runner("a"))
          yield* Layer.build(runner("b"))
          const client = yield* Layer.build(
            SyncCluster.layerClient({ shardingConfig: fast }).pipe(Layer.provide(database()))
          )
          const planned = yield* Effect.forEach(
            Array.from({ length: 8 }, (_, i) => `slot-${i}`),
            plannedOf
          )
          const outcomes = yield* Effect.forEach(planned, Sync.execute, { concurrency: "unbounded" }).pipe(
            Effect.provide(client)
          )
          for (const outcome of outcomes) assert.isTrue(Either.isRight(outcome.result), JSON.stringify(outcome.result))
          // every part loaded once, by one runner or the other, and both had some
          assert.strictEqual((loadedBy.get("a") ?? 0) + (loadedBy.get("b") ?? 0), 16)
          assert.isAbove(loadedBy.get("a") ?? 0, 0)
          assert.isAbove(loadedBy.get("b") ?? 0, 0)
          // each execution ended once, on a runner where it ran
          for (const { payload } of planned) {
            const ended = events.filter((e) => e.endsWith(`Ended ${payload.slot}`))
            assert.strictEqual(ended.length, 1, payload.slot)
            const where = ended[0]!.split(" ")[0]
            assert.include(events, `${where} Running ${payload.slot}`)
          }
          const runners = yield* Effect.provide(SyncCluster.liveRunners, database())
          assert.strictEqual(runners.length, 2)
        }).pipe(Effect.scoped),
      120_000
    )

    it.effect("a node started with another shard count than the cluster recorded fails with ClusterError", () =>
      Effect.gen(function* () {
        const database = yield* freshDatabase
        yield* Layer.build(
          SyncCluster.layerClient({ shards: 16, shardingConfig: fast }).pipe(Layer.provide(database()))
        )
        // without --shards a node takes the recorded count
        yield* Layer.build(SyncCluster.layerClient({ shardingConfig: fast }).pipe(Layer.provide(database())))
        const failed = yield* Effect.flip(
          Layer.build(SyncCluster.layerRunner({ shards: 300, shardingConfig: fast }).pipe(Layer.provide(database())))
        )
        assert.strictEqual(failed._tag, "ClusterError")
        assert.include(failed.message, "16 shards per group")
        const invalid = yield* Effect.flip(
          Layer.build(SyncCluster.layerClient({ shards: 0 }).pipe(Layer.provide(database())))
        )
        assert.strictEqual(invalid._tag, "ClusterError")
      }).pipe(Effect.scoped)
    )

    it.effect("a runner whose listen address is taken fails with ClusterError (listen)", () =>
      Effect.gen(function* () {
        const database = yield* freshDatabase
        const taken = yield* Effect.acquireRelease(
          Effect.async<Net.Server>((resume) => {
            const server = Net.createServer()
            server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
          }),
          (server) => Effect.sync(() => server.close())
        )
        const address = taken.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        const failed = yield* Effect.flip(
          Layer.build(
            SyncCluster.layerRunner({ listen: { host: "127.0.0.1", port }, shardingConfig: fast }).pipe(
              Layer.provide(database())
            )
          )
        )
        assert.strictEqual(failed._tag, "ClusterError")
        assert.include(failed.message, "cannot listen")
      }).pipe(Effect.scoped)
    )

    it.effect("a runner whose user may not use the cluster's tables fails with a SinkError, not a defect", () =>
      Effect.gen(function* () {
        const cluster = yield* Backend.Cluster
        const database = yield* freshDatabase
        yield* cluster.psql(
          "postgres",
          "DO $$ BEGIN CREATE ROLE reader LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
        // may not even create the shard count's table
        const refused = yield* Effect.flip(
          Layer.build(
            SyncCluster.layerRunner({ shardingConfig: fast }).pipe(Layer.provide(database({ username: "reader" })))
          )
        )
        assert.strictEqual(refused._tag, "SinkError")
        // the cluster's tables made by another role, the shard count readable: the cluster's own storage dies
        // when it sets up (SqlMessageStorage is `orDie`), typed here
        yield* Layer.build(SyncCluster.layerClient({ shardingConfig: fast }).pipe(Layer.provide(database())))
        const name = yield* Effect.provide(
          Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ name: string }>`SELECT current_database() AS name`),
          database()
        )
        yield* cluster.psql(
          name[0]!.name,
          "GRANT CREATE ON SCHEMA public TO reader; GRANT SELECT, INSERT ON batch_cluster TO reader"
        )
        const died = yield* Effect.exit(
          Layer.build(
            SyncCluster.layerRunner({ shardingConfig: fast }).pipe(Layer.provide(database({ username: "reader" })))
          )
        )
        assert.strictEqual(died._tag, "Failure")
        if (died._tag === "Failure") {
          const failure = Option.getOrUndefined(Cause.failureOption(died.cause))
          assert.strictEqual(failure?._tag, "SinkError", Cause.pretty(died.cause))
          assert.strictEqual(failure?._tag === "SinkError" ? failure.operation : "", "engine")
        }
      }).pipe(Effect.scoped)
    )

    it.effect(
      "a runner registered with a fresh heartbeat but nothing at its address is not up; a client then gives up typed",
      () =>
        Effect.gen(function* () {
          const database = yield* freshDatabase
          yield* Layer.build(SyncCluster.layerClient({ shardingConfig: fast }).pipe(Layer.provide(database())))
          // a runner killed a moment ago: its row and heartbeat are fresh, its port is closed
          const closed = yield* Effect.async<number>((resume) => {
            const server = Net.createServer()
            server.listen(0, "127.0.0.1", () => {
              const address = server.address()
              server.close(() =>
                resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
              )
            })
          })
          yield* Effect.flatMap(RunnerStorage.RunnerStorage, (storage) =>
            storage.register(
              new Runner.Runner({
                address: RunnerAddress.make({ host: "127.0.0.1", port: closed }),
                groups: ["default"],
                weight: 1
              }),
              true
            )
          ).pipe(
            Effect.provide(
              SqlRunnerStorage.layer.pipe(Layer.provide(ShardingConfig.layer()), Layer.provide(database()))
            )
          )
          assert.deepStrictEqual(yield* Effect.provide(SyncCluster.liveRunners, database()), [])
          const failed = yield* Effect.flip(
            SyncCluster.requireRunners({ grace: "300 millis", every: "50 millis" }).pipe(Effect.provide(database()))
          )
          assert.strictEqual(failed._tag, "ClusterError")
          assert.strictEqual(failed._tag === "ClusterError" ? failed.reason : "", "runners")
          // with a runner up, the client waits on
          yield* Layer.build(SyncCluster.layerRunner({ shardingConfig: fast }).pipe(Layer.provide(database())))
          assert.strictEqual((yield* Effect.provide(SyncCluster.liveRunners, database())).length, 1)
          const waited = yield* SyncCluster.requireRunners({ grace: "300 millis", every: "50 millis" }).pipe(
            Effect.provide(database()),
            Effect.timeoutOption("1 second")
          )
          assert.isTrue(Option.isNone(waited))
        }).pipe(Effect.scoped)
    )

    it.effect(
      "a runner loads at most concurrentLoads parts at once, across its executions",
      () =>
        Effect.gen(function* () {
          const database = yield* freshDatabase
          const emulator = yield* Emulator.make({
            exports: [],
            pollsPerStatus: 1,
            partsPerExport: 2,
            recordsPerPart: 2000
          })
          let inFlight = 0
          let most = 0
          const runner = runnerOf(database(), emulator, { concurrentLoads: 2 }, (load) =>
            Effect.acquireUseRelease(
              Effect.sync(() => {
                inFlight += 1
                most = Math.max(most, inFlight)
              }),
              // long enough for every execution to reach its load
              () => Effect.zipRight(Effect.sleep("300 millis"), load),
              () => Effect.sync(() => (inFlight -= 1))
            )
          )
          const context = yield* Layer.build(runner)
          const planned = yield* Effect.forEach(
            Array.from({ length: 6 }, (_, i) => `load-${i}`),
            plannedOf
          )
          const outcomes = yield* Effect.forEach(planned, Sync.execute, { concurrency: "unbounded" }).pipe(
            Effect.provide(context)
          )
          for (const outcome of outcomes) assert.isTrue(Either.isRight(outcome.result), JSON.stringify(outcome.result))
          assert.strictEqual(most, 2)
        }).pipe(Effect.scoped),
      120_000
    )

    it.effect("nodes started at the same moment on a fresh database all join (their set-up is serialized)", () =>
      Effect.gen(function* () {
        for (let round = 0; round < 3; round++) {
          const database = yield* freshDatabase
          const exits = yield* Effect.forEach(
            [0, 1, 2],
            (i) =>
              Effect.exit(
                Layer.build(
                  (i === 0
                    ? SyncCluster.layerClient({ shardingConfig: fast })
                    : SyncCluster.layerRunner({ shardingConfig: fast })
                  ).pipe(Layer.provide(database()))
                )
              ),
            { concurrency: "unbounded" }
          )
          for (const exit of exits)
            assert.strictEqual(exit._tag, "Success", exit._tag === "Failure" ? Cause.pretty(exit.cause) : "")
        }
      }).pipe(Effect.scoped)
    )
  })
})
