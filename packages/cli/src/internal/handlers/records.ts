/**
 * What `batch-export records` does once its command line parsed (loaded only then, see `lazily`).
 *
 * @internal
 * @since 0.1.0
 */
// ExportError only lets declaration emit name the error types inside the inferred types.
import type { ExportError, Records } from "@batch-export/core"
import { ExportsClient } from "@batch-export/node"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Stream from "effect/Stream"
import * as Client from "../../Client.js"
import { awaitFile, awaitShowingStatus, printRecords } from "../../Programs.js"
import type { Source } from "../recordsId.js"

/**
 * The records of an export, every part in order (`ExportsClient.records`), or of one file
 * (`ExportsClient.fileRecords`).
 *
 * @internal
 * @since 0.1.0
 * @category programs
 */
export const recordsOf = (
  source: Source,
  id: string
): Effect.Effect<
  Stream.Stream<Records.ProfileRecord, ExportsClient.RecordsError>,
  never,
  ExportsClient.ExportsClient
> =>
  Effect.map(ExportsClient.ExportsClient, (client) =>
    source === "export" ? client.records(id) : client.fileRecords(id)
  )

/**
 * The parsed command line of `records`.
 *
 * @internal
 * @since 0.1.0
 * @category models
 */
export interface Config extends Client.Overrides {
  readonly id: string
  readonly limit: Option.Option<number>
  readonly wait: boolean
  readonly pollInterval: Duration.Duration
  readonly timeout: Option.Option<Duration.Duration>
  readonly json: boolean
  readonly idleTimeout: Option.Option<Duration.Duration>
}

/**
 * Prints the records as NDJSON, at most `--limit` of them; with `--wait`, once the export is done (an export id:
 * `awaitShowingStatus`, as `fetch`; a file id: `awaitFile`).
 *
 * @internal
 * @since 0.1.0
 * @category programs
 */
export const records = (source: Source, { id, json: _json, limit, pollInterval, timeout, wait, ...flags }: Config) => {
  const waiting = { pollInterval, timeout: Option.getOrUndefined(timeout) }
  const ready: Effect.Effect<
    void,
    ExportsClient.AwaitError | ExportsClient.DownloadLinkError,
    ExportsClient.ExportsClient
  > = !wait
    ? Effect.void
    : source === "export"
      ? Effect.asVoid(awaitShowingStatus(id, waiting))
      : awaitFile(id, waiting)
  return ready.pipe(
    Effect.zipRight(recordsOf(source, id)),
    Effect.flatMap((records) => printRecords(records, limit)),
    Effect.provide(Client.layer(flags))
  )
}
