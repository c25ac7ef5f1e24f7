/**
 * The Batch export client: signed download links, file streams and atomic file downloads.
 *
 * @since 0.1.0
 */
import { ApiError, ClientError, DownloadLink, Ids, Redaction } from "@batch-export/core"
import {
  FetchHttpClient,
  FileSystem,
  HttpClient,
  HttpClientRequest,
  type HttpClientResponse,
  Path
} from "@effect/platform"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodePath from "@effect/platform-node/NodePath"
import type { ConfigError } from "effect"
import { Clock, Context, DateTime, Effect, Either, Exit, Layer, Option, Random, Redacted, Schema, Stream } from "effect"
import * as BatchConfig from "./BatchConfig.js"
import * as RetrySchedule from "./RetrySchedule.js"
import * as Transport from "./internal/transport.js"

/**
 * Everything `downloadLink` can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type DownloadLinkError =
  | ClientError.InvalidArgument
  | ApiError.ApiError
  | ClientError.InvalidLocation
  | ClientError.TransportError
  | ClientError.RequestTimeout

/**
 * Everything `download` can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type DownloadError = DownloadLinkError | ClientError.StorageError

/**
 * Everything `downloadToFile` can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type DownloadToFileError = DownloadError | ClientError.FileWriteError

/**
 * Bytes received so far, and the total when the storage sent `Content-Length`.
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
export interface Service {
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
}

/**
 * @since 0.1.0
 * @category tags
 */
export class ExportsClient extends Context.Tag("@batch-export/node/ExportsClient")<ExportsClient, Service>() {}

const DOWNLOAD_ENDPOINT = "GET /exports/download"
const STORAGE_ENDPOINT = "GET storage"
const ERROR_BODY_LIMIT = 64 * 1024

const decodeFileId = (fileId: string): Either.Either<Ids.FileId, ClientError.InvalidArgument> =>
  Either.mapLeft(
    Schema.decodeUnknownEither(Ids.FileId)(fileId),
    () =>
      new ClientError.InvalidArgument({
        argument: "fileId",
        detail: `expected "file_" followed by letters and digits, got ${JSON.stringify(fileId)}`
      })
  )

const isRedirect = (status: number) =>
  status === 301 || status === 302 || status === 303 || status === 307 || status === 308

/**
 * Builds the client from a `BatchConfig`, an `HttpClient` and a `FileSystem`.
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
  const apiPrefix = `${config.baseUrl.href.replace(/\/+$/, "")}/${config.apiVersion}`

  // Redirects from Batch are read by hand: even a fetch-based transport must not follow them.
  const manualRedirects = <E, R>(client: HttpClient.HttpClient.With<E, R>) =>
    HttpClient.transformResponse(client, (effect) =>
      Effect.flatMap(Effect.serviceOption(FetchHttpClient.RequestInit), (init) =>
        Effect.provideService(effect, FetchHttpClient.RequestInit, {
          ...Option.getOrElse(init, () => ({})),
          redirect: "manual"
        })
      )
    )

  // Trace context is not propagated to Batch: it documents no use for it.
  const api = httpClient.pipe(
    HttpClient.withScope,
    HttpClient.withTracerPropagation(false),
    manualRedirects,
    HttpClient.mapRequest((request) =>
      request.pipe(
        HttpClientRequest.prependUrl(apiPrefix),
        HttpClientRequest.bearerToken(config.restApiKey),
        HttpClientRequest.setHeader("x-batch-project", config.projectKey),
        HttpClientRequest.acceptJson
      )
    )
  )

  // The storage client adds nothing: no Authorization, no X-Batch-Project. Its spans are disabled because
  // @effect/platform would record the signed URL; ours record the origin only.
  const storage = httpClient.pipe(
    HttpClient.withScope,
    HttpClient.withTracerDisabledWhen(() => true),
    HttpClient.followRedirects(5)
  )

  const failFromResponse = (endpoint: string, response: HttpClientResponse.HttpClientResponse) =>
    Effect.flatMap(Transport.readBoundedText(response, ERROR_BODY_LIMIT), (body) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.fail(ApiError.classify({ endpoint, status: response.status, headers: response.headers, body, now }))
      )
    )

  const requestLink = (fileId: Ids.FileId) =>
    Effect.scoped(
      Effect.gen(function* () {
        const response = yield* api
          .get("/exports/download", { urlParams: { id: fileId } })
          .pipe(Effect.mapError((e) => Transport.transportError(DOWNLOAD_ENDPOINT, e)))
        if (!isRedirect(response.status)) return yield* failFromResponse(DOWNLOAD_ENDPOINT, response)
        const issuedAt = yield* DateTime.now
        return yield* DownloadLink.fromLocation({
          fileId,
          status: response.status,
          location: response.headers["location"],
          requestUrl: new URL(response.request.url),
          issuedAt
        })
      })
    ).pipe(
      Effect.timeoutFail({
        duration: config.timeouts.request,
        onTimeout: () =>
          new ClientError.RequestTimeout({ endpoint: DOWNLOAD_ENDPOINT, timeout: config.timeouts.request })
      })
    )

  const downloadLink = (fileId: string): Effect.Effect<DownloadLink.DownloadLink, DownloadLinkError> =>
    Effect.flatMap(decodeFileId(fileId), (id) =>
      requestLink(id).pipe(
        Effect.tapError((error) =>
          ApiError.isRetryable(error)
            ? Effect.logDebug(`batch-export: ${error.message}; retrying if allowed`)
            : Effect.void
        ),
        Effect.retry(RetrySchedule.make<DownloadLinkError>(config.retry))
      )
    ).pipe(
      Effect.tap((link) => Effect.logDebug(`batch-export: got a download link for ${link.fileId}`)),
      Effect.withSpan("ExportsClient.downloadLink", { attributes: { "batch.file_id": fileId } })
    )

  const open = (fileId: string) =>
    Effect.gen(function* () {
      const link = yield* downloadLink(fileId)
      const url = Redacted.value(link.url)
      const origin = Redaction.safeOrigin(url)
      const response = yield* storage.get(url).pipe(
        Effect.mapError((e) => Transport.transportError(STORAGE_ENDPOINT, e)),
        Effect.timeoutFail({
          duration: config.timeouts.request,
          onTimeout: () =>
            new ClientError.RequestTimeout({ endpoint: STORAGE_ENDPOINT, timeout: config.timeouts.request })
        })
      )
      if (response.status < 200 || response.status >= 300) {
        return yield* Effect.fail(new ClientError.StorageError({ status: response.status, origin }))
      }
      const total = Transport.contentLength(response)
      const bytes = response.stream.pipe(
        Stream.mapError((e) => Transport.transportError(STORAGE_ENDPOINT, e)),
        Stream.timeoutFail(
          () => new ClientError.RequestTimeout({ endpoint: STORAGE_ENDPOINT, timeout: config.timeouts.idle }),
          config.timeouts.idle
        ),
        checkLength(total)
      )
      return { fileId: link.fileId, total, bytes, origin }
    })

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
          const sink = fs.sink(temporary, { flag: "wx" })
          yield* file.bytes.pipe(
            Stream.tap((chunk) => {
              bytes += chunk.length
              return report === undefined ? Effect.void : report({ fileId: file.fileId, bytes, total: file.total })
            }),
            Stream.run(sink),
            Effect.catchTag("SystemError", "BadArgument", (e) => Effect.fail(writeError(e.message)))
          )
          yield* fs.rename(temporary, destination).pipe(Effect.mapError((e) => writeError(e.message)))
          return { fileId: file.fileId, path: destination, bytes }
        })
      )
    return Effect.acquireUseRelease(temporaryPath, write, (temporary, exit) =>
      Exit.isSuccess(exit) ? Effect.void : fs.remove(temporary, { force: true }).pipe(Effect.ignore)
    ).pipe(
      Effect.tap((done) => Effect.logDebug(`batch-export: saved ${done.bytes} bytes of ${done.fileId}`)),
      Effect.withSpan("ExportsClient.downloadToFile", { attributes: { "batch.file_id": fileId } })
    )
  }

  return { downloadLink, download, downloadToFile }
})

/** Fails a body that ends before its announced `Content-Length`. */
const checkLength =
  (total: Option.Option<number>) =>
  <E, R>(self: Stream.Stream<Uint8Array, E, R>): Stream.Stream<Uint8Array, E | ClientError.TransportError, R> =>
    Option.match(total, {
      onNone: () => self,
      onSome: (expected) => {
        let received = 0
        return Stream.concat(
          Stream.tap(self, (chunk) => Effect.sync(() => void (received += chunk.length))),
          Stream.suspend(() =>
            received === expected
              ? Stream.empty
              : Stream.fail(
                  new ClientError.TransportError({
                    endpoint: STORAGE_ENDPOINT,
                    detail: `the body ended after ${received} of ${expected} bytes`
                  })
                )
          )
        )
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
