/**
 * The status of an export request.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
/**
 * The five statuses Batch documents.
 *
 * @since 0.1.0
 * @category models
 */
export const KnownStatus = Schema.Literal("CREATED", "PENDING", "RUNNING", "SUCCESS", "ERROR")

/**
 * @since 0.1.0
 * @category models
 */
export type KnownStatus = typeof KnownStatus.Type

/**
 * A status Batch may add later: kept as it was sent rather than failing the decode.
 *
 * @since 0.1.0
 * @category models
 */
export const UnknownStatus = Schema.String.pipe(Schema.brand("UnknownStatus"))

/**
 * @since 0.1.0
 * @category models
 */
export type UnknownStatus = typeof UnknownStatus.Type

/**
 * A documented status, or any other string preserved as an `UnknownStatus`.
 *
 * @since 0.1.0
 * @category models
 */
export const ExportStatus = Schema.Union(KnownStatus, UnknownStatus)

/**
 * @since 0.1.0
 * @category models
 */
export type ExportStatus = typeof ExportStatus.Type

/**
 * Whether the export will not change any more (`SUCCESS` or `ERROR`).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isTerminal = (status: ExportStatus): boolean => status === "SUCCESS" || status === "ERROR"

/**
 * @since 0.1.0
 * @category predicates
 */
export const isKnown = (status: ExportStatus): status is KnownStatus => Schema.is(KnownStatus)(status)
