/**
 * The databases the sink suite runs against, behind one service so that the same tests run on both: each
 * test asks for a fresh, empty database and gets a layer of its client, and a layer of a second, independent
 * client on the same database (another connection, as a concurrent reader would have).
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Database from "../../src/Database.js"
import type { SinkError } from "../../src/SinkError.js"
import * as Postgres from "./postgres.js"

export interface Fresh {
  readonly client: Layer.Layer<SqlClient.SqlClient, SinkError>
  readonly second: Layer.Layer<SqlClient.SqlClient, SinkError>
}

export interface Service {
  readonly dialect: "sqlite" | "pg"
  readonly fresh: Effect.Effect<Fresh>
}

export class Backend extends Context.Tag("test/Backend")<Backend, Service>() {}

/** Every test's database is a new file in one temp dir, removed at the end. */
export const sqlite: Layer.Layer<Backend> = Layer.scoped(
  Backend,
  Effect.gen(function* () {
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "batch-export-sqlite-"))),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    )
    let n = 0
    return {
      dialect: "sqlite" as const,
      fresh: Effect.sync(() => {
        const filename = join(dir, `sink-${++n}.db`)
        return { client: Database.layerSqlite({ filename }), second: Database.layerSqlite({ filename }) }
      })
    }
  })
)

export class Cluster extends Context.Tag("test/Cluster")<Cluster, Postgres.Cluster>() {}

/** A cluster for the whole file; every test's database is a new database in it. */
export const postgres = (cluster: Postgres.Cluster): Layer.Layer<Backend> => {
  let n = 0
  const connect = (database: string) =>
    Database.layerPg({ host: cluster.socketDir, port: cluster.port, username: "postgres", database })
  return Layer.succeed(Backend, {
    dialect: "pg",
    fresh: Effect.gen(function* () {
      const database = `sink_${++n}`
      yield* cluster.psql("postgres", `CREATE DATABASE ${database}`)
      return { client: connect(database), second: connect(database) }
    })
  })
}

export const postgresCluster: Layer.Layer<Backend | Cluster> = Layer.unwrapScoped(
  Effect.map(Postgres.start, (cluster) => Layer.merge(postgres(cluster), Layer.succeed(Cluster, cluster)))
)
