/**
 * `batch-export download <file_id> --out <path|dir|->`: one export file, with the credentials read from the
 * environment (never from the command line).
 *
 * @since 0.1.0
 */
// The next import only lets declaration emit name the error types inside the inferred command type.
import type { ApiError, ClientError as _ClientError, ExportError } from "@batch-export/core"
import { ClientError } from "@batch-export/core"
import { ExportsClient } from "@batch-export/node"
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Client from "../Client.js"
import * as Flags from "../Flags.js"
import { printJson, writeStdout } from "../internal/output.js"
import * as Progress from "../Progress.js"

const fileId = Args.text({ name: "file_id" }).pipe(
  Args.withDescription("The file to download (`files[].id` of a SUCCESS export, e.g. file_…)")
)

// text, not Options.file: its existence check dies (a defect) on paths like a-file/x.json
const out = Options.text("out").pipe(
  Options.withAlias("o"),
  Options.withPseudoName("PATH"),
  Options.withDescription(
    "Where to save the file: a path (written atomically: nothing is left there on failure), an existing " +
      "directory (saved as <file_id>.json inside it), or - for stdout"
  )
)

const createDirs = Options.boolean("create-dirs").pipe(
  Options.withDescription("Create the missing parent directories of --out (without it, they are an error)")
)

/**
 * Where the file goes, checked before the first byte is asked for: an existing directory means
 * `<dir>/<file_id>.json`; a missing parent directory is a `FileWriteError`, or is created with `createDirs`.
 *
 * @since 0.1.0
 * @category programs
 */
export const destination = (
  out: string,
  fileId: string,
  createDirs: boolean
): Effect.Effect<string, ClientError.FileWriteError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const info = yield* Effect.option(fs.stat(out))
    if (Option.isSome(info) && info.value.type === "Directory") return path.join(out, `${fileId}.json`)
    const parent = path.dirname(path.resolve(out))
    const parentInfo = yield* Effect.option(fs.stat(parent))
    if (Option.isSome(parentInfo)) return out
    if (!createDirs) {
      return yield* new ClientError.FileWriteError({
        path: out,
        detail: `the directory ${parent} does not exist (--create-dirs creates it)`
      })
    }
    yield* fs
      .makeDirectory(parent, { recursive: true })
      .pipe(Effect.mapError((error) => new ClientError.FileWriteError({ path: out, detail: error.message })))
    return out
  })

/**
 * `batch-export download <file_id> --out <path|dir|-> [--create-dirs] [--quiet] [--json] [--base-url URL]
 * [--api-version V] [--idle-timeout SECONDS]`
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "download",
  {
    fileId,
    out,
    createDirs,
    quiet: Flags.quiet,
    json: Flags.json,
    baseUrl: Flags.baseUrl,
    apiVersion: Flags.apiVersion,
    idleTimeout: Flags.idleTimeout
  },
  ({ createDirs, fileId, json, out, quiet, ...flags }) =>
    Effect.gen(function* () {
      const client = yield* ExportsClient.ExportsClient
      const progress = yield* Progress.make(fileId)
      if (out === "-") {
        let bytes = 0
        yield* client.download(fileId).pipe(
          Stream.runForEach((chunk) =>
            Effect.zipRight(
              writeStdout(chunk),
              Effect.suspend(() => {
                bytes += chunk.length
                return progress.update({ bytes, total: Option.none() })
              })
            )
          ),
          Effect.ensuring(progress.close)
        )
        return
      }
      const path = yield* destination(out, fileId, createDirs)
      const saved = yield* client
        .downloadToFile(fileId, path, { onProgress: progress.update })
        .pipe(Effect.ensuring(progress.close))
      yield* json
        ? printJson({ fileId: saved.fileId, path: saved.path, bytes: saved.bytes })
        : Console.log(`saved ${saved.bytes} bytes to ${saved.path}`)
    }).pipe(Progress.quietly(quiet), Effect.provide(Client.layer(flags)))
).pipe(
  Command.withDescription(
    "Download one export file. Credentials come from BATCH_REST_API_KEY and BATCH_PROJECT_KEY in the environment."
  )
)
