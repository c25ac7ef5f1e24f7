/**
 * What `batch-export records` does once its command line parsed (loaded only then, see `lazily`).
 *
 * @internal
 * @since 0.1.0
 */
import { ExportsClient } from "@batch-export/node"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as Client from "../../Client.js"
import { recordsOf } from "../../commands/records.js"
import { printRecords } from "../../Programs.js"

/**
 * The records of an export, every part in order (`ExportsClient.records`).
 *
 * @internal
 * @since 0.1.0
 * @category programs
 */
export const exportRecords = (exportId: string) =>
  Effect.map(ExportsClient.ExportsClient, (client) => client.records(exportId))

/**
 * The records of one file (`ExportsClient.fileRecords`).
 *
 * @internal
 * @since 0.1.0
 * @category programs
 */
export const fileRecords = (fileId: string) =>
  Effect.map(ExportsClient.ExportsClient, (client) => client.fileRecords(fileId))

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
export const records = ({ id, json: _json, limit, ...flags }: Config) =>
  Effect.flatMap(recordsOf(id), (records) => printRecords(records, limit)).pipe(Effect.provide(Client.layer(flags)))
