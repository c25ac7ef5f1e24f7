/**
 * `POST /profiles/export`: the three documented kinds of profile export.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { ExportId } from "./Ids.js"

const Names = Schema.Array(Schema.NonEmptyString)

/**
 * A snapshot of profile attributes. At least one of `attributes` or `identifiers` must be given.
 *
 * @since 0.1.0
 * @category models
 */
export const AttributesExport = Schema.Struct({
  export_type: Schema.Literal("ATTRIBUTES"),
  /** `$native` or custom attribute names. */
  attributes: Schema.optional(Schema.NonEmptyArray(Schema.NonEmptyString)),
  /** e.g. `["custom_id", "installation_ids"]`. */
  identifiers: Schema.optional(Names),
  filter: Schema.optional(Schema.Struct({ segment: Schema.NonEmptyString }))
}).pipe(
  Schema.filter(
    (request) =>
      (request.attributes?.length ?? 0) > 0 ||
      (request.identifiers?.length ?? 0) > 0 ||
      "an ATTRIBUTES export needs at least one attribute or identifier"
  )
)

/**
 * @since 0.1.0
 * @category models
 */
export type AttributesExport = typeof AttributesExport.Type

const window = {
  /** Start of the window, RFC 3339 (Batch keeps 90 days of history). */
  from: Schema.optional(Schema.DateTimeUtc),
  /** End of the window, RFC 3339. */
  to: Schema.optional(Schema.DateTimeUtc)
}

const windowInOrder = <
  A extends { readonly from?: { epochMillis: number } | undefined; readonly to?: { epochMillis: number } | undefined }
>(
  request: A
) =>
  request.from === undefined ||
  request.to === undefined ||
  request.from.epochMillis <= request.to.epochMillis ||
  "from must not be after to"

/**
 * Profile events over a window (90-day lookback). Field names beyond `export_type` are not documented in
 * anything we could read; `from`/`to` follow the rest of Batch's API.
 *
 * @since 0.1.0
 * @category models
 */
export const EventsExport = Schema.Struct({
  export_type: Schema.Literal("EVENTS"),
  ...window,
  events: Schema.optional(Names),
  identifiers: Schema.optional(Names),
  filter: Schema.optional(Schema.Struct({ segment: Schema.NonEmptyString }))
}).pipe(Schema.filter(windowInOrder))

/**
 * @since 0.1.0
 * @category models
 */
export type EventsExport = typeof EventsExport.Type

/**
 * Opt-in/opt-out history per channel (available since 2024-10-10, 90-day lookback).
 *
 * @since 0.1.0
 * @category models
 */
export const ReachabilityExport = Schema.Struct({
  export_type: Schema.Literal("REACHABILITY"),
  ...window,
  identifiers: Schema.optional(Names),
  filter: Schema.optional(Schema.Struct({ segment: Schema.NonEmptyString }))
}).pipe(Schema.filter(windowInOrder))

/**
 * @since 0.1.0
 * @category models
 */
export type ReachabilityExport = typeof ReachabilityExport.Type

/**
 * Any create request. Encoding it gives the JSON body Batch expects (dates as RFC 3339 strings).
 *
 * @since 0.1.0
 * @category models
 */
export const CreateExportRequest = Schema.Union(AttributesExport, EventsExport, ReachabilityExport)

/**
 * @since 0.1.0
 * @category models
 */
export type CreateExportRequest = typeof CreateExportRequest.Type

/**
 * The create request as plain JSON input (what a user or the CLI writes).
 *
 * @since 0.1.0
 * @category models
 */
export type CreateExportRequestInput = typeof CreateExportRequest.Encoded

/**
 * The 202 answer: the id of the new export.
 *
 * @since 0.1.0
 * @category models
 */
export const CreatedExport = Schema.Struct({ id: ExportId })

/**
 * @since 0.1.0
 * @category models
 */
export type CreatedExport = typeof CreatedExport.Type
