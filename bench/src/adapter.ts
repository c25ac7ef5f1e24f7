/**
 * Every call into the library under test, in one place: when the API is renamed, only this file changes.
 *
 * @since 0.1.0
 */
import { BatchExport, ExportFiles, ExportsClient } from "@batch-export/node"
import { Database, Sink, type SinkError } from "@batch-export/sync"
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Stream from "effect/Stream"
import type { Api, SinkDatabase } from "./spec.js"

/**
 * The library, configured and built (layers included) before any timing starts.
 *
 * @since 0.1.0
 * @category models
 */
export interface Library {
  readonly downloadToFile: (fileId: string, path: string) => Promise<number>
  /** records of one file, `ProfileRecord`-validated, counted with `Stream.runCount` */
  readonly countRecords: (fileId: string) => Promise<number>
  /** `downloadAll`; returns the bytes written */
  readonly downloadAll: (exportId: string, directory: string, concurrency: number) => Promise<number>
  /** `downloadLink`, `calls` times in a row */
  readonly downloadLinks: (fileId: string, calls: number) => Promise<number>
  readonly dispose: () => Promise<void>
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = async (api: Api): Promise<Library> => {
  const runtime = ManagedRuntime.make(
    BatchExport.layer({ restApiKey: api.restApiKey, projectKey: api.projectKey, baseUrl: api.url })
  )
  await runtime.runPromise(Effect.all([ExportsClient.ExportsClient, ExportFiles.ExportFiles]))
  const client = <A, E>(f: (client: ExportsClient.Service) => Effect.Effect<A, E>): Promise<A> =>
    runtime.runPromise(Effect.flatMap(ExportsClient.ExportsClient, f))
  const files = <A, E>(f: (files: ExportFiles.Service) => Effect.Effect<A, E>): Promise<A> =>
    runtime.runPromise(Effect.flatMap(ExportFiles.ExportFiles, f))
  return {
    downloadToFile: (fileId, path) =>
      files((service) => Effect.map(service.downloadToFile(fileId, path), (file) => file.bytes)),
    countRecords: (fileId) => client((service) => Stream.runCount(service.fileRecords(fileId))),
    downloadAll: (exportId, directory, concurrency) =>
      files((service) =>
        Effect.map(service.downloadAll(exportId, directory, { concurrency }), (manifest) =>
          manifest.files.reduce((sum, file) => sum + file.bytes, 0)
        )
      ),
    downloadLinks: (fileId, calls) =>
      client((service) =>
        Effect.as(
          Effect.forEach(Array.from({ length: calls }), () => service.downloadLink(fileId), { discard: true }),
          calls
        )
      ),
    dispose: () => runtime.dispose()
  }
}

/**
 * The idle import measured by the memory benchmark.
 *
 * @since 0.1.0
 * @category imports
 */
export const importLibrary = async (): Promise<void> => {
  await import("@batch-export/node")
}

/**
 * The database layer of a benchmark database.
 *
 * @since 0.1.0
 * @category layers
 */
export const sinkDatabase = (database: SinkDatabase): Layer.Layer<SqlClient.SqlClient, SinkError.SinkError> =>
  database.kind === "sqlite"
    ? Database.layerSqlite({ filename: database.filename })
    : Database.layerPg({
        host: database.socketDir,
        port: database.port,
        database: database.database,
        username: "postgres"
      }).pipe(
        // without PgCopy, the sink falls back to multi-row INSERTs
        Layer.map((context) => (database.inserts ? Context.omit(Database.PgCopy)(context) : context))
      )

/**
 * `Sink.loadPart` of one file's records (`fileRecords`, as the sync workflow streams a part) into a database,
 * with the client and the sink (migrations included) built before any timing starts.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeSink = async (
  api: Api,
  database: SinkDatabase
): Promise<{ readonly load: (fileId: string) => Promise<number>; readonly dispose: () => Promise<void> }> => {
  const db = sinkDatabase(database)
  const runtime = ManagedRuntime.make(
    Layer.merge(
      BatchExport.layer({ restApiKey: api.restApiKey, projectKey: api.projectKey, baseUrl: api.url }),
      Layer.provide(Sink.layer, db)
    )
  )
  await runtime.runPromise(Effect.all([ExportsClient.ExportsClient, Sink.Sink]))
  return {
    load: (fileId) =>
      runtime.runPromise(
        Effect.gen(function* () {
          const client = yield* ExportsClient.ExportsClient
          const sink = yield* Sink.Sink
          const loaded = yield* sink.loadPart(
            { project: "bench", exportId: "bench", part: 1, type: "ATTRIBUTES" },
            client.fileRecords(fileId)
          )
          return loaded.records
        })
      ),
    dispose: () => runtime.dispose()
  }
}
