/**
 * @since 0.1.0
 */
export * as BatchConfig from "./BatchConfig.js"
/**
 * @since 0.1.0
 */
export * as ExportsClient from "./ExportsClient.js"
/**
 * @since 0.1.0
 */
export * as RetrySchedule from "./RetrySchedule.js"
/**
 * @since 0.1.0
 */
export * as ExportWorkflow from "./ExportWorkflow.js"
