/**
 * @since 0.1.0
 */
export * as ApiError from "./ApiError.js"
/**
 * @since 0.1.0
 */
export * as BatchErrorBody from "./BatchErrorBody.js"
/**
 * @since 0.1.0
 */
export * as ClientError from "./ClientError.js"
/**
 * @since 0.1.0
 */
export * as DownloadLink from "./DownloadLink.js"
/**
 * @since 0.1.0
 */
export * as Ids from "./Ids.js"
/**
 * @since 0.1.0
 */
export * as Redaction from "./Redaction.js"
/**
 * @since 0.1.0
 */
export * as RetryAfter from "./RetryAfter.js"
/**
 * @since 0.1.0
 */
export * as CreateExport from "./CreateExport.js"
/**
 * @since 0.1.0
 */
export * as Export from "./Export.js"
/**
 * @since 0.1.0
 */
export * as ExportStatus from "./ExportStatus.js"
/**
 * @since 0.1.0
 */
export * as Records from "./Records.js"
/**
 * @since 0.1.0
 */
export * as ExportError from "./ExportError.js"
/**
 * @since 0.1.0
 */
export * as Gzip from "./Gzip.js"
