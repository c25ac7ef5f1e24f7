/**
 * What `batch-export records` does once its command line parsed (loaded only then, see `lazily`).
 *
 * @internal
 * @since 0.1.0
 */
import type { Records } from "@batch-export/core"
import { ExportsClient } from "@batch-export/node"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Stream from "effect/Stream"
import * as Client from "../../Client.js"
import { printRecords } from "../../Programs.js"
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
  readonly json: boolean
  readonly idleTimeout: Option.Option<Duration.Duration>
}

/**
 * Prints the records as NDJSON, at most `--limit` of them.
 *
 * @internal
 * @since 0.1.0
 * @category programs
 */
export const records = (source: Source, { id, json: _json, limit, ...flags }: Config) =>
  Effect.flatMap(recordsOf(source, id), (records) => printRecords(records, limit)).pipe(
    Effect.provide(Client.layer(flags))
  )
