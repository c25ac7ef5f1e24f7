/**
 * How a failed command ends: exactly one line on stderr naming the error (its `_tag`, and through its
 * message the HTTP status and Batch's `error_code`/`error_message`), no stack trace, no structured dump,
 * never the REST API key; then a non-zero exit code.
 *
 * @since 0.1.0
 */
import { Redaction } from "@batch-export/core"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

/**
 * The process exit codes of `batch-export`.
 *
 * @since 0.1.0
 * @category models
 */
export const ExitCode = {
  success: 0,
  /** A command failed (HTTP error, transport, configuration, file…). */
  failure: 1,
  /** The command line did not parse; @effect/cli has printed why. */
  usage: 2,
  /** Interrupted (Ctrl-C). */
  interrupted: 130
} as const

/**
 * @since 0.1.0
 * @category models
 */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

const MAX_LENGTH = 600

/** One line: control characters (newlines, ANSI escapes from a server) become spaces; long text is cut. */
const oneLine = (text: string): string => {
  const flat = text
    .replace(/[\x00-\x1f\x7f]+/g, " ")
    .replace(/\s+/g, " ")
    .trim()
  return flat.length > MAX_LENGTH ? `${flat.slice(0, MAX_LENGTH - 1)}…` : flat
}

/** Effect's own validators end with "but received <value>": the value is dropped, never printed. */
const withoutValue = (message: string): string => message.replace(/\s*but received[\s\S]*$/, "")

/** `["BATCH_PROJECT_KEY", "BATCH_PROJECT_KEY"]` (a validator that names its variable, under `Config.string`) → one. */
const variable = (path: ReadonlyArray<string>): string => path.filter((segment, i) => segment !== path[i - 1]).join(".")

const configLeaves = (error: ConfigError.ConfigError): ReadonlyArray<string> => {
  switch (error._op) {
    case "And":
    case "Or":
      return [...configLeaves(error.left), ...configLeaves(error.right)]
    case "MissingData":
      return [`${variable(error.path)} is not set`]
    case "InvalidData":
      return [`${variable(error.path)} is invalid: ${withoutValue(error.message)}`]
    case "SourceUnavailable":
    case "Unsupported":
      return [`${variable(error.path)}: ${withoutValue(error.message)}`]
  }
}

const messageOf = (error: object): string => {
  const message = "message" in error && typeof error.message === "string" ? error.message : ""
  if (message !== "") return message
  // e.g. @effect/platform's ServeError has no message of its own, only a cause (EADDRINUSE …)
  const cause = "cause" in error ? error.cause : undefined
  return cause instanceof Error ? cause.message : ""
}

/**
 * The text naming an error, e.g. `Unauthorized: GET /exports/download answered HTTP 401 AUTHENTICATION_INVALID:
 * …` or `ConfigError: BATCH_REST_API_KEY is not set`. Always a single line.
 *
 * @since 0.1.0
 * @category rendering
 */
export const describe = (error: unknown): string => {
  if (ConfigError.isConfigError(error)) {
    return oneLine(`ConfigError: ${[...new Set(configLeaves(error))].join("; ")}`)
  }
  if (typeof error === "object" && error !== null) {
    const tag = "_tag" in error && typeof error._tag === "string" ? error._tag : undefined
    const name = tag ?? (error instanceof Error ? error.name : "Error")
    const message = messageOf(error)
    return oneLine(message === "" ? name : `${name}: ${message}`)
  }
  return oneLine(`Error: ${String(error)}`)
}

/**
 * The one line printed for a failure cause, or `None` when nothing should be printed: @effect/cli has already
 * printed its own message for a command line that does not parse, and an interruption needs none.
 *
 * @since 0.1.0
 * @category rendering
 */
export const lineOf = (cause: Cause.Cause<unknown>): Option.Option<string> =>
  Option.match(Cause.failureOption(cause), {
    onSome: (error) => (ValidationError.isValidationError(error) ? Option.none() : Option.some(describe(error))),
    // a defect's text comes from code we do not control: URLs in it (a signed link…) are cut to their origin
    onNone: () => Option.map(Cause.dieOption(cause), (defect) => `unexpected ${Redaction.scrub(describe(defect))}`)
  })

/**
 * The exit code for a failure cause.
 *
 * @since 0.1.0
 * @category rendering
 */
export const exitCodeOf = (cause: Cause.Cause<unknown>): ExitCode => {
  if (Cause.isInterruptedOnly(cause)) return ExitCode.interrupted
  return Option.match(Cause.failureOption(cause), {
    onSome: (error) => (ValidationError.isValidationError(error) ? ExitCode.usage : ExitCode.failure),
    onNone: () => ExitCode.failure
  })
}

/** Belt and braces: whatever the line says, the REST key from the environment is masked. */
const restApiKey = Config.option(Config.redacted("BATCH_REST_API_KEY")).pipe(
  Effect.map(Option.map(Redacted.value)),
  Effect.orElseSucceed(() => Option.none<string>())
)

const mask = (line: string, secret: Option.Option<string>): string =>
  Option.match(secret, {
    onNone: () => line,
    onSome: (key) => (key.length < 4 ? line : line.split(key).join("<redacted>"))
  })

/**
 * Prints the failure's one line on stderr (`error: <Tag>: <message>`) and returns its exit code.
 *
 * @since 0.1.0
 * @category reporting
 */
export const report = (cause: Cause.Cause<unknown>): Effect.Effect<ExitCode> =>
  Effect.gen(function* () {
    const line = lineOf(cause)
    if (Option.isSome(line)) {
      yield* Console.error(`error: ${mask(line.value, yield* restApiKey)}`)
    }
    return exitCodeOf(cause)
  })
