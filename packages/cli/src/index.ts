/**
 * The `batch-export` command tree and `run`.
 *
 * @since 0.1.0
 */
export * as Cli from "./Cli.js"

/**
 * One-line failure reports and exit codes.
 *
 * @since 0.1.0
 */
export * as Failure from "./Failure.js"

/**
 * The download progress display.
 *
 * @since 0.1.0
 */
export * as Progress from "./Progress.js"

/**
 * `batch-export download`.
 *
 * @since 0.1.0
 */
export * as DownloadCommand from "./commands/download.js"

/**
 * `batch-export emulator`.
 *
 * @since 0.1.0
 */
export * as EmulatorCommand from "./commands/emulator.js"

/**
 * `batch-export demo`.
 *
 * @since 0.1.0
 */
export * as DemoCommand from "./commands/demo.js"
