/**
 * The sync workflow wired as a user wires it: the durable engine on its own SQLite file, the sink on another,
 * the Batch client pointed at an emulator. Shared by the in-process tests and the child process of the kill
 * test.
 */
import type { ClientError } from "@batch-export/core"
import type { Emulator } from "@batch-export/emulator"
import { ExportsClient } from "@batch-export/node"
import type * as SqlClient from "@effect/sql/SqlClient"
import type { WorkflowEngine } from "@effect/workflow/WorkflowEngine"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { join } from "node:path"
import * as Database from "../../src/Database.js"
import * as ExportSync from "../../src/ExportSync.js"
import * as Sink from "../../src/Sink.js"
import type { SinkError } from "../../src/SinkError.js"

export interface Where {
  /** the directory holding `engine.db` and `sink.db` */
  readonly dir: string
  readonly apiUrl: string
  readonly restApiKey: string
  readonly projectKey: string
}

export const where = (dir: string, emulator: Emulator.Service): Where => ({
  dir,
  apiUrl: emulator.apiUrl,
  restApiKey: emulator.restApiKey,
  projectKey: emulator.projectKey
})

export interface Setup {
  readonly sync?: ExportSync.Options | undefined
  /** wraps the sink, e.g. to print or pause at its calls */
  readonly decorate?: ((sink: Sink.Service) => Sink.Service) | undefined
  /** the engine; default: the durable one, on `engine.db` (or on `database` when given) */
  readonly engine?: Layer.Layer<WorkflowEngine> | undefined
  /** one database for the sink and the engine (Postgres); default: two SQLite files in the dir */
  readonly database?: Layer.Layer<SqlClient.SqlClient, SinkError> | undefined
}

/** Stored messages and clocks are looked at every 100 ms instead of 10 s, so that tests do not wait on the runner. */
const shardingConfig = { entityMessagePollInterval: "100 millis" } as const

/**
 * The workflow registered on the engine, with the sink (and its `SqlClient`, for the tests' own queries) in
 * the output.
 */
export const layer = (
  at: Where,
  setup: Setup = {}
): Layer.Layer<
  WorkflowEngine | Sink.Sink | SqlClient.SqlClient,
  SinkError | ConfigError.ConfigError | ClientError.InvalidArgument
> => {
  const database = setup.database ?? Database.layerSqlite({ filename: join(at.dir, "sink.db") })
  const sink = Layer.provideMerge(
    Layer.effect(Sink.Sink, Effect.map(Sink.make, setup.decorate ?? ((sink) => sink))),
    database
  )
  const engine =
    setup.engine ??
    (setup.database === undefined
      ? ExportSync.layerEngineSqlite({ filename: join(at.dir, "engine.db"), shardingConfig })
      : ExportSync.layerEngine({ shardingConfig }).pipe(Layer.provide(setup.database)))
  const clients = ExportSync.layerClient.pipe(
    Layer.provide(ExportsClient.layer({ baseUrl: at.apiUrl, restApiKey: at.restApiKey, projectKey: at.projectKey }))
  )
  return ExportSync.layer(setup.sync).pipe(Layer.provideMerge(Layer.mergeAll(engine, sink, clients)))
}
