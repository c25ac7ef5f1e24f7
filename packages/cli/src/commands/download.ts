/**
 * `batch-export download <file_id> --out <path|dir|->`: one export file through `ExportFiles.downloadToFile`
 * (or, to stdout, `ExportsClient.download`), with the credentials read from the environment (never from the
 * command line).
 *
 * @since 0.1.0
 */
// The next import only lets declaration emit name the error types inside the inferred command type.
import type { ApiError, ClientError, ExportError } from "@batch-export/core"
import { ExportFiles, ExportsClient } from "@batch-export/node"
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
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
      "directory (saved as <file_id>.json inside it), a device or FIFO (written in place), or - for stdout"
  )
)

const createDirs = Options.boolean("create-dirs").pipe(
  Options.withDescription("Create the missing parent directories of --out (without it, they are an error)")
)

/** `--out -`: the bytes on stdout as they arrive; progress (without a total) on stderr. */
const toStdout = (fileId: string, maxBytes: number | undefined, progress: Progress.Tracker) =>
  Effect.flatMap(ExportsClient.ExportsClient, (client) => {
    let bytes = 0
    return client.download(fileId, { maxBytes }).pipe(
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
  })

/**
 * `batch-export download <file_id> --out <path|dir|-> [--create-dirs] [--max-size BYTES] [--quiet] [--json]
 * [--base-url URL] [--api-version V] [--idle-timeout SECONDS]`
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
    maxSize: Flags.maxSize,
    quiet: Flags.quiet,
    json: Flags.json,
    baseUrl: Flags.baseUrl,
    apiVersion: Flags.apiVersion,
    idleTimeout: Flags.idleTimeout
  },
  ({ createDirs, fileId, json, maxSize, out, quiet, ...flags }) =>
    Effect.gen(function* () {
      const maxBytes = Option.getOrUndefined(maxSize)
      const progress = yield* Progress.make(fileId)
      if (out === "-") return yield* toStdout(fileId, maxBytes, progress)
      const files = yield* ExportFiles.ExportFiles
      // the destination rules (an existing directory, a device, a missing parent) are the library's
      const saved = yield* files
        .downloadToFile(fileId, out, { onProgress: progress.update, createDirectories: createDirs, maxBytes })
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
