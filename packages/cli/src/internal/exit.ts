/**
 * The exit codes and the usage error, without what `Failure.report` needs to describe errors (the client
 * library): the process entry and the command tree load this at start-up, `Failure` only when a command fails.
 *
 * @internal
 * @since 0.1.0
 */
import * as ValidationError from "@effect/cli/ValidationError"
import * as Cause from "effect/Cause"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * @internal
 * @since 0.1.0
 * @category models
 */
export const ExitCode = {
  success: 0,
  /** A command failed (HTTP error, transport, configuration, file…): trying later may help. */
  failure: 1,
  /**
   * The command line did not parse (@effect/cli has printed why), or the client refused a value it gave
   * (`InvalidArgument`: a malformed id, date or flag value): fix the command, retrying will not help.
   */
  usage: 2,
  /** Batch refused the REST API key (HTTP 401): fix the key, retrying will not help. */
  unauthorized: 3,
  /** Hung up (SIGHUP): 128 + 1, cleaned up as after Ctrl-C. */
  hangup: 129,
  /** Interrupted (Ctrl-C, SIGINT): 128 + 2. */
  interrupted: 130,
  /** Terminated (SIGTERM): 128 + 15, cleaned up as after Ctrl-C. */
  terminated: 143
} as const

/**
 * @internal
 * @since 0.1.0
 * @category models
 */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/**
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const exitCodesHelp: ReadonlyArray<string> = [
  "0    success (also when stdout is closed early, as by `| head`)",
  "1    failure: HTTP error, network, configuration, file (trying later may help)",
  "2    usage: the command line did not parse, a value in it was refused (InvalidArgument), or a sync config is bad",
  "3    authentication: Batch refused the REST API key (HTTP 401)",
  "129  hung up (SIGHUP), 130 interrupted (Ctrl-C, SIGINT), 143 terminated (SIGTERM): no incomplete file at the destination (what was received is kept to resume)"
]

/**
 * @internal
 * @since 0.1.0
 * @category errors
 */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", { message: Schema.String }) {}

/**
 * Executions of `batch-export sync` failed (each is reported in its output). `unauthorized`: every failure was
 * Batch refusing a REST key (exit 3); otherwise exit 1.
 *
 * @internal
 * @since 0.1.0
 * @category errors
 */
export class SyncFailed extends Schema.TaggedError<SyncFailed>()("SyncFailed", {
  failed: Schema.Number,
  total: Schema.Number,
  unauthorized: Schema.Boolean
}) {
  override get message(): string {
    return `${this.failed} of ${this.total} sync executions failed`
  }
}

const tagOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string"
    ? error._tag
    : undefined

/**
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const exitCodeOf = (cause: Cause.Cause<unknown>): ExitCode => {
  if (Cause.isInterruptedOnly(cause)) return ExitCode.interrupted
  return Option.match(Cause.failureOption(cause), {
    onSome: (error) =>
      // `InvalidArgument` is the client refusing what the command line gave it, before any request; a sync
      // configuration that cannot be used starts nothing either
      ValidationError.isValidationError(error) ||
      error instanceof UsageError ||
      tagOf(error) === "InvalidArgument" ||
      tagOf(error) === "SyncConfigError" ||
      // a node started with another shard count than its cluster's: a bad flag
      (tagOf(error) === "ClusterError" && Predicate.hasProperty(error, "reason") && error.reason === "shards")
        ? ExitCode.usage
        : tagOf(error) === "Unauthorized" || (error instanceof SyncFailed && error.unauthorized)
          ? ExitCode.unauthorized
          : ExitCode.failure,
    onNone: () => ExitCode.failure
  })
}
