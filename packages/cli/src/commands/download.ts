/**
 * `batch-export download <file_id> --out <path>`: one export file, through `ExportFiles.downloadToFile`,
 * with the credentials read from the environment (never from the command line).
 *
 * @since 0.1.0
 */
import { ExportFiles } from "@batch-export/node"
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Client from "../Client.js"
import * as Progress from "../Progress.js"

const fileId = Args.text({ name: "file_id" }).pipe(
  Args.withDescription("The file to download (`files[].id` of a SUCCESS export, e.g. file_…)")
)

// text, not Options.file: its existence check dies (a defect) on paths like a-file/x.json
const out = Options.text("out").pipe(
  Options.withAlias("o"),
  Options.withPseudoName("PATH"),
  Options.withDescription("Where to save the file (written atomically: nothing is left there on failure)")
)

/**
 * `batch-export download <file_id> --out <path> [--base-url URL] [--api-version V] [--idle-timeout SECONDS]`
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "download",
  { fileId, out, baseUrl: Client.baseUrl, apiVersion: Client.apiVersion, idleTimeout: Client.idleTimeout },
  ({ fileId, out, ...flags }) =>
    Effect.gen(function* () {
      const exportFiles = yield* ExportFiles.ExportFiles
      const progress = yield* Progress.make(fileId)
      const saved = yield* exportFiles
        .downloadToFile(fileId, out, { onProgress: progress.update })
        .pipe(Effect.ensuring(progress.close))
      yield* Console.log(`saved ${saved.bytes} bytes to ${saved.path}`)
    }).pipe(Effect.provide(Client.layer(flags)))
).pipe(
  Command.withDescription(
    "Download one export file. Credentials come from BATCH_REST_API_KEY and BATCH_PROJECT_KEY in the environment."
  )
)
