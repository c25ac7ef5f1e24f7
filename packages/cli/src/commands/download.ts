/**
 * `batch-export download <file_id> --out <path|dir|->`: one export file through `ExportFiles.downloadToFile`
 * (or, to stdout, `ExportsClient.download`), with the credentials read from the environment (never from the
 * command line).
 *
 * @since 0.1.0
 */
// The next import only lets declaration emit name the error types inside the inferred command type.
import type { ApiError, ClientError, ExportError } from "@batch-export/core"
import type { ExportFiles, ExportsClient } from "@batch-export/node"
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Flags from "../Flags.js"
import { lazily } from "../internal/lazy.js"

const fileId = Args.text({ name: "file_id" }).pipe(
  Args.withDescription("The file to download (`files[].id` of a SUCCESS export, e.g. file_…)")
)

// text, not Options.file: its existence check dies (a defect) on paths like a-file/x.json
const out = Options.text("out").pipe(
  Options.withAlias("o"),
  Options.withPseudoName("PATH"),
  Options.withDescription(
    "A path (written atomically), a directory or a path ending in / (saved as <file_id>.json in it), a device " +
      "or FIFO, or - for stdout"
  )
)

const force = Options.boolean("force").pipe(
  Options.withDescription(
    "Download the file again from byte 0 (without it, a re-run continues what an interrupted run kept, as fetch does)"
  )
)

const createDirs = Options.boolean("create-dirs").pipe(
  Options.withDescription("Create the missing parent directories of --out (without it, they are an error)")
)

/**
 * `batch-export download <file_id> --out <path|dir|-> [--create-dirs] [--force] [--wait] [--poll-interval DURATION]
 * [--timeout DURATION] [--max-size SIZE] [--quiet] [--json]
 * [--base-url URL] [--api-version V] [--idle-timeout DURATION]`
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
    force,
    wait: Flags.wait,
    pollInterval: Flags.pollInterval,
    timeout: Flags.timeout,
    maxSize: Flags.maxSize,
    quiet: Flags.quiet,
    json: Flags.json,
    baseUrl: Flags.baseUrl,
    apiVersion: Flags.apiVersion,
    idleTimeout: Flags.idleTimeout
  },
  (config) =>
    lazily(
      () => import("../internal/handlers/download.js"),
      (handler) => handler.download(config)
    )
).pipe(
  Command.withDescription(
    "Download one export file. Credentials come from BATCH_REST_API_KEY and BATCH_PROJECT_KEY in the environment."
  )
)
