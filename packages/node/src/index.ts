/**
 * @since 0.1.0
 */
export * as BatchConfig from "./BatchConfig.js"
/**
 * @since 0.1.0
 */
export * as BatchExport from "./BatchExport.js"
/**
 * @since 0.1.0
 */
export * as ExportFiles from "./ExportFiles.js"
/**
 * @since 0.1.0
 */
export * as ExportsClient from "./ExportsClient.js"
/**
 * @since 0.1.0
 */
export * as ExportWorkflow from "./ExportWorkflow.js"
/**
 * @since 0.2.0
 */
export * as HttpTransport from "./HttpTransport.js"
/**
 * @since 0.1.0
 */
export * as RetrySchedule from "./RetrySchedule.js"
/**
 * @since 0.2.0
 */
export * as ZlibInflater from "./ZlibInflater.js"
