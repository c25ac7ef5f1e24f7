/**
 * `batch-export fetch <export_id> --out-dir <dir>`: waits until the export is `SUCCESS` (showing its status as it
 * changes), downloads every part with the progress display, then prints the manifest.
 *
 * @since 0.1.0
 */
// The next import only lets declaration emit name the error types inside the inferred command type.
import type { ApiError, ClientError, ExportError } from "@batch-export/core"
import type { Export } from "@batch-export/core"
import { ExportFiles, ExportsClient } from "@batch-export/node"
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Client from "../Client.js"
import * as Progress from "../Progress.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface FetchOptions {
  /** How long to wait between two looks at the export. */
  readonly pollInterval: Duration.DurationInput
  /** Give up waiting after this long (the client's default, 2 hours, when absent). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Parts downloaded at once. */
  readonly concurrency: number
}

/**
 * Waits for the export to finish (`ExportsClient.awaitCompletion`), printing `<export id>: <status>` on stderr
 * each time the status changes. Fails with `ExportFailed` when it ends in `ERROR`, `ExportTimeout` past the
 * deadline.
 *
 * @since 0.1.0
 * @category programs
 */
export const awaitShowingStatus = (
  exportId: string,
  options: Pick<FetchOptions, "pollInterval" | "timeout">
): Effect.Effect<Export.Export, ExportsClient.AwaitError, ExportsClient.ExportsClient> =>
  Effect.flatMap(ExportsClient.ExportsClient, (client) => {
    let shown: string | undefined
    return client.awaitCompletion(exportId, {
      pollInterval: options.pollInterval,
      timeout: options.timeout,
      onPoll: (exp) =>
        Effect.suspend(() => {
          if (exp.status === shown) return Effect.void
          shown = exp.status
          return Console.error(`${exp.id}: ${exp.status}`)
        })
    })
  })

/**
 * Waits for the export (see `awaitShowingStatus`), then downloads every part into `directory`
 * (`ExportsClient.downloadAll`: atomic writes, sizes checked against Batch's) with one progress display for all
 * of them.
 *
 * @since 0.1.0
 * @category programs
 */
export const fetchExport = (
  exportId: string,
  directory: string,
  options: FetchOptions
): Effect.Effect<
  ExportFiles.Manifest,
  ExportsClient.AwaitError | ExportFiles.DownloadAllError,
  ExportsClient.ExportsClient | ExportFiles.ExportFiles
> =>
  Effect.gen(function* () {
    const exportFiles = yield* ExportFiles.ExportFiles
    const exp = yield* awaitShowingStatus(exportId, options)
    const files = exp.parts
    const progress = yield* Progress.forFiles(`${exp.id} (${files.length} file${files.length === 1 ? "" : "s"})`, files)
    return yield* exportFiles
      .downloadAll(exp.id, directory, { concurrency: options.concurrency, onProgress: progress.update })
      .pipe(Effect.ensuring(progress.close))
  })

/**
 * The manifest as printed on stdout: one line per file, `<part>\t<path>\t<bytes>`, in part order.
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderManifest = (files: ReadonlyArray<ExportFiles.ManifestEntry>): ReadonlyArray<string> =>
  files.map((file) => `${file.part}\t${file.path}\t${file.bytes}`)

const exportId = Args.text({ name: "export_id" }).pipe(Args.withDescription("The export (export_…)"))

// text, not Options.directory: its existence check dies (a defect) on paths like a-file/sub
const outDir = Options.text("out-dir").pipe(
  Options.withPseudoName("DIR"),
  Options.withDescription("Where to save the parts, as <export id>-part-NNN.json (created if missing)")
)

const pollInterval = Client.seconds("poll-interval", "How long to wait between two looks at the export").pipe(
  Options.withDefault(5)
)

const timeout = Client.seconds("timeout", "Give up when the export is not done after this long (default 2 hours)").pipe(
  Options.optional
)

const concurrency = Client.wholeNumber("concurrency", 1, 64, "Parts downloaded at once").pipe(Options.withDefault(2))

const seconds = (value: number) => Duration.millis(Math.round(value * 1000))

/**
 * `batch-export fetch <export_id> --out-dir DIR [--poll-interval SECONDS] [--timeout SECONDS] [--concurrency N]
 * [--base-url URL] [--api-version V] [--idle-timeout SECONDS]`
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "fetch",
  {
    exportId,
    outDir,
    pollInterval,
    timeout,
    concurrency,
    baseUrl: Client.baseUrl,
    apiVersion: Client.apiVersion,
    idleTimeout: Client.idleTimeout
  },
  ({ concurrency, exportId, outDir, pollInterval, timeout, ...flags }) =>
    fetchExport(exportId, outDir, {
      pollInterval: seconds(pollInterval),
      timeout: Option.getOrUndefined(Option.map(timeout, seconds)),
      concurrency
    }).pipe(
      Effect.flatMap((manifest) =>
        manifest.files.length === 0
          ? Console.error(`${manifest.exportId} has no files`)
          : Console.log(renderManifest(manifest.files).join("\n"))
      ),
      Effect.provide(Client.layer(flags))
    )
).pipe(
  Command.withDescription(
    "Wait for an export to succeed, download all its parts, and print one line per file: part, path, bytes."
  )
)
