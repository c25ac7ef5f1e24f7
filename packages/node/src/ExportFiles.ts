/**
 * Export files on disk: one file saved atomically, or every part of an export into a directory with a
 * manifest. Built on `ExportsClient.open`; it needs a `FileSystem` and a `Path`, which streaming does not.
 *
 * @since 0.1.0
 */
import { ClientError, ExportError, Ids } from "@batch-export/core"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as Cause from "effect/Cause"
import type * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as ExportsClient from "./ExportsClient.js"
import * as Api from "./internal/api.js"
import * as Body from "./internal/body.js"
import * as Files from "./internal/files.js"
import * as Lock from "./internal/lock.js"
import * as NodeFifo from "./internal/nodeFifo.js"
import * as NodeWriter from "./internal/nodeWriter.js"
import * as Writer from "./internal/writer.js"

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
  /**
   * Keep what an interrupted or failed download received (`.<name>.partial`, with its file id and strong
   * `ETag` in `.<name>.partial.state`), and continue it on the next call when the stored object is unchanged,
   * instead of removing it. Nothing is kept without a strong `ETag`, nor after `DownloadTooLarge`,
   * `SizeMismatch` or a changed object (a later run would meet them again). A kept part is continued only when
   * its state is valid and names this file, and its `.partial` is a regular file within `maxBytes` and
   * `expectedSize`; anything else there (a link, a FIFO, an invalid state, one the storage refuses) is
   * removed — a link itself, never its target — and the download starts over. Default false: nothing is left
   * behind, and a complete download removes what an earlier resumable one kept for the same destination.
   */
  readonly resume?: boolean | undefined
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
  /**
   * Re-runs: skip a part whose file already has the size Batch announced, and continue a partial part
   * (see `downloadToFile`'s `resume`). Default false.
   */
  readonly resume?: boolean | undefined
  /** Called as each part's bytes are written; a part skipped by `resume` is reported once, complete. */
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
  /** True when a re-run found the part complete and did not download it. */
  readonly skipped: boolean
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
   * unchanged. An existing directory receives `<file id>.json` (so does a missing path ending in `/`, with
   * `createDirectories`); a device or FIFO (`/dev/null`, a pipe) is written in place and never replaced. The
   * file id and the destination are checked before the first byte is asked for.
   *
   * One download writes a destination at a time: it holds `.<name>.lock` (naming its process) beside it, and a
   * second one fails at once with `FileWriteError`; a lock whose process has ended is taken over. A file whose
   * size on disk is not what was received (another writer) is never renamed into place.
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

/** How the bytes of a download reach the file `save` opened: one batch at a time, each written when it ends. */
type BatchWriter = (
  file: FileSystem.File,
  destination: string
) => (batch: Chunk.Chunk<Uint8Array>) => Effect.Effect<void, ClientError.FileWriteError>

/** What differs between the two layers: how batches are written, and how a FIFO's reader is waited for. */
interface Io {
  readonly writer: BatchWriter
  /** Returns once a special file can be opened without waiting for a reader (interruptibly). */
  readonly awaitReader: (path: string) => Effect.Effect<void, ClientError.FileWriteError, Scope.Scope>
}

/** Through any `FileSystem`: its `writeAll`, in large blocks (see `internal/writer.ts`). */
const fileSystemIo: Io = {
  writer: (file, destination) =>
    Writer.make((buffer) => Effect.mapError(file.writeAll(buffer), Files.writeError(destination))),
  // a `FileSystem` cannot open without waiting: its open is interruptible (`Files.openInterruptibly`)
  awaitReader: () => Effect.void
}

/** Straight to the descriptor of Node's file system (see `internal/nodeWriter.ts`, `internal/nodeFifo.ts`). */
const nodeIo: Io = {
  writer: (file, destination) => NodeWriter.make(file.fd, Files.nodeWriteError(destination)),
  awaitReader: (path) => NodeFifo.awaitReader(path, Files.nodeWriteError(path))
}

const makeWith = (
  io: Io
): Effect.Effect<Service, never, ExportsClient.ExportsClient | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const client = yield* ExportsClient.ExportsClient
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path

    /** Opens `p` for writing; a FIFO with no reader does not hold up an interruption. */
    const openFile = (p: string, flag: "wx" | "a") =>
      Files.openInterruptibly(fs, p, flag).pipe(Effect.mapError(Files.writeError(p)))

    /** Streams the file's bytes into the file `open` gives once the storage answered, a batch at a time. */
    const save = (
      fileId: string,
      destination: string,
      open: (
        opened: ExportsClient.OpenedFile
      ) => Effect.Effect<FileSystem.File, ClientError.FileWriteError, Scope.Scope>,
      options: DownloadToFileOptions | undefined
    ): Effect.Effect<DownloadedFile, DownloadToFileError> =>
      Effect.scoped(
        Effect.gen(function* () {
          const opened = yield* client.open(fileId, options)
          const file = yield* open(opened)
          const report = options?.onProgress
          let bytes = opened.offset
          const write = io.writer(file, destination)
          yield* Stream.runForEachChunk(opened.bytes, (chunk) => {
            const size = Body.byteLength(chunk)
            if (size === 0) return Effect.void
            bytes += size
            const written = write(chunk)
            return report === undefined
              ? written
              : Effect.zipRight(written, report({ fileId: opened.fileId, bytes, total: opened.total }))
          })
          return { fileId: opened.fileId, path: destination, bytes }
        })
      )

    /**
     * What is renamed into place holds exactly what was received (and what Batch announced): anything else
     * means another writer, and is never saved.
     */
    const verified = (done: DownloadedFile, expectedSize: number | undefined) =>
      Effect.flatMap(Files.entry(fs, done.path), (found) => {
        const size = found._tag === "Regular" ? found.info.size : undefined
        return size === BigInt(done.bytes) && (expectedSize === undefined || done.bytes === expectedSize)
          ? Effect.succeed(done)
          : Effect.fail(
              new ClientError.FileWriteError({
                path: done.path,
                detail:
                  size === undefined
                    ? "it is gone or no longer a regular file"
                    : `it holds ${size} bytes where ${done.bytes} were received` +
                      (expectedSize === undefined ? "" : ` and ${expectedSize} announced`)
              })
            )
      })

    /** Removes the `.partial` and `.partial.state` a resumable download to `destination` keeps. */
    const forgetPartial = (destination: string) => {
      const names = Files.resumableNames(path, destination)
      return Effect.zipRight(
        fs.remove(names.state, { force: true }).pipe(Effect.ignore),
        fs.remove(names.partial, { force: true }).pipe(Effect.ignore)
      )
    }

    const atomically = (fileId: string, destination: string, options: DownloadToFileOptions | undefined) =>
      Effect.acquireUseRelease(
        Effect.map(Random.nextInt, (n) => Files.temporaryName(path, destination, n)),
        (temporary) =>
          save(fileId, temporary, () => openFile(temporary, "wx"), options).pipe(
            Effect.flatMap((done) => verified(done, options?.expectedSize)),
            Effect.tap(() =>
              fs.rename(temporary, destination).pipe(
                Effect.mapError(Files.writeError(destination)),
                // what an earlier resumable run kept for this destination is superseded now
                Effect.zipRight(forgetPartial(destination))
              )
            ),
            Effect.map((done) => ({ ...done, path: destination }))
          ),
        (temporary, exit) =>
          Exit.isSuccess(exit) ? Effect.void : fs.remove(temporary, { force: true }).pipe(Effect.ignore)
      )

    /**
     * What an earlier run left for `fileId`, when a later run may continue it: a regular `.partial` (never a
     * link, never a FIFO) within the bounds, and a valid state naming this file and a strong `ETag`. Anything
     * else is treated as absent (said in one line when it is a link or a special file): the run starts over.
     */
    const kept = (names: Files.ResumableNames, fileId: string, options: DownloadToFileOptions | undefined) =>
      Effect.gen(function* () {
        const ignoring = (p: string, found: Files.Entry) =>
          found._tag === "Other"
            ? Effect.logWarning(`ignoring ${p}: it is ${found.kind}, not a regular file; starting over`)
            : Effect.void
        const stateEntry = yield* Files.entry(fs, names.state)
        const partial = yield* Files.entry(fs, names.partial)
        yield* ignoring(names.state, stateEntry)
        yield* ignoring(names.partial, partial)
        if (stateEntry._tag !== "Regular" || partial._tag !== "Regular") return Option.none()
        const state = Option.flatMap(yield* Files.readSmall(fs, names.state, Files.STATE_LIMIT), ({ bytes }) =>
          Files.decodeState(new TextDecoder().decode(bytes))
        )
        if (Option.isNone(state) || state.value.fileId !== fileId) {
          yield* Effect.logWarning(`ignoring ${names.state}: it is not a saved state for ${fileId}; starting over`)
          return Option.none()
        }
        const size = Number(partial.info.size)
        const bounds = [options?.maxBytes, options?.expectedSize].filter((n) => n !== undefined)
        // a part already past a bound is not continued: started over, the bound is enforced on the new bytes
        return size > 0 && bounds.every((bound) => size <= bound)
          ? Option.some({ offset: size, etag: state.value.etag, info: partial.info })
          : Option.none()
      }).pipe(Effect.orElseSucceed(() => Option.none()))

    /**
     * Like `atomically`, through a partial file that outlives a failure: continued on the next call when the
     * object is unchanged, started over when it changed, removed once renamed. A failure no later run could
     * get past (a bound: `DownloadTooLarge`, `SizeMismatch`; a changed object) keeps nothing.
     */
    const resumably = (fileId: string, destination: string, options: DownloadToFileOptions | undefined) => {
      const names = Files.resumableNames(path, destination)
      const forget = forgetPartial(destination)
      /** A new `.partial`, and its state when the object has a strong `ETag`: links there are replaced, not followed. */
      const startOver = (opened: ExportsClient.OpenedFile) =>
        Effect.gen(function* () {
          yield* fs.remove(names.state, { force: true }).pipe(Effect.mapError(Files.writeError(names.state)))
          yield* fs.remove(names.partial, { force: true }).pipe(Effect.mapError(Files.writeError(names.partial)))
          // without a strong ETag, a later run could not tell the same object from another: no state
          if (Option.isSome(opened.etag)) {
            yield* fs
              .writeFileString(names.state, Files.encodeState({ fileId: opened.fileId, etag: opened.etag.value }), {
                flag: "wx"
              })
              .pipe(Effect.mapError(Files.writeError(names.state)))
          }
          return yield* openFile(names.partial, "wx")
        })
      /** The kept `.partial`, appended to: the very regular file `kept` measured, or a failure. */
      const carryOn = (info: FileSystem.File.Info) =>
        Effect.gen(function* () {
          const file = yield* openFile(names.partial, "a")
          const now = yield* file.stat.pipe(Effect.mapError(Files.writeError(names.partial)))
          if (now.type !== "File" || !Files.sameFile(now, info) || now.size !== info.size) {
            return yield* new ClientError.FileWriteError({ path: names.partial, detail: "it changed while opened" })
          }
          return file
        })
      const attempt = (from: Option.Option<{ offset: number; etag: string; info: FileSystem.File.Info }>) =>
        save(
          fileId,
          names.partial,
          (opened) => (Option.isSome(from) && opened.offset > 0 ? carryOn(from.value.info) : startOver(opened)),
          { ...options, from: Option.getOrUndefined(Option.map(from, ({ etag, offset }) => ({ etag, offset }))) }
        ).pipe(
          // a partial of the wrong size was written by someone else too: nothing of it can be trusted
          Effect.flatMap((done) => Effect.tapError(verified(done, options?.expectedSize), () => forget))
        )
      /** After a failure: what a later run can continue is kept (its state file says so), nothing else. */
      const keepOrForget = (cause: Cause.Cause<DownloadToFileError>) =>
        Option.exists(Cause.failureOption(cause), Files.notContinuable)
          ? forget
          : Effect.flatMap(Files.entry(fs, names.state).pipe(Effect.orElseSucceed(() => undefined)), (state) =>
              state?._tag === "Regular" ? Effect.void : forget
            )
      return Effect.gen(function* () {
        const from = yield* kept(names, fileId, options)
        const done = yield* attempt(from).pipe(
          // a saved state the storage will not take (a header it refuses) is no state: start over, once
          Effect.catchIf(
            (error) => Option.isSome(from) && Files.refusesResume(error),
            () =>
              Effect.logWarning(`the storage refused to continue ${names.partial}; starting over`).pipe(
                Effect.zipRight(forget),
                Effect.zipRight(attempt(Option.none()))
              )
          ),
          Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : keepOrForget(exit.cause)))
        )
        yield* fs.rename(names.partial, destination).pipe(Effect.mapError(Files.writeError(destination)))
        yield* fs.remove(names.state, { force: true }).pipe(Effect.ignore)
        return { ...done, path: destination }
      })
    }

    const downloadToFile = (
      fileId: string,
      destination: string,
      options?: DownloadToFileOptions
    ): Effect.Effect<DownloadedFile, DownloadToFileError> =>
      Effect.gen(function* () {
        // before the destination is looked at: a directory is created for nothing else
        yield* Api.argument("fileId", Ids.FileId, fileId)
        const target = yield* Files.target(fs, path, {
          destination,
          fileId,
          createDirectories: options?.createDirectories === true
        })
        yield* Effect.annotateCurrentSpan("batch.in_place", target._tag === "InPlace")
        const done =
          target._tag === "InPlace"
            ? // in place with append: a positional write (what "w" does) fails on a pipe with ESPIPE
              yield* save(
                fileId,
                target.path,
                // only a FIFO waits for a reader; a device opens (or fails, ENXIO included) at once
                () =>
                  target.fifo
                    ? Effect.zipRight(io.awaitReader(target.path), openFile(target.path, "a"))
                    : openFile(target.path, "a"),
                options
              )
            : yield* locked(target.path, options?.resume === true ? resumably : atomically, fileId, options)
        yield* Effect.annotateCurrentSpan("batch.bytes", done.bytes)
        yield* Effect.logDebug(`saved ${done.bytes} bytes`)
        return done
      }).pipe(
        Effect.annotateLogs("batch.file_id", fileId),
        Effect.withSpan("ExportFiles.downloadToFile", { attributes: { "batch.file_id": fileId } })
      )

    /** `write` to `destination` while holding its lock (`internal/lock.ts`). */
    const locked = (
      destination: string,
      write: typeof atomically,
      fileId: string,
      options: DownloadToFileOptions | undefined
    ) =>
      Effect.scoped(
        Effect.zipRight(
          Lock.acquire(fs, destination, Files.lockName(path, destination)),
          write(fileId, destination, options).pipe(
            // the file changed under a resumed download: start over from byte 0, a bounded number of times
            Effect.retry({ times: 2, while: (error) => error._tag === "ContentChanged" })
          )
        )
      )

    const completeFile = (destination: string, size: number) =>
      fs.stat(destination).pipe(
        Effect.map((info) => info.type === "File" && info.size === BigInt(size)),
        Effect.orElseSucceed(() => false)
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
        const resume = options?.resume === true
        const report = options?.onProgress
        const files = yield* Effect.forEach(
          parts,
          (file) =>
            Effect.gen(function* () {
              const destination = path.join(directory, `${exp.id}-part-${String(file.part).padStart(width, "0")}.json`)
              // a re-run trusts a part that has exactly the announced size (Batch publishes no checksum)
              if (resume && (yield* completeFile(destination, file.size))) {
                // what a run stopped between its rename and its clean-up left beside the part
                yield* Effect.scoped(
                  Effect.zipRight(
                    Lock.acquire(fs, destination, Files.lockName(path, destination)),
                    forgetPartial(destination)
                  )
                )
                // a progress display counts it as done: it is part of the export, already here
                if (report !== undefined) {
                  yield* report({ fileId: file.id, bytes: file.size, total: Option.some(file.size), part: file.part })
                }
                return { part: file.part, fileId: file.id, path: destination, bytes: file.size, skipped: true }
              }
              const done = yield* downloadToFile(file.id, destination, {
                expectedSize: file.size,
                maxBytes: options?.maxBytes,
                resume,
                onProgress: report === undefined ? undefined : (p) => report({ ...p, part: file.part })
              })
              return { part: file.part, fileId: done.fileId, path: done.path, bytes: done.bytes, skipped: false }
            }),
          { concurrency }
        )
        return { exportId: exp.id, files }
      }).pipe(
        Effect.annotateLogs("batch.export_id", exportId),
        Effect.withSpan("ExportFiles.downloadAll", { attributes: { "batch.export_id": exportId } })
      )

    return ExportFiles.of({ downloadToFile, downloadAll })
  })

/**
 * Builds the service on an `ExportsClient`, a `FileSystem` and a `Path`, writing through the `FileSystem`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, ExportsClient.ExportsClient | FileSystem.FileSystem | Path.Path> =
  makeWith(fileSystemIo)

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
 * The service from whatever `ExportsClient`, `FileSystem` and `Path` the caller provides, writing through that
 * `FileSystem` (`layer` writes through Node's `fs` directly, faster).
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
 * The service on Node's file system, over the `ExportsClient` the caller provides. It writes to the files it
 * opens through Node's `fs` directly (one `writev` per batch), which `FileSystem.File` cannot do: the fastest
 * way, measured in `BENCHMARKS.md`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<ExportFiles, never, ExportsClient.ExportsClient> = Layer.effect(
  ExportFiles,
  makeWith(nodeIo)
).pipe(Layer.provide(Layer.merge(NodeFileSystem.layer, NodePath.layer)))
