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
 * The client the commands use: the environment's configuration, overridden by the flags.
 *
 * @since 0.1.0
 */
export * as Client from "./Client.js"

/**
 * The flags shared by the commands, and the builders for the others.
 *
 * @since 0.1.0
 */
export * as Flags from "./Flags.js"

/**
 * The programs several commands share (waiting for an export, fetching it, printing records).
 *
 * @since 0.1.0
 */
export * as Programs from "./Programs.js"

/**
 * The download progress display.
 *
 * @since 0.1.0
 */
export * as Progress from "./Progress.js"

/**
 * `batch-export create`.
 *
 * @since 0.1.0
 */
export * as CreateCommand from "./commands/create.js"

/**
 * `batch-export view`.
 *
 * @since 0.1.0
 */
export * as ViewCommand from "./commands/view.js"

/**
 * `batch-export list`.
 *
 * @since 0.1.0
 */
export * as ListCommand from "./commands/list.js"

/**
 * `batch-export fetch`.
 *
 * @since 0.1.0
 */
export * as FetchCommand from "./commands/fetch.js"

/**
 * `batch-export records`.
 *
 * @since 0.1.0
 */
export * as RecordsCommand from "./commands/records.js"

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

/**
 * `batch-export sync` and `sync status`.
 *
 * @since 0.1.0
 */
export * as SyncCommand from "./commands/sync.js"
