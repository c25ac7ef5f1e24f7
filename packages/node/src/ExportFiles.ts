/**
 * Export files on disk: one file saved atomically, or every part of an export into a directory with a
 * manifest. Built on `ExportsClient.open`; it needs a `FileSystem` and a `Path`, which streaming does not.
 *
 * @since 0.1.0
 */
import { type ClientError, ExportError, type Ids } from "@batch-export/core"
import { FileSystem, Path } from "@effect/platform"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { Chunk, Context, Effect, Exit, Layer, type Option, Random, Schema, Stream } from "effect"
import * as ExportsClient from "./ExportsClient.js"
import * as Api from "./internal/api.js"
import * as Body from "./internal/body.js"
import * as Files from "./internal/files.js"

/**
 * Everything `downloadToFile` can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type DownloadToFileError = ExportsClient.DownloadError | ClientError.FileWriteError

/**
 * Everything `downloadAll` can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type DownloadAllError = ExportsClient.ViewError | ExportError.ExportNotReady | DownloadToFileError

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
export interface DownloadToFileOptions extends ExportsClient.DownloadOptions {
  /** Called after each batch of bytes is written. */
  readonly onProgress?: ((progress: Progress) => Effect.Effect<void>) | undefined
  /** Create missing parent directories instead of failing before the download. */
  readonly createDirectories?: boolean | undefined
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
export interface DownloadAllOptions {
  /** Parts downloaded at once (default 2). */
  readonly concurrency?: number | undefined
  /** A bound on each part, as `downloadToFile`'s `maxBytes`. */
  readonly maxBytes?: number | undefined
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
export interface Service {
  /**
   * Downloads a file to `path`. A new or regular file is written atomically: bytes go to a temporary file
   * beside it, renamed on success; on failure or interruption nothing is left and an existing file is
   * unchanged. An existing directory receives `<file id>.json`; a device or FIFO (`/dev/null`, a pipe) is
   * written in place and never replaced. The destination is checked before the first byte is asked for.
   */
  readonly downloadToFile: (
    fileId: string,
    path: string,
    options?: DownloadToFileOptions
  ) => Effect.Effect<DownloadedFile, DownloadToFileError>
  /**
   * Downloads every part of a `SUCCESS` export into `directory` as `<export id>-part-<NNN>.json` (names
   * sort in part order), each atomically and checked against its announced size while it streams. An
   * export whose parts repeat a part number is refused (`InconsistentExport`) rather than half-written.
   */
  readonly downloadAll: (
    exportId: string,
    directory: string,
    options?: DownloadAllOptions
  ) => Effect.Effect<Manifest, DownloadAllError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class ExportFiles extends Context.Tag("@batch-export/node/ExportFiles")<ExportFiles, Service>() {}

/**
 * Builds the service on an `ExportsClient`, a `FileSystem` and a `Path`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, ExportsClient.ExportsClient | FileSystem.FileSystem | Path.Path> =
  Effect.gen(function* () {
    const client = yield* ExportsClient.ExportsClient
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path

    /** Streams the file's bytes into `file`, in one write per batch received. */
    const save = (
      fileId: string,
      destination: string,
      flag: "wx" | "w",
      options: DownloadToFileOptions | undefined
    ): Effect.Effect<DownloadedFile, DownloadToFileError> =>
      Effect.scoped(
        Effect.gen(function* () {
          const opened = yield* client.open(fileId, options)
          const file = yield* fs.open(destination, { flag }).pipe(Effect.mapError(Files.writeError(destination)))
          const report = options?.onProgress
          let bytes = 0
          yield* Stream.runForEachChunk(opened.bytes, (chunk) => {
            const size = Body.byteLength(chunk)
            if (size === 0) return Effect.void
            bytes += size
            // one write per batch: the socket hands over several buffers at a time
            const buffer = chunk.length === 1 ? Chunk.unsafeHead(chunk) : Buffer.concat(Chunk.toReadonlyArray(chunk))
            const written = Effect.mapError(file.writeAll(buffer), Files.writeError(destination))
            return report === undefined
              ? written
              : Effect.zipRight(written, report({ fileId: opened.fileId, bytes, total: opened.total }))
          })
          return { fileId: opened.fileId, path: destination, bytes }
        })
      )

    const atomically = (fileId: string, destination: string, options: DownloadToFileOptions | undefined) =>
      Effect.acquireUseRelease(
        Effect.map(Random.nextInt, (n) => Files.temporaryName(path, destination, n)),
        (temporary) =>
          Effect.tap(save(fileId, temporary, "wx", options), () =>
            fs.rename(temporary, destination).pipe(Effect.mapError(Files.writeError(destination)))
          ).pipe(Effect.map((done) => ({ ...done, path: destination }))),
        (temporary, exit) =>
          Exit.isSuccess(exit) ? Effect.void : fs.remove(temporary, { force: true }).pipe(Effect.ignore)
      )

    const downloadToFile = (
      fileId: string,
      destination: string,
      options?: DownloadToFileOptions
    ): Effect.Effect<DownloadedFile, DownloadToFileError> =>
      Effect.gen(function* () {
        const target = yield* Files.target(fs, path, {
          destination,
          fileId,
          createDirectories: options?.createDirectories === true
        })
        yield* Effect.annotateCurrentSpan("batch.in_place", target._tag === "InPlace")
        const done = yield* (
          target._tag === "InPlace" ? save(fileId, target.path, "w", options) : atomically(fileId, target.path, options)
        ).pipe(
          // the file changed under a resumed download: start over from byte 0, a bounded number of times
          Effect.retry({ times: 2, while: (error) => error._tag === "ContentChanged" })
        )
        yield* Effect.annotateCurrentSpan("batch.bytes", done.bytes)
        yield* Effect.logDebug(`saved ${done.bytes} bytes`)
        return done
      }).pipe(
        Effect.annotateLogs("batch.file_id", fileId),
        Effect.withSpan("ExportFiles.downloadToFile", { attributes: { "batch.file_id": fileId } })
      )

    const downloadAll = (exportId: string, directory: string, options?: DownloadAllOptions) =>
      Effect.gen(function* () {
        const concurrency = yield* Api.argument(
          "concurrency",
          Schema.Int.pipe(Schema.between(1, 64, { message: () => "concurrency must be a whole number from 1 to 64" })),
          options?.concurrency ?? 2
        )
        const exp = yield* client.view(exportId)
        if (exp.status !== "SUCCESS")
          return yield* new ExportError.ExportNotReady({ exportId: exp.id, status: exp.status })
        const parts = exp.parts
        yield* consistentParts(exp.id, parts)
        yield* fs.makeDirectory(directory, { recursive: true }).pipe(Effect.mapError(Files.writeError(directory)))
        const width = Math.max(3, String(parts.at(-1)?.part ?? 0).length)
        const files = yield* Effect.forEach(
          parts,
          (file) => {
            const report = options?.onProgress
            return downloadToFile(
              file.id,
              path.join(directory, `${exp.id}-part-${String(file.part).padStart(width, "0")}.json`),
              {
                expectedSize: file.size,
                maxBytes: options?.maxBytes,
                onProgress: report === undefined ? undefined : (p) => report({ ...p, part: file.part })
              }
            ).pipe(Effect.map((done) => ({ part: file.part, fileId: done.fileId, path: done.path, bytes: done.bytes })))
          },
          { concurrency }
        )
        return { exportId: exp.id, files }
      }).pipe(
        Effect.annotateLogs("batch.export_id", exportId),
        Effect.withSpan("ExportFiles.downloadAll", { attributes: { "batch.export_id": exportId } })
      )

    return ExportFiles.of({ downloadToFile, downloadAll })
  })

/** Two files with one part number would be written to one name: one of them lost, silently. */
const consistentParts = (
  exportId: Ids.ExportId,
  parts: ReadonlyArray<{ readonly id: Ids.FileId; readonly part: number }>
): Effect.Effect<void, ExportError.InconsistentExport> => {
  const seen = new Set<number>()
  for (const { part } of parts) {
    const detail =
      part < 0 ? `part ${part} is not a part number` : seen.has(part) ? `two files announce part ${part}` : undefined
    if (detail !== undefined) return Effect.fail(new ExportError.InconsistentExport({ exportId, detail }))
    seen.add(part)
  }
  return Effect.void
}

/**
 * The service from whatever `ExportsClient`, `FileSystem` and `Path` the caller provides.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithoutDependencies: Layer.Layer<
  ExportFiles,
  never,
  ExportsClient.ExportsClient | FileSystem.FileSystem | Path.Path
> = Layer.effect(ExportFiles, make)

/**
 * The service on Node's file system, over the `ExportsClient` the caller provides.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<ExportFiles, never, ExportsClient.ExportsClient> = layerWithoutDependencies.pipe(
  Layer.provide(Layer.merge(NodeFileSystem.layer, NodePath.layer))
)
