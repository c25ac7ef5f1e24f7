/**
 * Exports as `GET /exports/view` and `GET /exports/list` describe them.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { ExportStatus } from "./ExportStatus.js"
import { ExportId, FileId } from "./Ids.js"

/**
 * One output file of an export (at most 100 MB each; an export may have several parts).
 *
 * @since 0.1.0
 * @category models
 */
export class ExportFile extends Schema.Class<ExportFile>("ExportFile")({
  id: FileId,
  /** 1-based part number: files are concatenated in part order. */
  part: Schema.Int,
  /** Size in bytes. */
  size: Schema.NonNegativeInt,
  /** Batch's `/exports/download` URL for this file (needs credentials; not the signed link). */
  url: Schema.String
}) {}

/**
 * An export request and its state. Only `id`, `scope` and `status` are required: Batch's own schema lists
 * a `requested_at` that its responses name `request_date`, and dates and files only exist from some
 * statuses on.
 *
 * @since 0.1.0
 * @category models
 */
export class Export extends Schema.Class<Export>("Export")({
  id: ExportId,
  /** `PROFILE_ATTRIBUTES` in every documented example; kept open. */
  scope: Schema.String,
  status: ExportStatus,
  requestDate: Schema.optional(Schema.DateTimeUtc).pipe(Schema.fromKey("request_date")),
  startDate: Schema.optional(Schema.DateTimeUtc).pipe(Schema.fromKey("start_date")),
  completionDate: Schema.optional(Schema.DateTimeUtc).pipe(Schema.fromKey("completion_date")),
  files: Schema.optionalWith(Schema.Array(ExportFile), { default: () => [] }),
  /** The creation body, echoed back. */
  request: Schema.optional(Schema.Unknown)
}) {
  /**
   * The files sorted by part number.
   *
   * @since 0.1.0
   */
  get parts(): ReadonlyArray<ExportFile> {
    return [...this.files].sort((a, b) => a.part - b.part)
  }
}

/**
 * One page of `GET /exports/list`.
 *
 * @since 0.1.0
 * @category models
 */
export class ExportPage extends Schema.Class<ExportPage>("ExportPage")({
  exports: Schema.Array(Export),
  /** The number of exports in this page. */
  count: Schema.optional(Schema.NonNegativeInt),
  hasMore: Schema.Boolean.pipe(Schema.propertySignature, Schema.fromKey("has_more")),
  /** The cursor for the next page, when there is one. */
  nextFrom: Schema.optional(Schema.String).pipe(Schema.fromKey("next_from"))
}) {}

/**
 * `GET /exports/list` query: `limit` is 1 to 100 (Batch's default is 10), `from` a cursor from `nextFrom`.
 *
 * @since 0.1.0
 * @category models
 */
export const ListOptions = Schema.Struct({
  limit: Schema.optional(Schema.Int.pipe(Schema.between(1, 100, { message: () => "limit must be between 1 and 100" }))),
  from: Schema.optional(Schema.NonEmptyString)
})

/**
 * @since 0.1.0
 * @category models
 */
export type ListOptions = typeof ListOptions.Type
