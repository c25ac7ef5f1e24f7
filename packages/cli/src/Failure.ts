/**
 * How a failed command ends: exactly one line on stderr naming the error (its `_tag`, and through its
 * message the HTTP status and Batch's `error_code`/`error_message`), no stack trace, no structured dump,
 * never the REST API key; then a non-zero exit code.
 *
 * @since 0.1.0
 */
import { Redaction } from "@batch-export/core"
import { BatchConfig } from "@batch-export/node"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as exit from "./internal/exit.js"
import { jsonText } from "./internal/output.js"

/**
 * The process exit codes of `batch-export`: 0 success, 1 failure (trying later may help), 2 usage (the command
 * line did not parse, or the client refused a value in it: `InvalidArgument`), 3 unauthorized (Batch refused the
 * REST API key), 129/130/143 hung up, interrupted, terminated.
 *
 * @since 0.1.0
 * @category models
 */
export const ExitCode = exit.ExitCode

/**
 * The exit codes as `--help` and the README list them.
 *
 * @since 0.1.0
 * @category rendering
 */
export const exitCodesHelp: ReadonlyArray<string> = exit.exitCodesHelp

/**
 * A command line that parsed but makes no sense (a bare `create`, flags that exclude each other): exit 2,
 * like a command line that does not parse.
 *
 * @since 0.1.0
 * @category errors
 */
export const UsageError = exit.UsageError

/**
 * @since 0.1.0
 * @category errors
 */
export type UsageError = exit.UsageError

/**
 * @since 0.1.0
 * @category models
 */
export type ExitCode = exit.ExitCode

const MAX_LENGTH = 600

/** One line: control characters (newlines, ANSI escapes, C1, bidi controls from a server) go; spaces collapse. */
const oneLine = (text: string): string => Redaction.sanitize(text).replace(/\s+/g, " ").trim()

/** Long text is cut, after masking: a cut first could leave the start of an echoed key unmasked. */
const cut = (line: string): string => (line.length > MAX_LENGTH ? `${line.slice(0, MAX_LENGTH - 1)}…` : line)

const messageOf = (error: object): string => {
  const message = "message" in error && typeof error.message === "string" ? error.message : ""
  if (message !== "") return message
  // e.g. @effect/platform's ServeError has no message of its own, only a cause (EADDRINUSE …)
  const cause = "cause" in error ? error.cause : undefined
  return cause instanceof Error ? cause.message : ""
}

/**
 * An error's name (its `_tag`) and its message, each on one line.
 *
 * @since 0.1.0
 * @category models
 */
export interface Description {
  readonly name: string
  readonly message: string
}

/**
 * The name and message of an error, e.g. `Unauthorized` and `GET /exports/download answered HTTP 401
 * AUTHENTICATION_INVALID: …`, or `ConfigError` and `BATCH_REST_API_KEY is not set`.
 *
 * @since 0.1.0
 * @category rendering
 */
export const descriptionOf = (error: unknown): Description => {
  if (ConfigError.isConfigError(error)) {
    // the library's one rendering of configuration errors (names the variable, never its value)
    return { name: "ConfigError", message: oneLine(BatchConfig.formatConfigError(error)) }
  }
  if (typeof error === "object" && error !== null) {
    const tag = "_tag" in error && typeof error._tag === "string" ? error._tag : undefined
    return { name: oneLine(tag ?? (error instanceof Error ? error.name : "Error")), message: oneLine(messageOf(error)) }
  }
  return { name: "Error", message: oneLine(String(error)) }
}

/**
 * The text naming an error: `<name>: <message>`, always a single line.
 *
 * @since 0.1.0
 * @category rendering
 */
export const describe = (error: unknown): string => {
  const { message, name } = descriptionOf(error)
  return message === "" ? name : `${name}: ${message}`
}

/** The failure a cause carries, unless it is @effect/cli's own (it has printed its message already). */
const failureOf = (cause: Cause.Cause<unknown>): Option.Option<unknown> =>
  Option.filter(Cause.failureOption(cause), (error) => !ValidationError.isValidationError(error))

/**
 * The one line printed for a failure cause (before masking and cutting, see `report`), or `None` when nothing
 * should be printed: @effect/cli has already printed its own message for a command line that does not parse,
 * and an interruption needs none.
 *
 * @since 0.1.0
 * @category rendering
 */
export const lineOf = (cause: Cause.Cause<unknown>): Option.Option<string> =>
  Option.match(failureOf(cause), {
    onSome: (error) => Option.some(describe(error)),
    // a defect's text comes from code we do not control: URLs in it (a signed link…) are cut to their origin
    onNone: () => Option.map(Cause.dieOption(cause), (defect) => `unexpected ${Redaction.scrub(describe(defect))}`)
  })

/**
 * The exit code for a failure cause: 3 for a refused REST key (401), 2 for a command line that does not
 * parse or a value the client refused (`InvalidArgument`), 130 for an interruption, 1 for anything else.
 *
 * @since 0.1.0
 * @category rendering
 */
export const exitCodeOf: (cause: Cause.Cause<unknown>) => ExitCode = exit.exitCodeOf

/** Belt and braces: whatever the line says, the REST key from the environment is masked. */
const restApiKey = Config.option(Config.redacted("BATCH_REST_API_KEY")).pipe(
  Effect.map(Option.map(Redacted.value)),
  Effect.orElseSucceed(() => Option.none<string>())
)

/**
 * `line` with every occurrence of `secret` replaced by `<redacted>`, by the library's rule (`Redaction.mask`:
 * also percent-encoded or in another letter case; a secret shorter than 4 characters is not searched for).
 *
 * @since 0.1.0
 * @category rendering
 */
export const mask = (line: string, secret: Option.Option<string>): string =>
  Redaction.mask(line, Option.toArray(secret))

/**
 * How `report` prints: a plain line, a red `error:` (a terminal without `NO_COLOR`), or one JSON object
 * (`--json`).
 *
 * @since 0.1.0
 * @category models
 */
export type Format = "plain" | "color" | "json"

const errorFields = (error: unknown): Record<string, unknown> => {
  if (typeof error !== "object" || error === null) return {}
  const fields: Record<string, unknown> = {}
  if ("status" in error && typeof error.status === "number") fields["status"] = error.status
  if ("errorCode" in error && typeof error.errorCode === "string") fields["errorCode"] = error.errorCode
  return fields
}

/**
 * Prints the failure on stderr and returns its exit code: one line `error: <Tag>: <message>` (the REST key
 * masked, then cut at 600 characters), or under `--json` one JSON object
 * `{"error":"<Tag>","message":"…","exitCode":n}` (with `status` and `errorCode` for an HTTP error).
 *
 * @since 0.1.0
 * @category rendering
 */
export const report = (cause: Cause.Cause<unknown>, format: Format = "plain"): Effect.Effect<ExitCode> =>
  Effect.gen(function* () {
    const exitCode = exitCodeOf(cause)
    const line = lineOf(cause)
    if (Option.isNone(line)) return exitCode
    const key = yield* restApiKey
    const text = cut(mask(line.value, key))
    if (format === "json") {
      const failure = failureOf(cause)
      const error = Option.getOrElse(failure, () => Cause.squash(cause))
      const { message, name } = descriptionOf(error)
      // as in `lineOf`: a defect's text may hold URLs (a signed link…), cut to their origin
      const shown = cut(mask(Option.isSome(failure) ? message : Redaction.scrub(message), key))
      yield* Console.error(jsonText({ error: name, message: shown, exitCode, ...errorFields(error) }))
    } else {
      yield* Console.error(`${format === "color" ? "\x1b[31merror:\x1b[0m" : "error:"} ${text}`)
    }
    return exitCode
  })
