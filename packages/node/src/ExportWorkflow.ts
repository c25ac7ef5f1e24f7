/**
 * The common case in one call: create an export, wait for it, then download its files or read its records.
 *
 * @since 0.1.0
 */
import type { CreateExport, Records } from "@batch-export/core"
import { Effect, Stream } from "effect"
import * as ExportsClient from "./ExportsClient.js"

/**
 * Creates the export, waits until `SUCCESS`, and downloads every part into `directory`.
 *
 * @since 0.1.0
 * @category workflows
 */
export const createAndDownload = (
  request: CreateExport.CreateExportRequestInput,
  directory: string,
  options?: ExportsClient.AwaitOptions & ExportsClient.DownloadAllOptions
): Effect.Effect<
  ExportsClient.Manifest,
  ExportsClient.AwaitError | ExportsClient.DownloadAllError,
  ExportsClient.ExportsClient
> =>
  Effect.flatMap(ExportsClient.ExportsClient, (client) =>
    client.create(request).pipe(
      Effect.flatMap((id) => client.awaitCompletion(id, options)),
      Effect.flatMap((exp) => client.downloadAll(exp.id, directory, options))
    )
  ).pipe(Effect.withSpan("ExportWorkflow.createAndDownload"))

/**
 * Creates the export, waits until `SUCCESS`, and streams its records in part order.
 *
 * @since 0.1.0
 * @category workflows
 */
export const createAndStreamRecords: {
  (
    request: CreateExport.CreateExportRequestInput,
    options?: ExportsClient.AwaitOptions
  ): Stream.Stream<
    Records.ProfileRecord,
    ExportsClient.AwaitError | ExportsClient.RecordsError,
    ExportsClient.ExportsClient
  >
  <A>(
    request: CreateExport.CreateExportRequestInput,
    options: ExportsClient.AwaitOptions & ExportsClient.RecordsOptions<A>
  ): Stream.Stream<A, ExportsClient.AwaitError | ExportsClient.RecordsError, ExportsClient.ExportsClient>
} = <A>(
  request: CreateExport.CreateExportRequestInput,
  options?: ExportsClient.AwaitOptions & ExportsClient.RecordsOptions<A>
): Stream.Stream<A, ExportsClient.AwaitError | ExportsClient.RecordsError, ExportsClient.ExportsClient> =>
  Stream.unwrap(
    Effect.flatMap(ExportsClient.ExportsClient, (client) =>
      client.create(request).pipe(
        Effect.flatMap((id) => client.awaitCompletion(id, options)),
        Effect.map((exp) => client.records(exp.id, (options ?? {}) as ExportsClient.RecordsOptions<A>))
      )
    )
  )
