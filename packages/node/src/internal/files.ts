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
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
/** Where bytes go: atomically through a temporary file, or straight into a special file. */
export type Target =
  { readonly _tag: "Atomic"; readonly path: string } | { readonly _tag: "InPlace"; readonly path: string }

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
    if (Option.isSome(info) && info.value.type === "Directory") {
      destination = path.join(destination, `${options.fileId}.json`)
      info = yield* stat(destination)
    }
    if (Option.isSome(info)) {
      if (info.value.type === "File") return { _tag: "Atomic", path: destination }
      if (info.value.type === "Directory") {
        return yield* new ClientError.FileWriteError({ path: destination, detail: "it is a directory" })
      }
      // never rename over a device or a FIFO: it would become a regular file holding the export
      return { _tag: "InPlace", path: destination }
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
export const resumableNames = (path: Path.Path, destination: string) => {
  const partial = hidden(path, destination, ".partial", STATE_SUFFIX.length)
  return { partial, state: `${partial}${STATE_SUFFIX}` }
}

const STATE_SUFFIX = ".state"

/** `.<name><suffix>` beside `destination`, the name shortened (by whole characters) to fit `NAME_MAX`. */
const hidden = (path: Path.Path, destination: string, suffix: string, reserve: number): string => {
  const budget = NAME_MAX - 1 - suffix.length - reserve
  let name = path.basename(destination)
  while (Buffer.byteLength(name) > budget) name = name.slice(0, -1)
  return path.join(path.dirname(destination), `.${name}${suffix}`)
}

/** The identity of a kept partial download. */
export const State = Schema.parseJson(Schema.Struct({ fileId: Schema.String, etag: Schema.String }))
