/**
 * The programs several commands share: waiting for an export while showing its status, fetching every part of
 * an export, and printing records. Commands import these, never each other.
 *
 * @since 0.1.0
 */
// The next import only lets declaration emit name the error types inside the inferred types.
import type { ApiError, ClientError, ExportError } from "@batch-export/core"
import type { Export } from "@batch-export/core"
import { ExportFiles, ExportsClient } from "@batch-export/node"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { printJson, shown } from "./internal/output.js"
import * as Progress from "./Progress.js"

/**
 * How `fetch`, `records --wait` and `download --wait` wait (`--poll-interval`, `--timeout`).
 *
 * @since 0.1.0
 * @category models
 */
export interface WaitOptions {
  /** How long to wait between two looks at the export. */
  readonly pollInterval: Duration.Duration
  /** Give up waiting after this long (the client's default, 2 hours, when absent). */
  readonly timeout?: Duration.Duration | undefined
}

/**
 * How `fetch` (and the demo) wait for an export and download it.
 *
 * @since 0.1.0
 * @category models
 */
export interface FetchOptions extends WaitOptions {
  /** Parts downloaded at once. */
  readonly concurrency: number
  /** Fail a part larger than this many bytes (`--max-size`). */
  readonly maxBytes?: number | undefined
  /** Skip complete parts and continue partial ones left by an earlier run (off with `--force`). */
  readonly resume?: boolean | undefined
}

const finished = (status: string) => status === "SUCCESS" || status === "ERROR"

/**
 * The status line of an export being waited for, e.g. `export_…: RUNNING, next check in 5s`; the server's
 * status is sanitized (it is shown on a terminal).
 *
 * @since 0.1.0
 * @category rendering
 */
export const statusLine = (exp: Export.Export, pollInterval: Duration.Duration): string => {
  const status = `${exp.id}: ${shown(exp.status)}`
  return finished(exp.status)
    ? status
    : `${status}, next check in ${Progress.formatSeconds(Duration.toSeconds(pollInterval))}`
}

/**
 * Waits for the export to finish (`ExportsClient.awaitCompletion`), showing on stderr its status and when the
 * next check is: a line each time the status changes, or on a terminal one line redrawn at each check. Fails
 * with `ExportFailed` when it ends in `ERROR`, `ExportTimeout` past the deadline.
 *
 * @since 0.1.0
 * @category programs
 */
export const awaitShowingStatus = (
  exportId: string,
  options: WaitOptions
): Effect.Effect<Export.Export, ExportsClient.AwaitError, ExportsClient.ExportsClient> =>
  Effect.gen(function* () {
    const client = yield* ExportsClient.ExportsClient
    const style = yield* Progress.ProgressStyle
    let shownStatus: string | undefined
    let openLine = false
    const onPoll = (exp: Export.Export): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (style === "off") return Effect.void
        if (style === "redraw") {
          openLine = !finished(exp.status)
          const line = statusLine(exp, options.pollInterval)
          return Effect.sync(() => {
            process.stderr.write(`\r\x1b[2K${line}${openLine ? "" : "\n"}`)
          })
        }
        if (exp.status === shownStatus) return Effect.void
        shownStatus = exp.status
        return Console.error(statusLine(exp, options.pollInterval))
      })
    return yield* client
      .awaitCompletion(exportId, { pollInterval: options.pollInterval, timeout: options.timeout, onPoll })
      .pipe(
        Effect.ensuring(
          Effect.sync(() => {
            if (openLine) process.stderr.write("\n")
          })
        )
      )
  })

/** `ExportsClient.awaitCompletion`'s deadline when none is given, for the waits that cannot use it. */
const defaultTimeout = Duration.hours(2)

/**
 * Waits until Batch gives a link to the file: while `/exports/download` answers 409 (its export is not
 * `SUCCESS` yet: a file id alone does not name its export, so it cannot be viewed), asks again every
 * `pollInterval`, saying so once on stderr; past `timeout` (2 hours by default, as for an export) the last 409
 * is the failure. Any other failure ends the wait at once.
 *
 * @since 0.1.0
 * @category programs
 */
export const awaitFile = (
  fileId: string,
  options: WaitOptions
): Effect.Effect<void, ExportsClient.DownloadLinkError, ExportsClient.ExportsClient> =>
  Effect.gen(function* () {
    const client = yield* ExportsClient.ExportsClient
    const style = yield* Progress.ProgressStyle
    let told = false
    const tell = Effect.suspend(() => {
      if (style === "off" || told) return Effect.void
      told = true
      const next = Progress.formatSeconds(Duration.toSeconds(options.pollInterval))
      return Console.error(`${fileId}: its export is not done (409), checking again every ${next}`)
    })
    yield* client.downloadLink(fileId).pipe(
      Effect.tapError((error) => (error._tag === "Conflict" ? tell : Effect.void)),
      Effect.retry({
        schedule: Schedule.spaced(options.pollInterval).pipe(Schedule.upTo(options.timeout ?? defaultTimeout)),
        while: (error) => error._tag === "Conflict"
      })
    )
  })

/**
 * Waits for the export (see `awaitShowingStatus`), then downloads every part into `directory`
 * (`ExportFiles.downloadAll`: atomic writes, sizes checked against Batch's) with one progress display for all of
 * them.
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
    const files = yield* ExportFiles.ExportFiles
    const exp = yield* awaitShowingStatus(exportId, options)
    const parts = exp.parts
    const progress = yield* Progress.forFiles(`${exp.id} (${parts.length} file${parts.length === 1 ? "" : "s"})`, parts)
    return yield* files
      .downloadAll(exp.id, directory, {
        concurrency: options.concurrency,
        maxBytes: options.maxBytes,
        resume: options.resume,
        onProgress: progress.update
      })
      .pipe(Effect.ensuring(progress.close))
  })

/**
 * Prints records as NDJSON on stdout (exact JSON, never sanitized; see `jsonText`), at most `limit` of them: once the last one
 * wanted has arrived, the stream ends, which closes its connection (nothing more is downloaded).
 *
 * @since 0.1.0
 * @category programs
 */
export const printRecords = <E, R>(
  records: Stream.Stream<unknown, E, R>,
  limit: Option.Option<number>
): Effect.Effect<void, E, R> => {
  const wanted = Option.match(limit, { onNone: () => records, onSome: (n) => Stream.take(records, n) })
  return Stream.runForEach(wanted, printJson)
}
