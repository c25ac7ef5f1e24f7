/**
 * The command-line flags shared by the commands, and the generic builders for the others. Every duration is
 * given in plain seconds on the command line and turned into a `Duration` here, once (`toDuration`).
 *
 * @since 0.1.0
 */
import * as Options from "@effect/cli/Options"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"

/**
 * Seconds (a flag's value) as a `Duration`, to the millisecond.
 *
 * @since 0.1.0
 * @category combinators
 */
export const toDuration = (seconds: number): Duration.Duration => Duration.millis(Math.round(seconds * 1000))

/**
 * A flag taking a number of seconds that must be positive (`--poll-interval`, `--timeout`, …), as a `Duration`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const seconds = (name: string, description: string): Options.Options<Duration.Duration> =>
  Options.float(name).pipe(
    Options.withPseudoName("SECONDS"),
    Options.filterMap(
      (value) => (value > 0 && Number.isFinite(value) ? Option.some(toDuration(value)) : Option.none()),
      `--${name} must be a positive number of seconds`
    ),
    Options.withDescription(description)
  )

/**
 * A flag taking a whole number from `min` to `max` (`--limit`, `--concurrency`, …).
 *
 * @since 0.1.0
 * @category constructors
 */
export const wholeNumber = (name: string, min: number, max: number, description: string): Options.Options<number> =>
  Options.integer(name).pipe(
    Options.withPseudoName("N"),
    Options.filterMap(
      (n) => (n >= min && n <= max ? Option.some(n) : Option.none()),
      max === Number.MAX_SAFE_INTEGER
        ? `--${name} must be a whole number of at least ${min}`
        : `--${name} must be a whole number from ${min} to ${max}`
    ),
    Options.withDescription(description)
  )

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
 * `--idle-timeout SECONDS`: how long a download may go without receiving a byte.
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
  Options.withDescription("Print JSON on stdout instead of text, and errors as one JSON object on stderr")
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
 * `--max-size BYTES`: refuse a file larger than this (like curl's `--max-filesize`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const maxSize: Options.Options<Option.Option<number>> = wholeNumber(
  "max-size",
  1,
  Number.MAX_SAFE_INTEGER,
  "Fail at the first byte past this many in a file, keeping nothing of that file (fetch keeps no part to continue)"
).pipe(Options.withPseudoName("BYTES"), Options.optional)
