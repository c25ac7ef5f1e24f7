/**
 * Where a download lands and how it gets there: the destination rules (an existing directory receives
 * `<file id>.json`; a device, FIFO or other special file is written in place, as curl does; a regular file
 * is replaced atomically), the temporary file's name, and file-system failures described for a person.
 */
import { ClientError } from "@batch-export/core"
import type * as PlatformError from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Check from "./validate.js"
/** Where bytes go: atomically through a temporary file, or straight into a special file. */
export type Target =
  | { readonly _tag: "Atomic"; readonly path: string }
  | { readonly _tag: "InPlace"; readonly path: string; readonly fifo: boolean }

const ERRNO: Readonly<Record<string, string>> = {
  ENAMETOOLONG: "the file name is too long",
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is exhausted",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory",
  ENOTDIR: "a parent is not a directory",
  EISDIR: "it is a directory",
  EROFS: "the file system is read-only",
  EEXIST: "it already exists",
  EBUSY: "the file is busy",
  EMFILE: "too many open files",
  EXDEV: "it is on another file system than its temporary file",
  EIO: "an I/O error"
}

/** An errno's meaning and code (`no space left on the device (ENOSPC)`), when it is one of those above. */
const errno = (cause: unknown): string | undefined => {
  const code =
    typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string"
      ? cause.code
      : undefined
  return code !== undefined && ERRNO[code] !== undefined ? `${ERRNO[code]} (${code})` : undefined
}

/** A file-system failure in words: the errno's meaning rather than "Unknown". */
export const describe = (error: PlatformError.PlatformError): string =>
  (error._tag === "SystemError" ? errno(error.cause) : undefined) ?? error.message

export const writeError = (path: string) => (error: PlatformError.PlatformError) =>
  new ClientError.FileWriteError({ path, detail: describe(error) })

/** The same, for a failure of Node's `fs` itself (the writes of `ExportFiles.layer`). */
export const nodeWriteError = (path: string) => (error: NodeJS.ErrnoException) =>
  new ClientError.FileWriteError({ path, detail: errno(error) ?? error.message })

/**
 * Resolves the destination before the first byte is asked for: an existing directory receives
 * `<file id>.json`; a missing parent is an error unless `createDirectories`.
 */
export const target = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  options: { readonly destination: string; readonly fileId: string; readonly createDirectories: boolean }
): Effect.Effect<Target, ClientError.FileWriteError> =>
  Effect.gen(function* () {
    const stat = (p: string) =>
      fs.stat(p).pipe(
        Effect.map(Option.some),
        Effect.catchIf(
          (e) => e._tag === "SystemError" && e.reason === "NotFound",
          () => Effect.succeed(Option.none())
        ),
        Effect.mapError(writeError(p))
      )
    let destination = options.destination
    let info = yield* stat(destination)
    // a trailing separator names a directory: missing, it is created or refused, never taken for a file name
    if (Option.isNone(info) && /[\\/]$/.test(destination)) {
      if (!options.createDirectories) {
        return yield* new ClientError.FileWriteError({
          path: destination,
          detail: `the directory ${destination} does not exist`
        })
      }
      yield* fs.makeDirectory(destination, { recursive: true }).pipe(Effect.mapError(writeError(destination)))
      info = yield* stat(destination)
    }
    if (Option.isSome(info) && info.value.type === "Directory") {
      destination = path.join(destination, `${options.fileId}.json`)
      info = yield* stat(destination)
    }
    if (Option.isSome(info)) {
      if (info.value.type === "File") return { _tag: "Atomic", path: destination }
      if (info.value.type === "Directory") {
        return yield* new ClientError.FileWriteError({ path: destination, detail: "it is a directory" })
      }
      // a socket cannot be opened as a file (Linux answers ENXIO, which a FIFO's wait would take for "no reader")
      if (info.value.type === "Socket") {
        return yield* new ClientError.FileWriteError({ path: destination, detail: "it is a socket" })
      }
      // never rename over a device or a FIFO: it would become a regular file holding the export
      return { _tag: "InPlace", path: destination, fifo: info.value.type === "FIFO" }
    }
    const parent = path.dirname(destination)
    const parentInfo = yield* stat(parent)
    if (Option.isNone(parentInfo)) {
      if (!options.createDirectories) {
        return yield* new ClientError.FileWriteError({
          path: destination,
          detail: `the directory ${parent} does not exist`
        })
      }
      yield* fs.makeDirectory(parent, { recursive: true }).pipe(Effect.mapError(writeError(parent)))
    } else if (parentInfo.value.type !== "Directory") {
      return yield* new ClientError.FileWriteError({ path: destination, detail: `${parent} is not a directory` })
    }
    return { _tag: "Atomic", path: destination }
  })

/** Most file systems allow 255 bytes per name. */
const NAME_MAX = 255

/**
 * A hidden temporary name beside `destination`: `.<name>.<random>.partial`, the name shortened (by whole
 * characters) so that the temporary name fits where the destination's own name fits.
 */
export const temporaryName = (path: Path.Path, destination: string, random: number): string =>
  hidden(path, destination, `.${random.toString(36)}.partial`, 0)

/**
 * What a resumable download keeps beside its destination between runs: the bytes so far
 * (`.<name>.partial`) and what identifies them (`.<name>.partial.state`: the file id and the stored
 * object's strong `ETag`).
 */
export const resumableNames = (path: Path.Path, destination: string): ResumableNames => {
  const partial = hidden(path, destination, ".partial", STATE_SUFFIX.length)
  return { partial, state: `${partial}${STATE_SUFFIX}` }
}

const STATE_SUFFIX = ".state"

export interface ResumableNames {
  readonly partial: string
  readonly state: string
}

/** `.<name><suffix>` beside `destination`, the name shortened (by whole characters) to fit `NAME_MAX`. */
const hidden = (path: Path.Path, destination: string, suffix: string, reserve: number): string => {
  const budget = NAME_MAX - 1 - suffix.length - reserve
  let name = path.basename(destination)
  while (Buffer.byteLength(name) > budget) name = name.slice(0, -1)
  return path.join(path.dirname(destination), `.${name}${suffix}`)
}

/** `.<name>.lock` beside `destination`: held by the one download writing it (see `internal/lock.ts`). */
export const lockName = (path: Path.Path, destination: string): string => hidden(path, destination, ".lock", 0)

/** The identity of a kept partial download. */
const State = Schema.parseJson(Schema.Struct({ fileId: Schema.String, etag: Schema.String }))

/** Bytes of a state file read at most; a larger one is not a state this client wrote. */
export const STATE_LIMIT = 4096

export const encodeState = Schema.encodeSync(State)

/**
 * A saved state, when it is one a resume can use: its `ETag` strong and valid as a header (the client refuses
 * any other in `from`, and a later run must not fail on what an earlier one saved).
 */
export const decodeState = (text: string) =>
  Option.filter(
    Schema.decodeUnknownOption(State)(text),
    ({ etag }) => etag.startsWith('"') && Either.isRight(Check.entityTag(etag))
  )

/** Statuses of a storage that will not take a continuation's `Range` / `If-Range` (a header it refuses). */
const REFUSED_RESUME = new Set([400, 412, 431])

export const refusesResume = (error: { readonly _tag: string }): boolean =>
  error instanceof ClientError.StorageError && REFUSED_RESUME.has(error.status)

/** Failures a later run would meet again from the same bytes: what they leave is not worth keeping. */
export const notContinuable = (error: { readonly _tag: string }): boolean =>
  error._tag === "ContentChanged" || error._tag === "DownloadTooLarge" || error._tag === "SizeMismatch"

/**
 * What is at a path, without following a link there. `FileSystem` has no `lstat`: `readLink` succeeds only on a
 * link, and once it said "not a link", `stat` describes the entry itself.
 */
export type Entry =
  | { readonly _tag: "Absent" }
  | { readonly _tag: "Regular"; readonly info: FileSystem.File.Info }
  | { readonly _tag: "Other"; readonly kind: string }

export const entry = (fs: FileSystem.FileSystem, p: string): Effect.Effect<Entry, ClientError.FileWriteError> =>
  fs.readLink(p).pipe(
    Effect.as<Entry>({ _tag: "Other", kind: "a symbolic link" }),
    // whatever `readLink` says otherwise (EINVAL on Node, perhaps "not found" elsewhere), `stat` decides
    Effect.catchAll(() =>
      fs.stat(p).pipe(
        Effect.map((info): Entry =>
          info.type === "File" ? { _tag: "Regular", info } : { _tag: "Other", kind: describeType(info.type) }
        ),
        Effect.catchIf(isNotFound, () => Effect.succeed<Entry>({ _tag: "Absent" })),
        Effect.mapError(writeError(p))
      )
    )
  )

const isNotFound = (error: PlatformError.PlatformError) => error._tag === "SystemError" && error.reason === "NotFound"

const TYPES: Readonly<Record<FileSystem.File.Type, string>> = {
  File: "a regular file",
  Directory: "a directory",
  SymbolicLink: "a symbolic link",
  BlockDevice: "a block device",
  CharacterDevice: "a character device",
  FIFO: "a FIFO",
  Socket: "a socket",
  Unknown: "a special file"
}

const describeType = (type: FileSystem.File.Type): string => TYPES[type]

/** Two descriptions of one file: same device and inode (where the file system reports inodes). */
export const sameFile = (a: FileSystem.File.Info, b: FileSystem.File.Info): boolean =>
  a.dev === b.dev && Option.getEquivalence((x: number, y: number) => x === y)(a.ino, b.ino)

/**
 * The bytes of a small regular file, at most `limit` of them, or none when it is missing, is not a regular file
 * (a link is not followed: the file opened must be the regular file `entry` saw), or is larger (never read: a
 * 1 GB sparse file costs nothing).
 */
export const readSmall = (
  fs: FileSystem.FileSystem,
  p: string,
  limit: number
): Effect.Effect<Option.Option<{ readonly bytes: Uint8Array; readonly info: FileSystem.File.Info }>> =>
  Effect.scoped(
    Effect.gen(function* () {
      const seen = yield* entry(fs, p)
      if (seen._tag !== "Regular" || seen.info.size > BigInt(limit)) return Option.none()
      const file = yield* fs.open(p, { flag: "r" })
      const info = yield* file.stat
      if (info.type !== "File" || !sameFile(info, seen.info) || info.size > BigInt(limit)) return Option.none()
      const read = yield* file.readAlloc(limit + 1)
      const bytes = Option.getOrElse(read, () => new Uint8Array(0))
      return bytes.length > limit ? Option.none() : Option.some({ bytes, info })
    })
  ).pipe(Effect.orElseSucceed(() => Option.none()))

/**
 * `fs.open` that an interruption ends at once. `FileSystem.open` acquires its descriptor uninterruptibly, and
 * opening a FIFO for writing waits for a reader, possibly forever: Ctrl-C would then wait with it. Here the
 * open runs on a fiber of its own; interrupted, the caller goes on at once and the descriptor, if the open ever
 * succeeds, is closed then.
 */
export const openInterruptibly = (
  fs: FileSystem.FileSystem,
  p: string,
  flag: FileSystem.OpenFlag
): Effect.Effect<FileSystem.File, PlatformError.PlatformError, Scope.Scope> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function* () {
      const own = yield* Scope.make()
      const opening = yield* Effect.forkDaemon(Scope.extend(fs.open(p, { flag }), own))
      const exit = yield* Effect.exit(restore(Fiber.join(opening)))
      if (Exit.isSuccess(exit)) {
        yield* Effect.addFinalizer((end) => Scope.close(own, end))
        return exit.value
      }
      yield* Effect.forkDaemon(Effect.zipRight(Fiber.await(opening), Scope.close(own, Exit.void)))
      return yield* exit
    })
  )
