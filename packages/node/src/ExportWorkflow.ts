/**
 * The common case in one call: create an export, wait for it, then download its files or read its records.
 *
 * @since 0.1.0
 */
import type { CreateExport, Records } from "@batch-export/core"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as ExportFiles from "./ExportFiles.js"
import * as ExportsClient from "./ExportsClient.js"

/**
 * Creates the export, waits until `SUCCESS`, and downloads every part into `directory`.
 *
 * @since 0.1.0
 * @category programs
 */
export const createAndDownload = (
  request: CreateExport.CreateExportRequestInput,
  directory: string,
  options?: ExportsClient.AwaitOptions & ExportFiles.DownloadAllOptions
): Effect.Effect<
  ExportFiles.Manifest,
  ExportsClient.ApiCallError | ExportsClient.AwaitError | ExportFiles.DownloadAllError,
  ExportsClient.ExportsClient | ExportFiles.ExportFiles
> =>
  Effect.gen(function* () {
    const client = yield* ExportsClient.ExportsClient
    const files = yield* ExportFiles.ExportFiles
    const id = yield* client.create(request)
    const exp = yield* client.awaitCompletion(id, options)
    return yield* files.downloadAll(exp.id, directory, options)
  }).pipe(Effect.withSpan("ExportWorkflow.createAndDownload"))

/**
 * Creates the export, waits until `SUCCESS`, and streams its records in part order, decoded with
 * `Records.ProfileRecord` or `options.schema`.
 *
 * @since 0.1.0
 * @category programs
 */
export const createAndStreamRecords: {
  (
    request: CreateExport.CreateExportRequestInput,
    options?: ExportsClient.AwaitOptions & ExportsClient.RecordsOptions
  ): Stream.Stream<
    Records.ProfileRecord,
    ExportsClient.AwaitError | ExportsClient.RecordsError,
    ExportsClient.ExportsClient
  >
  <A, I>(
    request: CreateExport.CreateExportRequestInput,
    options: ExportsClient.AwaitOptions & ExportsClient.RecordsWithSchema<A, I>
  ): Stream.Stream<A, ExportsClient.AwaitError | ExportsClient.RecordsError, ExportsClient.ExportsClient>
} = <A, I>(
  request: CreateExport.CreateExportRequestInput,
  options?: ExportsClient.AwaitOptions &
    ExportsClient.RecordsOptions & { readonly schema?: ExportsClient.RecordsWithSchema<A, I>["schema"] }
): Stream.Stream<
  A | Records.ProfileRecord,
  ExportsClient.AwaitError | ExportsClient.RecordsError,
  ExportsClient.ExportsClient
> =>
  Stream.unwrap(
    // an effect-level span: Stream.withSpan would be provided to every record
    Effect.gen(function* (): Effect.fn.Return<
      Stream.Stream<A | Records.ProfileRecord, ExportsClient.RecordsError>,
      ExportsClient.AwaitError | ExportsClient.ApiCallError,
      ExportsClient.ExportsClient
    > {
      const client = yield* ExportsClient.ExportsClient
      const id = yield* client.create(request)
      const exp = yield* client.awaitCompletion(id, options)
      const schema = options?.schema
      return schema === undefined ? client.records(exp.id, options) : client.records(exp.id, { ...options, schema })
    }).pipe(Effect.withSpan("ExportWorkflow.createAndStreamRecords"))
  )
