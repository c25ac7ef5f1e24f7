import { Emulator } from "@batch-export/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Database from "../src/Database.js"
import * as ExportsClientLayer from "@batch-export/node"
import * as ExportSync from "../src/ExportSync.js"
import * as Sink from "../src/Sink.js"
import * as Sync from "../src/Sync.js"
import * as SyncCluster from "../src/SyncCluster.js"
import * as Postgres from "./support/postgres.js"

const fast = { entityMessagePollInterval: "200 millis", refreshAssignmentsInterval: "500 millis" } as const

describe.skipIf(!Postgres.available)("SyncCluster", () => {
  it.live(
    "two runners in one process split the executions a client hands them",
    () =>
      Effect.gen(function* () {
        const pg = yield* Postgres.start
        const url = Redacted.make(`postgres://postgres:${pg.password}@127.0.0.1:${pg.port}/postgres`)
        const emulator = yield* Emulator.make({ exports: [], pollsPerStatus: 1, partsPerExport: 2, recordsPerPart: 20 })
        const ran = new Map<string, number>()
        const runner = (name: string) =>
          ExportSync.layer({ pollInterval: "1 second" }).pipe(
            Layer.provideMerge(
              Layer.mergeAll(
                SyncCluster.layerRunner({ shardingConfig: fast }),
                Layer.effect(
                  Sink.Sink,
                  Effect.map(Sink.make, (sink) => ({
                    ...sink,
                    loadPart: (key, records) =>
                      Effect.tap(sink.loadPart(key, records), () =>
                        Effect.sync(() => ran.set(name, (ran.get(name) ?? 0) + 1))
                      )
                  }))
                ),
                ExportSync.layerClient.pipe(
                  Layer.provide(
                    ExportsClientLayer.ExportsClient.layer({
                      baseUrl: emulator.apiUrl,
                      restApiKey: emulator.restApiKey,
                      projectKey: emulator.projectKey
                    })
                  )
                )
              )
            ),
            Layer.provide(Database.layerPg({ url }))
          )
        yield* Layer.build(runner("a"))
        yield* Layer.build(runner("b"))
        const client = yield* Layer.build(
          SyncCluster.layerClient({ shardingConfig: fast }).pipe(Layer.provide(Database.layerPg({ url })))
        )
        const planned = yield* Effect.forEach(
          Array.from({ length: 8 }, (_, i) => i),
          (i) => {
            const payload = {
              project: "p",
              definition: "d",
              slot: `slot-${i}`,
              request: { export_type: "ATTRIBUTES" as const, attributes: ["$email_address"] as const }
            } satisfies ExportSync.Payload
            return Effect.map(ExportSync.ExportSync.executionId(payload), (executionId): Sync.Planned => ({
              executionId,
              payload
            }))
          }
        )
        const outcomes = yield* Effect.forEach(planned, Sync.execute, { concurrency: "unbounded" }).pipe(
          Effect.provide(client)
        )
        for (const outcome of outcomes) assert.isTrue(Either.isRight(outcome.result), JSON.stringify(outcome.result))
        console.log(ran)
        assert.isTrue((ran.get("a") ?? 0) > 0 && (ran.get("b") ?? 0) > 0)
      }).pipe(Effect.scoped),
    120_000
  )
})
