/**
 * @since 0.1.0
 */
export * as Database from "./Database.js"
/**
 * @since 0.1.0
 */
export * as ExportSync from "./ExportSync.js"
/**
 * @since 0.1.0
 */
export * as Sink from "./Sink.js"
/**
 * @since 0.1.0
 */
export * as SinkError from "./SinkError.js"
/**
 * @since 0.1.0
 */
export * as Sync from "./Sync.js"
/**
 * @since 0.1.0
 */
export * as SyncCluster from "./SyncCluster.js"
/**
 * @since 0.1.0
 */
export * as SyncConfig from "./SyncConfig.js"
