/**
 * The command-line flags shared by the commands, and the generic builders for the others. A duration is given
 * in seconds (`30`, `0.5`) or with units (`500ms`, `2m`, `1h30m`) and turned into a `Duration` here, once; a size
 * in bytes, with an optional 1024-based unit (`512K`, `100M`, `1GiB`).
 *
 * Numbers are checked by the rules the environment's settings follow (`BatchConfig.checks`): decimal digits
 * only, with a fraction for seconds — `0x10`, `1e3` or `-1` are refused by a flag as by a variable.
 *
 * @since 0.1.0
 */
import type { BatchConfig } from "@batch-export/node"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"

/**
 * Seconds (a flag's value) as a `Duration`, to the millisecond.
 *
 * @since 0.1.0
 * @category combinators
 */
export const toDuration = (seconds: number): Duration.Duration => Duration.millis(Math.round(seconds * 1000))

type Checks = typeof BatchConfig.checks

/**
 * A flag's text checked by one of the client's rules, its failure named by the flag. The client is loaded only
 * when such a flag is given: `--help` and parsing other flags never load it.
 */
const checked = <A>(name: string, check: (checks: Checks) => (value: unknown) => Either.Either<A, string>) =>
  Options.mapEffect((text: string) =>
    Effect.flatMap(
      Effect.promise(() => import("@batch-export/node")),
      ({ BatchConfig }): Effect.Effect<A, ValidationError.ValidationError> =>
        Either.mapLeft(check(BatchConfig.checks)(text), (detail) =>
          ValidationError.invalidValue(HelpDoc.p(`--${name} ${detail}`))
        )
    )
  )

/**
 * A flag taking a positive duration (`--timeout`, `--idle-timeout`, …): seconds, or amounts with units (`2m`), as
 * a `Duration`; `atLeast` picks a stricter rule (`--poll-interval`'s floor).
 *
 * @since 0.1.0
 * @category constructors
 */
export const seconds = (
  name: string,
  description: string,
  atLeast: (checks: Checks) => (value: unknown) => Either.Either<Duration.Duration, string> = (checks) =>
    checks.duration({ positive: true })
): Options.Options<Duration.Duration> =>
  Options.text(name).pipe(
    Options.withPseudoName("DURATION"),
    checked(name, atLeast),
    Options.withDescription(description)
  )

/**
 * A flag taking a whole number from `min` to `max` (`--limit`, `--concurrency`, …).
 *
 * @since 0.1.0
 * @category constructors
 */
export const wholeNumber = (name: string, min: number, max: number, description: string): Options.Options<number> =>
  Options.text(name).pipe(
    Options.withPseudoName("N"),
    checked(name, (checks) => checks.wholeNumber(min, max)),
    Options.withDescription(description)
  )

/**
 * A flag's default, applied and shown at the end of its description (`(default 2)`): one place for both.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withDefault =
  <A>(value: A, shown: string) =>
  (self: Options.Options<A>): Options.Options<A> =>
    self.pipe(Options.withDefault(value), Options.withDescription(`(default ${shown})`))

/**
 * `--base-url URL`: the API origin.
 *
 * @since 0.1.0
 * @category constructors
 */
export const baseUrl: Options.Options<Option.Option<string>> = Options.text("base-url").pipe(
  Options.withPseudoName("URL"),
  Options.withDescription("The API origin, default $BATCH_API_URL or https://api.batch.com"),
  Options.optional
)

/**
 * `--api-version V`: the version segment of the API's paths.
 *
 * @since 0.1.0
 * @category constructors
 */
export const apiVersion: Options.Options<Option.Option<string>> = Options.text("api-version").pipe(
  Options.withPseudoName("V"),
  Options.withDescription("The API version segment, default $BATCH_API_VERSION or 2.10"),
  Options.optional
)

/**
 * `--idle-timeout DURATION`: how long a download may go without receiving a byte.
 *
 * @since 0.1.0
 * @category constructors
 */
export const idleTimeout: Options.Options<Option.Option<Duration.Duration>> = seconds(
  "idle-timeout",
  "Give up when no bytes arrive for this long, default $BATCH_IDLE_TIMEOUT or 30"
).pipe(Options.optional)

/**
 * `--json`: machine output on stdout (and errors as one JSON object on stderr).
 *
 * @since 0.1.0
 * @category constructors
 */
export const json: Options.Options<boolean> = Options.boolean("json").pipe(
  Options.withDescription("Print one JSON document a line on stdout, and errors as one JSON line on stderr")
)

/**
 * `--quiet` / `-q`: no progress display.
 *
 * @since 0.1.0
 * @category constructors
 */
export const quiet: Options.Options<boolean> = Options.boolean("quiet").pipe(
  Options.withAlias("q"),
  Options.withDescription("No progress display (errors are still printed)")
)

/**
 * A flag taking a size in bytes, at least `min`: digits with an optional 1024-based unit (`512K`, `100M`, `1G`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const size = (name: string, min: number, description: string): Options.Options<number> =>
  Options.text(name).pipe(
    Options.withPseudoName("SIZE"),
    checked(name, (checks) => checks.size(min)),
    Options.withDescription(description)
  )

/**
 * `--max-size SIZE`: refuse a file larger than this (like curl's `--max-filesize`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const maxSize: Options.Options<Option.Option<number>> = size(
  "max-size",
  1,
  "Fail a file larger than this (1024-based K/M/G allowed), keeping nothing of it"
).pipe(Options.optional)

/**
 * `--poll-interval DURATION`: the time between two looks at an export being waited for (default 5 s, at least
 * 1 s: Batch rate-limits its API).
 *
 * @since 0.1.0
 * @category constructors
 */
export const pollInterval: Options.Options<Duration.Duration> = seconds(
  "poll-interval",
  "Time between two looks at the export (seconds, or 30s, 2m), at least 1s: Batch rate-limits its API",
  (checks) => checks.pollInterval
).pipe(withDefault(toDuration(5), "5"))

/**
 * `--timeout DURATION`: give up waiting for an export after this long (the client's default, 2 hours, when
 * absent).
 *
 * @since 0.1.0
 * @category constructors
 */
export const timeout: Options.Options<Option.Option<Duration.Duration>> = seconds(
  "timeout",
  "Give up when the export is not done after this long (default 2 hours)"
).pipe(Options.optional)

/**
 * `--wait`: wait until the export is `SUCCESS` first (as `fetch` always does), instead of failing with
 * `ExportNotReady` (or Batch's 409) while it runs.
 *
 * @since 0.1.0
 * @category constructors
 */
export const wait: Options.Options<boolean> = Options.boolean("wait").pipe(
  Options.withDescription(
    "Wait until the export is done (as fetch does; see --poll-interval, --timeout) instead of failing while it runs"
  )
)

/**
 * `--listen HOST:PORT` (or `$BATCH_EXPORT_LISTEN`): where a cluster node listens for its peers.
 *
 * @since 0.1.0
 * @category constructors
 */
export const listen: Options.Options<Option.Option<string>> = Options.text("listen").pipe(
  Options.withPseudoName("HOST:PORT"),
  Options.withDescription(
    "Where this node listens for the other nodes of the cluster (Postgres only), default $BATCH_EXPORT_LISTEN or " +
      "127.0.0.1 on a free port"
  ),
  Options.optional
)

/**
 * `--advertise HOST:PORT` (or `$BATCH_EXPORT_ADVERTISE`): where the other nodes reach this one.
 *
 * @since 0.1.0
 * @category constructors
 */
export const advertise: Options.Options<Option.Option<string>> = Options.text("advertise").pipe(
  Options.withPseudoName("HOST:PORT"),
  Options.withDescription(
    "Where the other nodes reach this one, default $BATCH_EXPORT_ADVERTISE or the listen address (the host " +
      "name when listening on 0.0.0.0)"
  ),
  Options.optional
)

/**
 * `--shards N` (or `$BATCH_EXPORT_SHARDS`): shards per group; every node of a cluster uses the same.
 *
 * @since 0.1.0
 * @category constructors
 */
export const shards: Options.Options<Option.Option<number>> = wholeNumber(
  "shards",
  1,
  100_000,
  "Shards per group, the same on every node (recorded in the database by the first), default " +
    "$BATCH_EXPORT_SHARDS or 300"
).pipe(Options.optional)
