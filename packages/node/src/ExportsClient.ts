/**
 * The Batch export client: create, view, list and await exports; get signed links; download files as
 * streams, as files, or as typed records.
 *
 * @since 0.1.0
 */
import {
  type ApiError,
  ClientError,
  CreateExport,
  DownloadLink,
  Export,
  ExportError,
  ExportStatus,
  Ids,
  Records
} from "@batch-export/core"
import { FileSystem, HttpClient, HttpClientRequest, Path } from "@effect/platform"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodePath from "@effect/platform-node/NodePath"
import type { ConfigError } from "effect"
import { Context, DateTime, Duration, Effect, Exit, Layer, Option, Random, Ref, Schedule, Schema, Stream } from "effect"
import * as BatchConfig from "./BatchConfig.js"
import * as Api from "./internal/api.js"
import * as Storage from "./internal/storage.js"

/**
 * What any call to Batch's API can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type CallError = ApiError.ApiError | ClientError.TransportError | ClientError.RequestTimeout

/**
 * Everything `create`, `view` and `list` can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type ApiCallError = ClientError.InvalidArgument | CallError | ClientError.ResponseDecodeError

/**
 * Everything `downloadLink` can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type DownloadLinkError = ClientError.InvalidArgument | CallError | ClientError.InvalidLocation

/**
 * Everything `download` can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type DownloadError = DownloadLinkError | ClientError.StorageError | ExportError.ContentChanged

/**
 * Everything `downloadToFile` can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type DownloadToFileError = DownloadError | ClientError.FileWriteError | ExportError.SizeMismatch

/**
 * Everything `awaitCompletion` can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type AwaitError = ApiCallError | ExportError.ExportFailed | ExportError.ExportTimeout

/**
 * Everything `downloadAll` can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type DownloadAllError = ApiCallError | ExportError.ExportNotReady | DownloadToFileError

/**
 * Everything `records` can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type RecordsError = ApiCallError | ExportError.ExportNotReady | DownloadError | Records.RecordDecodeError

/**
 * Bytes received so far for one file, and its total when known.
 *
 * @since 0.1.0
 * @category models
 */
export interface Progress {
  readonly fileId: Ids.FileId
  readonly bytes: number
  readonly total: Option.Option<number>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface DownloadToFileOptions {
  /** Called after each chunk is written. */
  readonly onProgress?: ((progress: Progress) => Effect.Effect<void>) | undefined
  /** The size Batch announced (`files[].size`): a different byte count fails with `SizeMismatch`. */
  readonly expectedSize?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface DownloadedFile {
  readonly fileId: Ids.FileId
  readonly path: string
  readonly bytes: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface AwaitOptions {
  /** When to poll `/exports/view` again. Default: every 5 s, growing by 1.5× up to 1 minute. */
  readonly schedule?: Schedule.Schedule<unknown, Export.Export> | undefined
  /** Shorthand for a fixed schedule: poll every `pollInterval`. */
  readonly pollInterval?: Duration.DurationInput | undefined
  /** Give up after this long. Default: 2 hours. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Called with each export seen while waiting. */
  readonly onPoll?: ((exp: Export.Export) => Effect.Effect<void>) | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface DownloadAllOptions {
  /** Parts downloaded at once (default 2). */
  readonly concurrency?: number | undefined
  readonly onProgress?: ((progress: Progress & { readonly part: number }) => Effect.Effect<void>) | undefined
}

/**
 * One downloaded part, as listed in the manifest of `downloadAll`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ManifestEntry {
  readonly part: number
  readonly fileId: Ids.FileId
  readonly path: string
  readonly bytes: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Manifest {
  readonly exportId: Ids.ExportId
  readonly files: ReadonlyArray<ManifestEntry>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RecordsOptions<A = Records.ProfileRecord> {
  /** The record schema (default `Records.ProfileRecord`). */
  readonly schema?: Schema.Schema<A, any, never> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** `POST /profiles/export`: validates the request, then creates the export and returns its id. */
  readonly create: (request: CreateExport.CreateExportRequestInput) => Effect.Effect<Ids.ExportId, ApiCallError>
  /** `GET /exports/view`. */
  readonly view: (exportId: string) => Effect.Effect<Export.Export, ApiCallError>
  /** `GET /exports/list`: one page. */
  readonly list: (options?: {
    readonly limit?: number
    readonly from?: string
  }) => Effect.Effect<Export.ExportPage, ApiCallError>
  /** Every export, following `next_from` cursors lazily, one page at a time. */
  readonly listAll: (options?: { readonly pageSize?: number }) => Stream.Stream<Export.Export, ApiCallError>
  /** Polls `view` until `SUCCESS` (returned) or `ERROR` (`ExportFailed`), within a deadline (`ExportTimeout`). */
  readonly awaitCompletion: (exportId: string, options?: AwaitOptions) => Effect.Effect<Export.Export, AwaitError>
  /**
   * Asks `/exports/download` for a signed link to a file (`file_…`). The redirect is read, never followed;
   * 429 and 503 are retried per the configured policy.
   */
  readonly downloadLink: (fileId: string) => Effect.Effect<DownloadLink.DownloadLink, DownloadLinkError>
  /**
   * The file's bytes. The storage request carries no Batch credential; its connection belongs to the
   * stream and is closed when the stream ends, fails or is interrupted.
   */
  readonly download: (fileId: string) => Stream.Stream<Uint8Array, DownloadError>
  /**
   * Downloads a file to `path` atomically: bytes go to a temporary file beside `path`, renamed on success;
   * on failure or interruption nothing is left at `path` and the temporary file is removed.
   */
  readonly downloadToFile: (
    fileId: string,
    path: string,
    options?: DownloadToFileOptions
  ) => Effect.Effect<DownloadedFile, DownloadToFileError>
  /**
   * Downloads every part of a `SUCCESS` export into `directory` as `<export id>-part-<NNN>.json` (names
   * sort in part order), each atomically and checked against its announced size.
   */
  readonly downloadAll: (
    exportId: string,
    directory: string,
    options?: DownloadAllOptions
  ) => Effect.Effect<Manifest, DownloadAllError>
  /**
   * The records of an export (every part, in part order) or of one file, decoded with the schema, in
   * constant memory; one connection at a time, owned by the stream.
   */
  readonly records: {
    (id: string): Stream.Stream<Records.ProfileRecord, RecordsError>
    <A>(id: string, options: RecordsOptions<A>): Stream.Stream<A, RecordsError>
  }
}

/**
 * @since 0.1.0
 * @category tags
 */
export class ExportsClient extends Context.Tag("@batch-export/node/ExportsClient")<ExportsClient, Service>() {}

const DOWNLOAD = "GET /exports/download"
const VIEW = "GET /exports/view"
const LIST = "GET /exports/list"
const CREATE = "POST /profiles/export"
const STORAGE = "GET storage"

const isRedirect = (status: number) =>
  status === 301 || status === 302 || status === 303 || status === 307 || status === 308

/**
 * The default polling schedule for `awaitCompletion`: Batch rate-limits its API, so every 5 s at first,
 * then 1.5× longer each time, never more than a minute apart.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultPollSchedule: Schedule.Schedule<Duration.Duration, unknown> = Schedule.exponential(
  "5 seconds",
  1.5
).pipe(Schedule.modifyDelay((_, delay) => Duration.min(delay, Duration.minutes(1))))

/**
 * Builds the client from a `BatchConfig`, an `HttpClient`, a `FileSystem` and a `Path`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<
  Service,
  never,
  BatchConfig.BatchConfig | HttpClient.HttpClient | FileSystem.FileSystem | Path.Path
> = Effect.gen(function* () {
  const config = yield* BatchConfig.BatchConfig
  const httpClient = yield* HttpClient.HttpClient
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const api = Api.make(config, httpClient)

  const create = (request: CreateExport.CreateExportRequestInput) =>
    Effect.flatMap(Api.argument("request", CreateExport.CreateExportRequest, request), (valid) =>
      api.json(
        CREATE,
        HttpClientRequest.post("/profiles/export").pipe(
          HttpClientRequest.bodyUnsafeJson(Schema.encodeSync(CreateExport.CreateExportRequest)(valid))
        ),
        202,
        CreateExport.CreatedExport
      )
    ).pipe(
      Effect.map(({ id }) => id),
      Effect.tap((id) => Effect.logDebug(`batch-export: created ${id}`))
    )

  const view = (exportId: string) =>
    Effect.flatMap(Api.argument("exportId", Ids.ExportId, exportId), (id) =>
      api.json(VIEW, HttpClientRequest.get("/exports/view", { urlParams: { id } }), 200, Export.Export)
    )

  const list = (options?: { readonly limit?: number; readonly from?: string }) =>
    Effect.flatMap(Api.argument("list options", Export.ListOptions, options ?? {}), (valid) =>
      api.json(
        LIST,
        HttpClientRequest.get("/exports/list", {
          urlParams: {
            ...(valid.limit === undefined ? {} : { limit: String(valid.limit) }),
            ...(valid.from === undefined ? {} : { from: valid.from })
          }
        }),
        200,
        Export.ExportPage
      )
    )

  const listAll = (options?: { readonly pageSize?: number }) =>
    Stream.paginateEffect(Option.none<string>(), (from) =>
      Effect.map(
        list({
          ...(options?.pageSize === undefined ? {} : { limit: options.pageSize }),
          ...Option.match(from, { onNone: () => ({}), onSome: (from) => ({ from }) })
        }),
        (page) =>
          [
            page,
            page.hasMore && page.nextFrom !== undefined ? Option.some(Option.some(page.nextFrom)) : Option.none()
          ] as const
      )
    ).pipe(Stream.mapConcat((page) => page.exports))

  const awaitCompletion = (exportId: string, options?: AwaitOptions) =>
    Effect.gen(function* () {
      const id = yield* Api.argument("exportId", Ids.ExportId, exportId)
      const timeout = yield* Api.duration("timeout", options?.timeout ?? "2 hours")
      const schedule: Schedule.Schedule<unknown, Export.Export> =
        options?.schedule ??
        (options?.pollInterval === undefined
          ? defaultPollSchedule
          : Schedule.spaced(yield* Api.duration("pollInterval", options.pollInterval)))
      const last = yield* Ref.make<Option.Option<string>>(Option.none())
      const poll = view(id).pipe(
        Effect.tap((exp) => Ref.set(last, Option.some(exp.status))),
        Effect.tap((exp) => options?.onPoll?.(exp) ?? Effect.void),
        Effect.tap((exp) => Effect.logDebug(`batch-export: ${id} is ${exp.status}`))
      )
      const done = yield* poll.pipe(
        Effect.repeat(
          schedule.pipe(
            Schedule.passthrough,
            Schedule.whileInput((exp: Export.Export) => !ExportStatus.isTerminal(exp.status))
          )
        ),
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => new ExportError.ExportTimeout({ exportId: id, timeout })
        }),
        Effect.catchTag("ExportTimeout", (error) =>
          Effect.flatMap(Ref.get(last), (status) =>
            Effect.fail(
              Option.match(status, {
                onNone: () => error,
                onSome: (lastStatus) => new ExportError.ExportTimeout({ exportId: id, timeout, lastStatus })
              })
            )
          )
        )
      )
      if (done.status === "ERROR") return yield* Effect.fail(new ExportError.ExportFailed({ exportId: id }))
      return done
    }).pipe(Effect.withSpan("ExportsClient.awaitCompletion", { attributes: { "batch.export_id": exportId } }))

  const requestLink = (fileId: Ids.FileId) =>
    api.exchange<DownloadLink.DownloadLink, ClientError.InvalidLocation | ApiError.ApiError>(
      DOWNLOAD,
      HttpClientRequest.get("/exports/download", { urlParams: { id: fileId } }),
      (response) =>
        isRedirect(response.status)
          ? Effect.flatMap(DateTime.now, (issuedAt) =>
              DownloadLink.fromLocation({
                fileId,
                status: response.status,
                location: response.headers["location"],
                requestUrl: new URL(response.request.url),
                issuedAt
              })
            )
          : api.fail(DOWNLOAD, response)
    )

  const requestLinkLogged = (fileId: Ids.FileId) =>
    requestLink(fileId).pipe(
      Effect.tap((link) => Effect.logDebug(`batch-export: got a download link for ${link.fileId}`)),
      Effect.withSpan("ExportsClient.downloadLink", { attributes: { "batch.file_id": fileId } })
    )

  const downloadLink = (fileId: string): Effect.Effect<DownloadLink.DownloadLink, DownloadLinkError> =>
    Effect.flatMap(Api.argument("fileId", Ids.FileId, fileId), requestLinkLogged)

  // Resuming a dropped body uses the retry policy's budget and backoff.
  const resumeSchedule = Schedule.exponential(config.retry.baseDelay).pipe(
    Schedule.jittered,
    Schedule.modifyDelay((_, delay) => Duration.min(delay, config.retry.maxDelay)),
    Schedule.intersect(Schedule.recurs(config.retry.maxRetries))
  )
  const storage = Storage.make({ httpClient, config, link: requestLinkLogged, resumeSchedule })

  /** Opens the file: link, then storage response; the connection lives in the caller's scope. */
  const open = (fileId: string) =>
    Effect.flatMap(Api.argument("fileId", Ids.FileId, fileId), storage.open).pipe(
      Effect.withSpan("batch-export GET storage", { kind: "client", attributes: { "batch.file_id": fileId } })
    )

  const download = (fileId: string): Stream.Stream<Uint8Array, DownloadError> =>
    Stream.unwrapScoped(Effect.map(open(fileId), ({ bytes }) => bytes)).pipe(
      Stream.withSpan("ExportsClient.download", { attributes: { "batch.file_id": fileId } })
    )

  const downloadToFile = (
    fileId: string,
    destination: string,
    options?: DownloadToFileOptions
  ): Effect.Effect<DownloadedFile, DownloadToFileError> => {
    const writeError = (detail: string) => new ClientError.FileWriteError({ path: destination, detail })
    const temporaryPath = Effect.map(Random.nextInt, (n) =>
      path.join(path.dirname(destination), `.${path.basename(destination)}.${n.toString(36)}.partial`)
    )
    const write = (temporary: string) =>
      Effect.scoped(
        Effect.gen(function* () {
          const file = yield* open(fileId)
          let bytes = 0
          const report = options?.onProgress
          yield* file.bytes.pipe(
            Stream.tap((chunk) => {
              bytes += chunk.length
              return report === undefined ? Effect.void : report({ fileId: file.fileId, bytes, total: file.total })
            }),
            Stream.run(fs.sink(temporary, { flag: "wx" })),
            Effect.catchTags({
              SystemError: (e) => Effect.fail(writeError(e.message)),
              BadArgument: (e) => Effect.fail(writeError(e.message))
            })
          )
          if (options?.expectedSize !== undefined && options.expectedSize !== bytes) {
            return yield* Effect.fail(
              new ExportError.SizeMismatch({ fileId: file.fileId, expected: options.expectedSize, actual: bytes })
            )
          }
          yield* fs.rename(temporary, destination).pipe(Effect.mapError((e) => writeError(e.message)))
          return { fileId: file.fileId, path: destination, bytes }
        })
      )
    return Effect.acquireUseRelease(temporaryPath, write, (temporary, exit) =>
      Exit.isSuccess(exit) ? Effect.void : fs.remove(temporary, { force: true }).pipe(Effect.ignore)
    ).pipe(
      // the file changed under a resumed download: start over from byte 0, a bounded number of times
      Effect.retry({ times: 2, while: (error) => error._tag === "ContentChanged" }),
      Effect.tap((done) =>
        Effect.zipRight(
          Effect.annotateCurrentSpan("batch.bytes", done.bytes),
          Effect.logDebug(`batch-export: saved ${done.bytes} bytes of ${done.fileId}`)
        )
      ),
      Effect.withSpan("ExportsClient.downloadToFile", { attributes: { "batch.file_id": fileId } })
    )
  }

  /** The export, required to be SUCCESS. */
  const successful = (exportId: string) =>
    Effect.flatMap(view(exportId), (exp) =>
      exp.status === "SUCCESS"
        ? Effect.succeed(exp)
        : Effect.fail(new ExportError.ExportNotReady({ exportId: exp.id, status: exp.status }))
    )

  const downloadAll = (exportId: string, directory: string, options?: DownloadAllOptions) =>
    Effect.gen(function* () {
      const concurrency = yield* Api.argument(
        "concurrency",
        Schema.Int.pipe(Schema.between(1, 64, { message: () => "concurrency must be a whole number from 1 to 64" })),
        options?.concurrency ?? 2
      )
      const exp = yield* successful(exportId)
      const parts = exp.parts
      yield* fs
        .makeDirectory(directory, { recursive: true })
        .pipe(Effect.mapError((e) => new ClientError.FileWriteError({ path: directory, detail: e.message })))
      const width = Math.max(3, String(parts.at(-1)?.part ?? 0).length)
      const files = yield* Effect.forEach(
        parts,
        (file) =>
          downloadToFile(
            file.id,
            path.join(directory, `${exp.id}-part-${String(file.part).padStart(width, "0")}.json`),
            {
              expectedSize: file.size,
              onProgress:
                options?.onProgress === undefined ? undefined : (p) => options.onProgress!({ ...p, part: file.part })
            }
          ).pipe(Effect.map((done) => ({ part: file.part, fileId: done.fileId, path: done.path, bytes: done.bytes }))),
        { concurrency }
      )
      return { exportId: exp.id, files }
    }).pipe(Effect.withSpan("ExportsClient.downloadAll", { attributes: { "batch.export_id": exportId } }))

  const records = <A>(id: string, options?: RecordsOptions<A>): Stream.Stream<A, RecordsError> => {
    const schema = options?.schema
    const decodePart = (fileId: string, part: number | undefined) =>
      Records.decode(download(fileId), {
        ...(part === undefined ? {} : { part }),
        schema: (schema ?? Records.ProfileRecord) as Schema.Schema<A, any, never>
      })
    if (id.startsWith("file_")) return decodePart(id, undefined)
    return Stream.unwrap(
      Effect.map(successful(id), (exp) =>
        Stream.flatMap(Stream.fromIterable(exp.parts), (file) => decodePart(file.id, file.part))
      )
    )
  }

  return {
    create,
    view,
    list,
    listAll,
    awaitCompletion,
    downloadLink,
    download,
    downloadToFile,
    downloadAll,
    records: records as Service["records"]
  }
})

/**
 * The client from whatever `BatchConfig`, `HttpClient`, `FileSystem` and `Path` the caller provides.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithoutDependencies: Layer.Layer<
  ExportsClient,
  never,
  BatchConfig.BatchConfig | HttpClient.HttpClient | FileSystem.FileSystem | Path.Path
> = Layer.effect(ExportsClient, make)

const nodeDependencies = Layer.mergeAll(NodeHttpClient.layerUndici, NodeFileSystem.layer, NodePath.layer)

/**
 * The client with explicit options, on undici and Node's file system.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: BatchConfig.Options): Layer.Layer<ExportsClient, ClientError.InvalidArgument> =>
  layerWithoutDependencies.pipe(Layer.provide(Layer.merge(BatchConfig.layer(options), nodeDependencies)))

/**
 * The client configured from the environment (`BATCH_REST_API_KEY`, `BATCH_PROJECT_KEY`, …), on undici
 * and Node's file system.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  overrides?: (service: BatchConfig.Service) => BatchConfig.Service
): Layer.Layer<ExportsClient, ConfigError.ConfigError> =>
  layerWithoutDependencies.pipe(Layer.provide(Layer.merge(BatchConfig.layerConfig(overrides), nodeDependencies)))
